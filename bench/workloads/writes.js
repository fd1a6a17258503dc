/**
 * Write workloads: a sequential write in 8 MiB partial PUTs, and random 4 KiB partial PUTs one
 * at a time. loopfs writes through a device; the floor stores one R2 object of the request's
 * size per request, the least any Worker storing those bytes must do.
 */

import { randomBytes } from "node:crypto";
import { combine, measured } from "../lib/measure.js";
import { percentile, randomOffsets, MiB } from "../lib/stats.js";

export const WRITE_PIECE = 8 * MiB;

/** Writes [0, size) in WRITE_PIECE requests, one after another. */
async function sequentialWrite(system, source) {
  const started = performance.now();
  for (let offset = 0; offset < source.length; offset += WRITE_PIECE) {
    await system.writeAt(offset, source.subarray(offset, offset + WRITE_PIECE));
  }
  const ms = performance.now() - started;
  return { mibps: source.length / MiB / (ms / 1000), bytes: source.length };
}

async function randomWrites(system, source, offsets) {
  const latencies = [];
  const started = performance.now();
  for (const offset of offsets) {
    const t = performance.now();
    await system.writeAt(offset, source.subarray(offset, offset + 4096));
    latencies.push(performance.now() - t);
  }
  const wall = performance.now() - started;
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    wps: (offsets.length * 1000) / wall,
    bytes: offsets.length * 4096,
  };
}

/**
 * @param {(import("../lib/measure.js").System & { writeAt: Function })[]} systems
 * @param {{ size: number, passes: number, randomCount: number }} plan
 */
export async function runWrites(systems, plan, log) {
  const source = randomBytes(plan.size);
  const passes = new Map(systems.map((s) => [s.name, []]));
  for (let pass = 0; pass < plan.passes; pass++) {
    for (const system of systems) {
      const size = system.writeSize ?? plan.size;
      const result = await measured(system, () =>
        sequentialWrite(system, source.subarray(0, size)),
      );
      passes.get(system.name).push(result);
      log(`seq write ${system.name}: ${result.mibps.toFixed(1)} MiB/s`);
    }
  }
  const sequential = Object.fromEntries(
    [...passes].map(([name, list]) => [name, combine(list, ["mibps"])]),
  );

  const random = {};
  for (const system of systems) {
    const size = system.writeSize ?? plan.size;
    const offsets = randomOffsets(7, system.randomWrites ?? plan.randomCount, size, 4096);
    const result = await measured(system, () => randomWrites(system, source, offsets));
    random[system.name] = combine([result], ["p50", "p99", "wps"]);
    log(
      `4k write ${system.name}: p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ` +
        `${result.wps.toFixed(0)} writes/s`,
    );
  }
  return { sequential, random4k: random };
}
