/**
 * Walks over a byte range of an image, page by page, so a range of any size needs one cached
 * page at a time. Runs of holes are found with a v128 scan of the page's chunk ids.
 */
import { beginOperation, pageSlot, readablePage } from "./cache";
import { ioPtr, PAGE_ENTRIES, PAGE_SHIFT, PARENT_ID } from "./layout";
import { KIND_HOLE, KIND_PARENT, KIND_STORED } from "./maps";
import { firstNonZeroWord } from "./zero";

const ENTRY_MASK: u64 = <u64>PAGE_ENTRIES - 1;

let resumeAt: f64 = 0;

/** Where the last walk stopped: the image byte (or chunk index) to continue from. */
export function walkResume(): f64 {
  return resumeAt;
}

/*
 * Segment record, 6 × f64 = 48 bytes:
 *   device offset │ chunk index │ offset in chunk │ length │ kind │ chunk id
 */
export const SEGMENT_RECORD_BYTES: u32 = 48;

/**
 * Segments of image bytes [start, end) for a device that starts at image byte `base`. Holes
 * coalesce, also across chunks and pages; stored and parent chunks get one segment each.
 */
export function translateRange(
  imageF: f64,
  shift: u32,
  startF: f64,
  endF: f64,
  baseF: f64,
  capacity: u32,
): u32 {
  beginOperation();
  const image = <u64>imageF;
  const end = <u64>endF;
  const base = <u64>baseF;
  const chunkMask: u64 = ((<u64>1) << shift) - 1;
  let pos = <u64>startF;
  let n: u32 = 0;
  let holeOpen = false;

  while (pos < end) {
    const chunk = pos >> shift;
    const pageNo = chunk >> PAGE_SHIFT;
    const page = readablePage(pageSlot(image, pageNo, false));
    const index = <u32>(chunk & ENTRY_MASK);
    const id = load<u64>(page + ((<usize>index) << 3));

    if (id == 0) {
      const next = firstNonZeroWord(page, index, PAGE_ENTRIES);
      let runEnd = ((pageNo << PAGE_SHIFT) + next) << shift;
      if (runEnd > end) runEnd = end;
      if (holeOpen) {
        const rec = ioPtr + <usize>(n - 1) * SEGMENT_RECORD_BYTES;
        store<f64>(rec, load<f64>(rec, 24) + <f64>(runEnd - pos), 24);
      } else {
        if (n == capacity) break;
        writeSegment(n, pos - base, chunk, pos & chunkMask, runEnd - pos, KIND_HOLE, 0);
        n++;
        holeOpen = true;
      }
      pos = runEnd;
      continue;
    }

    if (n == capacity) break;
    let segEnd = (chunk + 1) << shift;
    if (segEnd > end) segEnd = end;
    const kind = id == PARENT_ID ? KIND_PARENT : KIND_STORED;
    const chunkId: f64 = kind == KIND_STORED ? <f64>id : 0;
    writeSegment(n, pos - base, chunk, pos & chunkMask, segEnd - pos, kind, chunkId);
    n++;
    holeOpen = false;
    pos = segEnd;
  }
  resumeAt = <f64>pos;
  return n;
}

function writeSegment(
  n: u32,
  deviceOffset: u64,
  chunk: u64,
  chunkOffset: u64,
  length: u64,
  kind: u32,
  chunkId: f64,
): void {
  const rec = ioPtr + <usize>n * SEGMENT_RECORD_BYTES;
  store<f64>(rec, <f64>deviceOffset);
  store<f64>(rec, <f64>chunk, 8);
  store<f64>(rec, <f64>chunkOffset, 16);
  store<f64>(rec, <f64>length, 24);
  store<f64>(rec, <f64>kind, 32);
  store<f64>(rec, chunkId, 40);
}

/** Extent record, 3 × f64 = 24 bytes: offset │ length │ kind. */
export const EXTENT_RECORD_BYTES: u32 = 24;

/** Runs of one kind over image bytes [start, end), adjacent runs of the same kind merged. */
export function extentRuns(imageF: f64, shift: u32, startF: f64, endF: f64, capacity: u32): u32 {
  beginOperation();
  const image = <u64>imageF;
  const end = <u64>endF;
  let pos = <u64>startF;
  let n: u32 = 0;
  let lastKind: u32 = 0xffffffff;

  while (pos < end) {
    const chunk = pos >> shift;
    const pageNo = chunk >> PAGE_SHIFT;
    const page = readablePage(pageSlot(image, pageNo, false));
    const index = <u32>(chunk & ENTRY_MASK);
    const id = load<u64>(page + ((<usize>index) << 3));

    let kind = KIND_HOLE;
    let runEnd: u64;
    if (id == 0) {
      runEnd = ((pageNo << PAGE_SHIFT) + firstNonZeroWord(page, index, PAGE_ENTRIES)) << shift;
    } else {
      kind = id == PARENT_ID ? KIND_PARENT : KIND_STORED;
      runEnd = (chunk + 1) << shift;
    }
    if (runEnd > end) runEnd = end;

    if (kind == lastKind) {
      const rec = ioPtr + <usize>(n - 1) * EXTENT_RECORD_BYTES;
      store<f64>(rec, load<f64>(rec, 8) + <f64>(runEnd - pos), 8);
    } else {
      if (n == capacity) break;
      const rec = ioPtr + <usize>n * EXTENT_RECORD_BYTES;
      store<f64>(rec, <f64>pos);
      store<f64>(rec, <f64>(runEnd - pos), 8);
      store<f64>(rec, <f64>kind, 16);
      n++;
      lastKind = kind;
    }
    pos = runEnd;
  }
  resumeAt = <f64>pos;
  return n;
}

/** Stored-chunk record, 2 × f64: chunk index │ chunk id. */
export const STORED_RECORD_BYTES: u32 = 16;

/** Every stored entry with from <= chunk index < to. */
export function storedRange(imageF: f64, fromF: f64, toF: f64, capacity: u32): u32 {
  beginOperation();
  const image = <u64>imageF;
  const to = <u64>toF;
  let chunk = <u64>fromF;
  let n: u32 = 0;

  while (chunk < to) {
    const pageNo = chunk >> PAGE_SHIFT;
    const page = readablePage(pageSlot(image, pageNo, false));
    const first = pageNo << PAGE_SHIFT;
    let pageEnd = first + PAGE_ENTRIES;
    if (pageEnd > to) pageEnd = to;
    const stop = <u32>(pageEnd - first);

    let i = firstNonZeroWord(page, <u32>(chunk - first), stop);
    while (i < stop) {
      const id = load<u64>(page + ((<usize>i) << 3));
      if (id != PARENT_ID) {
        if (n == capacity) {
          resumeAt = <f64>(first + i);
          return n;
        }
        const rec = ioPtr + <usize>n * STORED_RECORD_BYTES;
        store<f64>(rec, <f64>(first + i));
        store<f64>(rec, <f64>id, 8);
        n++;
      }
      i = firstNonZeroWord(page, i + 1, stop);
    }
    chunk = pageEnd;
  }
  resumeAt = <f64>to;
  return n;
}
