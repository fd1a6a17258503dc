/** Medians, percentiles, a seeded random source, and the memory of a process from /proc. */

import { readFileSync, writeFileSync } from "node:fs";

export function percentile(values, p) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export const median = (values) => percentile(values, 50);

/** mulberry32: the same offsets for every system compared, run after run. */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` offsets, multiples of `align`, with room for `length` bytes before `size`. */
export function randomOffsets(seed, count, size, length, align = 4096) {
  const random = seededRandom(seed);
  const slots = Math.floor((size - length) / align) + 1;
  return Array.from({ length: count }, () => Math.floor(random() * slots) * align);
}

/**
 * Resident memory of a process in bytes: `peak` is VmHWM (the high-water mark since start or
 * since the last `resetPeak`), `current` is VmRSS. Null when the process is gone.
 */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1]) * 1024;
    return { peak: field("VmHWM"), current: field("VmRSS") };
  } catch {
    return null;
  }
}

/**
 * Sets VmHWM back to the current RSS (Linux: `5` in clear_refs), so each workload reports its
 * own peak rather than the largest one since the process started. Answers false if refused.
 */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
