/**
 * Device numbers of one instance (the loop-control side): which exist, which are bound, the
 * lowest free one. State lives in core.wasm as bitsets; save() gives compact bytes to store.
 */
import { LoopError } from "../errors";
import { MAX_DEVICE_NUMBER } from "./limits";
import { checkCount } from "./numbers";
import type { CoreMemory } from "./wasm";

export class DeviceAllocator {
  constructor(private readonly core: CoreMemory) {}

  /** Replaces the state with saved bytes; null is an empty instance. */
  load(state: Uint8Array | null): void {
    const wasm = this.core.exports;
    if (state === null) {
      wasm.allocatorClear();
      return;
    }
    this.core.reserveIo(state.length);
    this.core.u8.set(state, this.core.ioPtr);
    if (!wasm.loadDevices(state.length)) {
      throw new LoopError("EINVAL", "saved device state is malformed");
    }
  }

  /** At most 262,152 bytes (all 2^20 devices); a few bytes for a small instance. */
  save(): Uint8Array {
    const len = this.core.exports.saveDevices();
    return this.core.u8.slice(this.core.ioPtr, this.core.ioPtr + len);
  }

  /**
   * LOOP_CTL_GET_FREE: the lowest existing unbound device, else a new one with the lowest free
   * number.
   */
  getFree(max: number): { number: number; created: boolean } {
    checkCount(max, "max");
    const wasm = this.core.exports;
    const unbound = wasm.lowestUnbound();
    if (unbound >= 0) return { number: unbound, created: false };

    this.checkRoom(max);
    const free = wasm.lowestFree();
    if (free < 0) throw new LoopError("ENOSPC", "all device numbers are in use");
    wasm.addDevice(free);
    return { number: free, created: true };
  }

  /** LOOP_CTL_ADD with a number. */
  add(n: number, max: number): void {
    checkCount(n, "device number");
    checkCount(max, "max");
    if (n > MAX_DEVICE_NUMBER) {
      throw new LoopError("EINVAL", `device number ${n} is above ${MAX_DEVICE_NUMBER}`);
    }
    if (this.exists(n)) throw new LoopError("EEXIST", `loop${n} exists`);
    this.checkRoom(max);
    this.core.exports.addDevice(n);
  }

  /** LOOP_CTL_REMOVE. */
  remove(n: number): void {
    this.checkExists(n);
    if (this.core.exports.deviceBound(n)) throw new LoopError("EBUSY", `loop${n} is bound`);
    this.core.exports.removeDevice(n);
  }

  setBound(n: number, bound: boolean): void {
    this.checkExists(n);
    this.core.exports.bindDevice(n, bound ? 1 : 0);
  }

  exists(n: number): boolean {
    checkCount(n, "device number");
    return n <= MAX_DEVICE_NUMBER && this.core.exports.deviceExists(n) !== 0;
  }

  isBound(n: number): boolean {
    return this.exists(n) && this.core.exports.deviceBound(n) !== 0;
  }

  count(): number {
    return this.core.exports.devicesCount();
  }

  /** Existing device numbers, ascending. */
  list(): number[] {
    this.core.reserveIo(this.count() * 4);
    const n = this.core.exports.listDevices();
    return Array.from(new Uint32Array(this.core.u8.buffer, this.core.ioPtr, n));
  }

  private checkExists(n: number): void {
    if (!this.exists(n)) throw new LoopError("ENODEV", `loop${n} does not exist`);
  }

  /** `max` may have been lowered below the count by a remount: then nothing new fits. */
  private checkRoom(max: number): void {
    if (this.count() >= max) {
      throw new LoopError("ENOSPC", `instance has ${this.count()} devices, max is ${max}`);
    }
  }
}
