/**
 * Read workloads, the same requests against every system: a sequential read of the image in
 * 1 MiB and 8 MiB Range requests, and random 4 KiB reads one at a time (latency) and 16 in
 * flight (requests per second). Passes are interleaved across systems so that drift on a busy
 * machine falls on all of them alike.
 */

import { runConcurrently } from "../lib/http.js";
import { combine, measured } from "../lib/measure.js";
import { percentile, randomOffsets, MiB } from "../lib/stats.js";

export const READ_IN_FLIGHT = 16;

async function get(system, offset, length) {
  const answer = await system.client.send("GET", system.path, {
    headers: { ...system.headers, range: `bytes=${offset}-${offset + length - 1}` },
  });
  if (answer.status !== 206 || answer.bytes !== length) {
    throw new Error(`${system.name}: read ${offset}+${length} answered ${answer.status}`);
  }
  return answer.ms;
}

/** Reads [0, size) in `requestSize` requests, one after another. */
export async function sequentialRead(system, size, requestSize) {
  const started = performance.now();
  for (let offset = 0; offset < size; offset += requestSize) {
    await get(system, offset, Math.min(requestSize, size - offset));
  }
  const ms = performance.now() - started;
  return { mibps: size / MiB / (ms / 1000), bytes: size };
}

/** 4 KiB reads at `offsets`: one at a time for latency, then `inFlight` at once for rate. */
export async function randomReads(system, offsets, inFlight = READ_IN_FLIGHT) {
  const latencies = [];
  for (const offset of offsets) latencies.push(await get(system, offset, 4096));
  const wall = await runConcurrently(offsets.length, inFlight, async (i) => {
    await get(system, offsets[i], 4096);
  });
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    rps: (offsets.length * 1000) / wall,
    bytes: offsets.length * 2 * 4096,
  };
}

/**
 * @param {import("../lib/measure.js").System[]} systems
 * @param {{ size: number, passes: number, randomCount: number, requestSizes: number[] }} plan
 */
export async function runReads(systems, plan, log) {
  const sequential = {};
  for (const requestSize of plan.requestSizes) {
    const passes = new Map(systems.map((s) => [s.name, []]));
    for (let pass = 0; pass < plan.passes; pass++) {
      for (const system of systems) {
        const size = system.readSize ?? plan.size;
        const result = await measured(system, () => sequentialRead(system, size, requestSize));
        passes.get(system.name).push(result);
        log(`seq read ${requestSize / MiB} MiB ${system.name}: ${result.mibps.toFixed(1)} MiB/s`);
      }
    }
    sequential[`${requestSize / MiB}MiB`] = Object.fromEntries(
      [...passes].map(([name, list]) => [name, combine(list, ["mibps"])]),
    );
  }

  const random = {};
  for (const system of systems) {
    const size = system.readSize ?? plan.size;
    const offsets = randomOffsets(42, system.randomReads ?? plan.randomCount, size, 4096);
    await randomReads(system, offsets.slice(0, 20));
    const result = await measured(system, () => randomReads(system, offsets));
    random[system.name] = combine([result], ["p50", "p99", "rps"]);
    log(
      `4k read ${system.name}: p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ` +
        `${result.rps.toFixed(0)} req/s at ${READ_IN_FLIGHT} in flight`,
    );
  }
  return { sequential, random4k: random };
}
