/**
 * Range walks over a block map: device ranges to chunk segments, image ranges to extents, and
 * the stored chunks in a range of chunk indexes. core.wasm walks page by page and fills the io
 * area; when it is full the walk resumes from where it stopped, merging runs at the seam.
 */
import type { EntryKind } from "./entries";
import { KINDS } from "./entries";
import { deviceSize, type DeviceGeometry } from "./geometry";
import { checkCount, chunkShift } from "./numbers";
import type { CoreMemory } from "./wasm";

export interface Segment {
  /** Byte offset of this segment from the start of the device. */
  deviceOffset: number;
  chunkIndex: number;
  /** Byte offset inside that chunk. */
  chunkOffset: number;
  length: number;
  kind: EntryKind;
  /** 0 unless stored. */
  chunkId: number;
}

/** Offsets in image bytes. */
export interface Extent {
  offset: number;
  length: number;
  kind: EntryKind;
}

/** Record sizes of assembly/walks.ts, in f64 slots. */
const SEGMENT_FIELDS = 6;
const EXTENT_FIELDS = 3;
const STORED_FIELDS = 2;

/** Segments of device bytes [start, start+length), clipped at the device size. */
export function translateRange(
  core: CoreMemory,
  imageId: number,
  chunkSize: number,
  g: DeviceGeometry,
  start: number,
  length: number,
): Segment[] {
  checkCount(imageId, "imageId");
  const shift = chunkShift(chunkSize);
  const size = deviceSize(g);
  checkCount(start, "start");
  checkCount(length, "length");
  const end = Math.min(start + length, size);
  const segments: Segment[] = [];
  if (start >= end) return segments;

  const capacity = Math.floor(core.exports.ioCapacity() / (SEGMENT_FIELDS * 8));
  const imageEnd = g.offset + end;
  let pos = g.offset + start;
  while (pos < imageEnd) {
    const n = core.exports.translateRange(imageId, shift, pos, imageEnd, g.offset, capacity);
    pos = core.exports.walkResume();
    const f64 = core.f64;
    const first = core.ioPtr / 8;
    for (let i = 0; i < n; i++) {
      const r = first + i * SEGMENT_FIELDS;
      const kind = KINDS[f64[r + 4]];
      const last = segments[segments.length - 1];
      if (i === 0 && kind === "hole" && last?.kind === "hole") {
        last.length += f64[r + 3];
        continue;
      }
      segments.push({
        deviceOffset: f64[r],
        chunkIndex: f64[r + 1],
        chunkOffset: f64[r + 2],
        length: f64[r + 3],
        kind,
        chunkId: f64[r + 5],
      });
    }
  }
  return segments;
}

/** Runs of one kind over image bytes [start, start+length), clipped at the image size. */
export function extentsOf(
  core: CoreMemory,
  imageId: number,
  chunkSize: number,
  imageSize: number,
  start: number,
  length: number,
): Extent[] {
  checkCount(imageId, "imageId");
  const shift = chunkShift(chunkSize);
  checkCount(imageSize, "imageSize");
  checkCount(start, "start");
  checkCount(length, "length");
  const end = Math.min(start + length, imageSize);
  const extents: Extent[] = [];

  const capacity = Math.floor(core.exports.ioCapacity() / (EXTENT_FIELDS * 8));
  let pos = start;
  while (pos < end) {
    const n = core.exports.extentRuns(imageId, shift, pos, end, capacity);
    pos = core.exports.walkResume();
    const f64 = core.f64;
    const first = core.ioPtr / 8;
    for (let i = 0; i < n; i++) {
      const r = first + i * EXTENT_FIELDS;
      const kind = KINDS[f64[r + 2]];
      const last = extents[extents.length - 1];
      if (i === 0 && last?.kind === kind) {
        last.length += f64[r + 1];
        continue;
      }
      extents.push({ offset: f64[r], length: f64[r + 1], kind });
    }
  }
  return extents;
}

/** Every stored entry with fromChunk <= chunkIndex < toChunk, ascending. */
export function storedChunksOf(
  core: CoreMemory,
  imageId: number,
  fromChunk: number,
  toChunk: number,
): { chunkIndex: number; chunkId: number }[] {
  checkCount(imageId, "imageId");
  checkCount(fromChunk, "fromChunk");
  checkCount(toChunk, "toChunk");
  const chunks: { chunkIndex: number; chunkId: number }[] = [];

  const capacity = Math.floor(core.exports.ioCapacity() / (STORED_FIELDS * 8));
  let chunk = fromChunk;
  while (chunk < toChunk) {
    const n = core.exports.storedRange(imageId, chunk, toChunk, capacity);
    chunk = core.exports.walkResume();
    const f64 = core.f64;
    const first = core.ioPtr / 8;
    for (let i = 0; i < n; i++) {
      chunks.push({ chunkIndex: f64[first + i * 2], chunkId: f64[first + i * 2 + 1] });
    }
  }
  return chunks;
}
