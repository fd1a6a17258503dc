/**
 * Block maps of all images of one instance, through one bounded page cache in core.wasm.
 *
 * Pages load synchronously through the PageStore on a miss; changed pages stay in the cache
 * until takeDirty() hands them to the caller, who writes them in the same commit.
 */
import {
  checkEntry,
  KIND_CODE,
  readEntry,
  SHA256_BYTES,
  viewEntry,
  type MapEntry,
} from "./entries";
import { PAGE_BYTES } from "./limits";
import { checkCount } from "./numbers";
import { extentsOf, storedChunksOf, translateRange, type Extent, type Segment } from "./walks";
import type { DeviceGeometry } from "./geometry";
import type { CoreMemory } from "./wasm";

/**
 * Where map pages live (the Durable Object's SQLite). load answers null for a page never stored
 * (all holes). It runs synchronously inside a core call, so it must not call back into the core.
 */
export interface PageStore {
  load(imageId: number, page: number): Uint8Array | null;
}

/** bytes null: the page is all holes now, so its row can be deleted. */
export interface DirtyPage {
  imageId: number;
  page: number;
  bytes: Uint8Array | null;
}

export interface MapUpdate {
  chunkIndex: number;
  /** Chunk id the entry must hold now (0 for a hole or parent); null applies unconditionally. */
  expectChunkId: number | null;
  entry: MapEntry;
}

export type CompareAndSwapResult =
  { ok: true; replaced: MapEntry[] } | { ok: false; conflicts: number[] };

/** Layout of one compare-and-swap record in the io area (assembly/maps.ts). */
const CAS_RECORD_BYTES = 64;
const NO_EXPECTATION = -1;

const EMPTY_STORE: PageStore = { load: () => null };

export class BlockMaps {
  private store: PageStore = EMPTY_STORE;

  constructor(
    private readonly core: CoreMemory,
    private readonly slots: number,
  ) {}

  /** Until a store is set, every page reads as never stored. */
  setPageStore(store: PageStore): void {
    this.store = store;
  }

  /** Used by the page-load import of core.wasm. */
  get pageStore(): PageStore {
    return this.store;
  }

  get(imageId: number, chunkIndex: number): MapEntry {
    checkCount(imageId, "imageId");
    checkCount(chunkIndex, "chunkIndex");
    const kind = this.core.exports.getEntry(imageId, chunkIndex);
    const io = this.core.ioPtr;
    return readEntry(kind, this.core.f64[io / 8], this.core.u8, io + 8);
  }

  /**
   * All or nothing: applies every update, or none and names the chunks whose id differed.
   * A chunk may appear once per batch (EINVAL otherwise).
   */
  compareAndSwap(imageId: number, updates: MapUpdate[]): CompareAndSwapResult {
    checkCount(imageId, "imageId");
    for (const u of updates) {
      checkCount(u.chunkIndex, "chunkIndex");
      if (u.expectChunkId !== null) checkCount(u.expectChunkId, "expectChunkId");
      checkEntry(u.entry);
    }

    const n = updates.length;
    this.core.reserveIo(n * (CAS_RECORD_BYTES + 8));
    const io = this.core.ioPtr;
    const u8 = this.core.u8;
    const f64 = this.core.f64;
    for (let i = 0; i < n; i++) {
      const { chunkIndex, expectChunkId, entry } = updates[i];
      const rec = io + i * CAS_RECORD_BYTES;
      f64[rec / 8] = chunkIndex;
      f64[rec / 8 + 1] = expectChunkId ?? NO_EXPECTATION;
      f64[rec / 8 + 2] = KIND_CODE[entry.kind];
      f64[rec / 8 + 3] = entry.chunkId;
      if (entry.sha256 !== null) u8.set(entry.sha256, rec + 32);
      else u8.fill(0, rec + 32, rec + 32 + SHA256_BYTES);
    }

    const result = this.core.exports.compareAndSwap(imageId, n);
    const out = this.core.f64;
    if (result < 0) {
      const first = (io + n * CAS_RECORD_BYTES) / 8;
      return { ok: false, conflicts: Array.from(out.subarray(first, first - result)) };
    }
    // One copy of all records; each replaced digest is a view into it.
    const records = this.core.u8.slice(io, io + n * CAS_RECORD_BYTES);
    const replaced: MapEntry[] = [];
    for (let i = 0; i < n; i++) {
      const rec = io / 8 + i * (CAS_RECORD_BYTES / 8);
      const at = i * CAS_RECORD_BYTES + 32;
      replaced.push(viewEntry(out[rec + 2], out[rec + 3], records.subarray(at, at + SHA256_BYTES)));
    }
    return { ok: true, replaced };
  }

  /** Pages changed since the last call, encoded for the store; marks them clean. */
  takeDirty(): DirtyPage[] {
    const wasm = this.core.exports;
    const pages: DirtyPage[] = [];
    for (let slot = wasm.nextDirtySlot(0); slot >= 0; slot = wasm.nextDirtySlot(slot + 1)) {
      const len = wasm.encodeSlot(slot);
      const at = this.core.transferPtr;
      pages.push({
        imageId: wasm.slotImageOf(slot),
        page: wasm.slotPageOf(slot),
        bytes: len === 0 ? null : this.core.u8.slice(at, at + len),
      });
      wasm.markClean(slot);
    }
    return pages;
  }

  /** Forgets the cached pages of an image, changed or not (image deleted, or a flush failed). */
  drop(imageId: number): void {
    checkCount(imageId, "imageId");
    this.core.exports.dropPages(imageId);
  }

  translate(
    imageId: number,
    chunkSize: number,
    g: DeviceGeometry,
    start: number,
    length: number,
  ): Segment[] {
    return translateRange(this.core, imageId, chunkSize, g, start, length);
  }

  extents(
    imageId: number,
    chunkSize: number,
    imageSize: number,
    start: number,
    length: number,
  ): Extent[] {
    return extentsOf(this.core, imageId, chunkSize, imageSize, start, length);
  }

  storedChunks(
    imageId: number,
    fromChunk: number,
    toChunk: number,
  ): { chunkIndex: number; chunkId: number }[] {
    return storedChunksOf(this.core, imageId, fromChunk, toChunk);
  }

  stats(): { cachedPages: number; cacheBytes: number; capacityBytes: number } {
    const cachedPages = this.core.exports.cachedPages();
    return {
      cachedPages,
      cacheBytes: cachedPages * PAGE_BYTES,
      capacityBytes: this.slots * PAGE_BYTES,
    };
  }
}
