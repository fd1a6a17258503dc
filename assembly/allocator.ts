/**
 * Device numbers of one instance: which exist and which are bound to a backing image.
 *
 * Two bitsets of 2^20 bits with a summary bit per 64-bit word, so the lowest free or the lowest
 * unbound number is found by scanning 256 summary words, then one word.
 */
import {
  availSummaryPtr,
  BITSET_WORDS,
  boundPtr,
  existsPtr,
  freeSummaryPtr,
  ioPtr,
  SUMMARY_WORDS,
} from "./layout";

let deviceCount: u32 = 0;

function wordAt(base: usize, w: u32): u64 {
  return load<u64>(base + ((<usize>w) << 3));
}

function refreshSummaries(w: u32): void {
  const exists = wordAt(existsPtr, w);
  const free = exists != 0xffff_ffff_ffff_ffff;
  const avail = (exists & ~wordAt(boundPtr, w)) != 0;
  const s = w >> 6;
  const bit: u64 = (<u64>1) << (w & 63);
  let fs = wordAt(freeSummaryPtr, s);
  let as = wordAt(availSummaryPtr, s);
  fs = free ? fs | bit : fs & ~bit;
  as = avail ? as | bit : as & ~bit;
  store<u64>(freeSummaryPtr + ((<usize>s) << 3), fs);
  store<u64>(availSummaryPtr + ((<usize>s) << 3), as);
}

function setBit(base: usize, n: u32, on: bool): void {
  const at = base + ((<usize>(n >> 6)) << 3);
  const bit: u64 = (<u64>1) << (n & 63);
  const word = load<u64>(at);
  store<u64>(at, on ? word | bit : word & ~bit);
  refreshSummaries(n >> 6);
}

/** First set bit of words where `inverted` flips the base word; -1 if none. */
function lowest(summary: usize, base: usize, mask: usize, inverted: bool): i32 {
  for (let s: u32 = 0; s < SUMMARY_WORDS; s++) {
    const sw = wordAt(summary, s);
    if (sw == 0) continue;
    const w = (s << 6) + <u32>ctz(sw);
    let word = wordAt(base, w);
    if (inverted) word = ~word;
    if (mask != 0) word &= ~wordAt(mask, w);
    return <i32>((w << 6) + <u32>ctz(word));
  }
  return -1;
}

export function allocatorClear(): void {
  memory.fill(existsPtr, 0, BITSET_WORDS * 8 * 2);
  memory.fill(availSummaryPtr, 0, SUMMARY_WORDS * 8);
  memory.fill(freeSummaryPtr, 0xff, SUMMARY_WORDS * 8);
  deviceCount = 0;
}

export function deviceExists(n: u32): bool {
  return ((wordAt(existsPtr, n >> 6) >> (n & 63)) & 1) != 0;
}

export function deviceBound(n: u32): bool {
  return ((wordAt(boundPtr, n >> 6) >> (n & 63)) & 1) != 0;
}

export function devicesCount(): u32 {
  return deviceCount;
}

export function addDevice(n: u32): void {
  setBit(existsPtr, n, true);
  deviceCount++;
}

export function removeDevice(n: u32): void {
  setBit(existsPtr, n, false);
  deviceCount--;
}

export function bindDevice(n: u32, bound: bool): void {
  setBit(boundPtr, n, bound);
}

/** Lowest existing unbound device, or -1. */
export function lowestUnbound(): i32 {
  return lowest(availSummaryPtr, existsPtr, boundPtr, false);
}

/** Lowest number with no device, or -1 when all 2^20 exist. */
export function lowestFree(): i32 {
  return lowest(freeSummaryPtr, existsPtr, 0, true);
}

/** Writes the existing numbers in ascending order as u32 at io; returns how many. */
export function listDevices(): u32 {
  let k: u32 = 0;
  for (let w: u32 = 0; w < BITSET_WORDS; w++) {
    let word = wordAt(existsPtr, w);
    while (word != 0) {
      store<u32>(ioPtr + ((<usize>k) << 2), (w << 6) + <u32>ctz(word));
      k++;
      word &= word - 1;
    }
  }
  return k;
}

/*
 * Saved state, little-endian:
 *   u32 format (1) │ u32 words │ words × u64 exists │ words × u64 bound
 * Only words up to the highest existing device are kept, so a small instance saves a few bytes
 * and the largest saves 262,152.
 */
const SAVE_FORMAT: u32 = 1;

/** Writes the saved state at io; returns its length. */
export function saveDevices(): u32 {
  let words = BITSET_WORDS;
  while (words > 0 && wordAt(existsPtr, words - 1) == 0) words--;
  store<u32>(ioPtr, SAVE_FORMAT);
  store<u32>(ioPtr, words, 4);
  const bytes = (<usize>words) << 3;
  memory.copy(ioPtr + 8, existsPtr, bytes);
  memory.copy(ioPtr + 8 + bytes, boundPtr, bytes);
  return 8 + <u32>(bytes << 1);
}

/** Loads the saved state of `len` bytes at io; returns false (and loads nothing) if malformed. */
export function loadDevices(len: u32): bool {
  if (len < 8 || load<u32>(ioPtr) != SAVE_FORMAT) return false;
  const words = load<u32>(ioPtr, 4);
  if (words > BITSET_WORDS || len != 8 + (words << 4)) return false;
  const bytes = (<usize>words) << 3;
  for (let w: u32 = 0; w < words; w++) {
    const exists = load<u64>(ioPtr + 8 + ((<usize>w) << 3));
    const bound = load<u64>(ioPtr + 8 + bytes + ((<usize>w) << 3));
    if ((bound & ~exists) != 0) return false;
  }

  allocatorClear();
  memory.copy(existsPtr, ioPtr + 8, bytes);
  memory.copy(boundPtr, ioPtr + 8 + bytes, bytes);
  let count: u32 = 0;
  for (let w: u32 = 0; w < words; w++) {
    count += <u32>popcnt(wordAt(existsPtr, w));
    refreshSummaries(w);
  }
  deviceCount = count;
  return true;
}
