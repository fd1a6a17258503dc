/**
 * One measured step against one system: its peak memory is reset before and read after, and
 * the R2 operations its Worker logged in between are summed. Steps of several passes combine
 * into medians (times), sums (R2 operations) and maxima (memory).
 */

import { median, memoryOf, resetPeak, GiB } from "./stats.js";

/**
 * @typedef {object} System
 * @property {string} name
 * @property {ReturnType<import("./http.js").httpClient>} client
 * @property {string} path                 where the image's bytes are read
 * @property {Record<string, string>} headers
 * @property {ReturnType<import("./servers.js").startWrangler>["meter"]} [meter]
 * @property {() => number | null} [pid]   the process whose memory counts
 */

/** @param {System} system @param {() => Promise<object>} step */
export async function measured(system, step) {
  const pid = system.pid?.() ?? null;
  if (pid) resetPeak(pid);
  const mark = system.meter?.mark();
  const value = await step();
  let r2 = null;
  if (system.meter) {
    await system.meter.settle();
    r2 = system.meter.since(mark);
  }
  return { ...value, r2, memory: pid ? memoryOf(pid) : null };
}

const R2_OPS = ["reads", "writes", "lists", "deletes"];

/**
 * Folds passes into one figure set: `key` values by median, R2 operations summed and given per
 * GiB of `bytes` moved, memory as the largest peak and the last current RSS.
 */
export function combine(passes, keys) {
  const out = {};
  for (const key of keys) out[key] = median(passes.map((p) => p[key]));
  const bytes = passes.reduce((sum, p) => sum + (p.bytes ?? 0), 0);
  out.bytesMoved = bytes;
  if (passes[0].r2) {
    const r2 = Object.fromEntries(
      R2_OPS.map((op) => [op, passes.reduce((s, p) => s + p.r2[op], 0)]),
    );
    const total = R2_OPS.reduce((s, op) => s + r2[op], 0);
    out.r2 = r2;
    out.r2PerGiB = bytes ? { ...perGiB(r2, bytes), total: (total * GiB) / bytes } : null;
  }
  const memories = passes.map((p) => p.memory).filter(Boolean);
  if (memories.length) {
    out.peakRss = Math.max(...memories.map((m) => m.peak));
    out.currentRss = memories[memories.length - 1].current;
  }
  return out;
}

function perGiB(r2, bytes) {
  return Object.fromEntries(R2_OPS.map((op) => [op, (r2[op] * GiB) / bytes]));
}
