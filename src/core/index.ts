/**
 * Typed face of core.wasm, the storage core: device-number allocator, block maps with a
 * bounded page cache, range translation and zero detection. The Worker and the Durable Object
 * use only this module; it does no I/O (map pages come and go through a PageStore).
 */
import { LoopError } from "../errors";
import { DeviceAllocator } from "./allocator";
import { BlockMaps } from "./block-maps";
import { DEFAULT_CACHE_BYTES, MAX_CACHE_BYTES, PAGE_BYTES } from "./limits";
import { checkCount } from "./numbers";
import { CoreMemory } from "./wasm";

export type { EntryKind, MapEntry } from "./entries";
export type { Segment, Extent } from "./walks";
export type { DeviceGeometry } from "./geometry";
export type { PageStore, DirtyPage, MapUpdate, CompareAndSwapResult } from "./block-maps";
export { deviceSize } from "./geometry";
export { PAGE_ENTRIES, ENTRY_BYTES, MAX_DEVICE_NUMBER } from "./limits";
export { DeviceAllocator, BlockMaps };

/**
 * Zero tests copy into Wasm memory a window at a time, from one 4 KiB block doubling, so data
 * that is not zero near its start (most chunks written) costs a small copy, not a whole chunk.
 */
const ZERO_FIRST_WINDOW = 4096;
const ZERO_MAX_WINDOW = 64 * 1024;

export interface CoreOptions {
  /** Bound on the map page cache; default 16 MiB. */
  cacheBytes?: number;
}

export class Core {
  readonly allocator: DeviceAllocator;
  readonly maps: BlockMaps;
  private readonly memory: CoreMemory;

  private constructor(module: WebAssembly.Module, cacheBytes: number) {
    const slots = Math.floor(cacheBytes / PAGE_BYTES);
    this.memory = new CoreMemory(
      module,
      slots,
      () => (page, n) => this.maps.pageStore.load(page, n),
    );
    this.allocator = new DeviceAllocator(this.memory);
    this.maps = new BlockMaps(this.memory, slots);
  }

  static instantiate(module: WebAssembly.Module, options: CoreOptions = {}): Core {
    const cacheBytes = checkCount(options.cacheBytes ?? DEFAULT_CACHE_BYTES, "cacheBytes");
    if (cacheBytes < PAGE_BYTES || cacheBytes > MAX_CACHE_BYTES) {
      throw new LoopError(
        "EINVAL",
        `cacheBytes must be from ${PAGE_BYTES} (one map page) to ${MAX_CACHE_BYTES}`,
      );
    }
    return new Core(module, cacheBytes);
  }

  /** True when every byte is zero (such a chunk is a hole and is never stored). */
  isZero(bytes: Uint8Array): boolean {
    const io = this.memory.ioPtr;
    let size = ZERO_FIRST_WINDOW;
    for (let at = 0; at < bytes.length; at += size, size = Math.min(size * 2, ZERO_MAX_WINDOW)) {
      const window = bytes.subarray(at, at + size);
      this.memory.u8.set(window, io);
      if (!this.memory.exports.isZero(io, window.length)) return false;
    }
    return true;
  }
}
