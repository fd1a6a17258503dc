/**
 * Exports of core.wasm. The typed face in src/core drives them; every call passes numbers and
 * exchanges bulk arguments and results through the io area (see layout.ts).
 */
import { allocatorClear } from "./allocator";
import { cacheReset, dropImage, readablePage, slotImage, slotPage } from "./cache";
import { encodePage } from "./page-codec";
import { ensureIo, ioBytes, ioPtr, layout, transferPtr } from "./layout";
import { isZeroRange } from "./zero";

/** Lays out memory for `slots` cache slots and empties everything; false if out of memory. */
export function init(slots: i32): bool {
  if (!layout(slots)) return false;
  allocatorClear();
  cacheReset();
  return true;
}

export function ioAddress(): usize {
  return ioPtr;
}

export function ioCapacity(): usize {
  return ioBytes;
}

export function growIo(bytes: usize): bool {
  return ensureIo(bytes);
}

export function transferAddress(): usize {
  return transferPtr;
}

export function slotImageOf(slot: i32): f64 {
  return <f64>slotImage(slot);
}

export function slotPageOf(slot: i32): f64 {
  return <f64>slotPage(slot);
}

/** Encodes a cached page at transfer for the page store; 0 when it is all holes. */
export function encodeSlot(slot: i32): i32 {
  return encodePage(readablePage(slot));
}

export function dropPages(image: f64): void {
  dropImage(<u64>image);
}

export function isZero(ptr: usize, len: usize): bool {
  return isZeroRange(ptr, len);
}

export {
  addDevice,
  allocatorClear,
  bindDevice,
  deviceBound,
  deviceExists,
  devicesCount,
  listDevices,
  loadDevices,
  lowestFree,
  lowestUnbound,
  removeDevice,
  saveDevices,
} from "./allocator";
export { cachedPages, markClean, nextDirtySlot } from "./cache";
export { compareAndSwap, getEntry } from "./maps";
export { extentRuns, storedRange, translateRange, walkResume } from "./walks";
