/**
 * The instance of core.wasm and views on its memory. Views are rebuilt when memory grows (a
 * grown memory detaches the old ArrayBuffer).
 */
import { LoopError } from "../errors";
import { PAGE_ENCODED_MAX } from "./limits";

/** Exports of assembly/index.ts; numbers above 2^32 travel as f64. */
export interface CoreExports {
  memory: WebAssembly.Memory;
  init(slots: number): number;
  ioAddress(): number;
  ioCapacity(): number;
  growIo(bytes: number): number;
  transferAddress(): number;
  isZero(ptr: number, len: number): number;

  allocatorClear(): void;
  addDevice(n: number): void;
  removeDevice(n: number): void;
  bindDevice(n: number, bound: number): void;
  deviceExists(n: number): number;
  deviceBound(n: number): number;
  devicesCount(): number;
  lowestUnbound(): number;
  lowestFree(): number;
  listDevices(): number;
  saveDevices(): number;
  loadDevices(len: number): number;

  cachedPages(): number;
  dropPages(image: number): void;
  encodeSlot(slot: number): number;
  markClean(slot: number): void;
  nextDirtySlot(from: number): number;
  slotImageOf(slot: number): number;
  slotPageOf(slot: number): number;
  getEntry(image: number, chunk: number): number;
  compareAndSwap(image: number, count: number): number;
  translateRange(
    image: number,
    shift: number,
    start: number,
    end: number,
    base: number,
    capacity: number,
  ): number;
  extentRuns(image: number, shift: number, start: number, end: number, capacity: number): number;
  storedRange(image: number, from: number, to: number, capacity: number): number;
  walkResume(): number;
}

/** Codes the core passes to its `raise` import. */
const RAISED: Record<number, () => LoopError> = {
  1: () => new LoopError("EAGAIN", "map page cache is full of dirty pages; flush with takeDirty()"),
  2: () => new LoopError("EIO", "a stored map page is corrupt"),
  3: () => new LoopError("EINVAL", "a chunk appears twice in one compare-and-swap batch"),
};

export type PageLoader = (imageId: number, page: number) => Uint8Array | null;

export class CoreMemory {
  readonly exports: CoreExports;
  readonly ioPtr: number;
  readonly transferPtr: number;
  private buffer: ArrayBuffer | null = null;
  private bytes = new Uint8Array(0);
  private doubles = new Float64Array(0);

  constructor(module: WebAssembly.Module, slots: number, loader: () => PageLoader) {
    const imports = {
      env: {
        abort: () => {
          throw new LoopError("EIO", "core.wasm aborted");
        },
        raise: (code: number) => {
          throw (RAISED[code] ?? (() => new LoopError("EIO", `core.wasm raised ${code}`)))();
        },
        loadPage: (image: number, page: number) => this.loadPage(loader(), image, page),
      },
    };
    const instance = new WebAssembly.Instance(module, imports);
    this.exports = instance.exports as unknown as CoreExports;
    if (!this.exports.init(slots)) {
      throw new LoopError("ENOSPC", `cannot reserve Wasm memory for ${slots} cache pages`);
    }
    this.ioPtr = this.exports.ioAddress();
    this.transferPtr = this.exports.transferAddress();
  }

  get u8(): Uint8Array {
    this.refresh();
    return this.bytes;
  }

  get f64(): Float64Array {
    this.refresh();
    return this.doubles;
  }

  /** Makes the io area hold at least `bytes`; the views are refreshed on next use. */
  reserveIo(bytes: number): void {
    if (bytes <= this.exports.ioCapacity()) return;
    if (!this.exports.growIo(bytes)) {
      throw new LoopError("ENOSPC", `cannot grow Wasm memory by ${bytes} bytes`);
    }
  }

  private refresh(): void {
    const buffer = this.exports.memory.buffer;
    if (buffer === this.buffer) return;
    this.buffer = buffer;
    this.bytes = new Uint8Array(buffer);
    this.doubles = new Float64Array(buffer);
  }

  private loadPage(load: PageLoader, image: number, page: number): number {
    const bytes = load(image, page);
    if (bytes === null) return -1;
    if (bytes.length > PAGE_ENCODED_MAX) {
      throw new LoopError("EIO", `map page ${page} of image ${image} is ${bytes.length} bytes`);
    }
    this.u8.set(bytes, this.transferPtr);
    return bytes.length;
  }
}
