/**
 * Turns a run's figures into the targets it is judged by and a plain-text table: medians, ratios
 * against the floor, R2 operations per GiB moved and peak memory per workload.
 */

import { GiB } from "./lib/stats.js";

const mib = (bytes) => (bytes === undefined ? "-" : `${(bytes / 2 ** 20).toFixed(0)}`);
const fixed = (value, digits = 1) =>
  value === undefined || Number.isNaN(value) ? "-" : value.toFixed(digits);
const kib = (bytes) => `${bytes / 1024}K`;

function loopfsAt(results, chunkSize) {
  return `loopfs@${kib(chunkSize)}`;
}

/** The targets of the brief, each with its measured figures and pass or miss. */
export function evaluateTargets(results) {
  const targets = [];
  const name = loopfsAt(results, results.defaultChunkSize);
  const seq = results.reads.sequential;
  for (const [size, row] of Object.entries(seq)) {
    if (!row[name]) continue;
    const ratio = row[name].mibps / row.floor.mibps;
    targets.push({
      target: `sequential read, ${size} requests >= 0.8x floor`,
      measured: `${fixed(row[name].mibps)} vs ${fixed(row.floor.mibps)} MiB/s = ${fixed(ratio, 2)}x`,
      pass: ratio >= 0.8,
    });
  }
  const random = results.reads.random4k;
  if (random[name]) {
    const ratio = random[name].p50 / random.floor.p50;
    targets.push({
      target: "4 KiB random read p50 <= 1.5x floor",
      measured: `${fixed(random[name].p50, 2)} vs ${fixed(random.floor.p50, 2)} ms = ${fixed(ratio, 2)}x`,
      pass: ratio <= 1.5,
    });
  }
  const ingest = results.ingest;
  const ingestRatio = ingest.loopfs.mibps / ingest.floor.mibps;
  targets.push({
    target: "ingest >= 0.7x floor's R2 write throughput (non-zero half)",
    measured: `${fixed(ingest.loopfs.mibps)} vs ${fixed(ingest.floor.mibps)} MiB/s = ${fixed(ingestRatio, 2)}x`,
    pass: ingestRatio >= 0.7,
  });
  targets.push({
    target: "ingest: zero chunks cost no R2 operation",
    measured:
      `${ingest.loopfs.r2.writes} puts for ${ingest.loopfs.nonZeroChunks} non-zero chunks, ` +
      `${ingest.loopfs.r2.reads} reads, ${ingest.loopfs.r2.lists} lists, ` +
      `${ingest.loopfs.r2.deletes} deletes; ${ingest.loopfs.zeroChunks} zero chunks`,
    pass: ingest.loopfs.zeroChunksFree,
  });
  const images = results.scale.images;
  const small = images["1GiB"];
  const large = images["1024GiB"];
  if (small && large) {
    const growth = large.peakRss / small.peakRss - 1;
    targets.push({
      target: "memory flat: 1 TiB sparse peak RSS within 10% of 1 GiB",
      measured: `${mib(large.peakRss)} vs ${mib(small.peakRss)} MiB = ${fixed(growth * 100)}%`,
      pass: Math.abs(growth) <= 0.1,
    });
  }
  for (const [size, row] of Object.entries(seq)) {
    for (const [system, figures] of Object.entries(row)) {
      if (!system.startsWith("loopfs@")) continue;
      const chunkSize = Number(system.slice("loopfs@".length, -1)) * 1024;
      const limit = GiB / chunkSize + 1;
      const reads = figures.r2PerGiB.reads;
      targets.push({
        target: `R2 reads per GiB, sequential ${size}, ${system} <= GiB/chunkSize + 1 = ${limit}`,
        measured: fixed(reads, 1),
        pass: reads <= limit,
      });
    }
  }
  return targets;
}

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i])));
  return [line(header).join("  "), ...rows.map((r) => line(r).join("  "))].join("\n");
}

function r2Cell(figures) {
  if (!figures?.r2PerGiB) return "-";
  const { reads, writes } = figures.r2PerGiB;
  return `${fixed(reads, 0)}r/${fixed(writes, 0)}w`;
}

export function report(results) {
  const out = [];
  const m = results.machine;
  out.push(`loopfs bench: ${m.nproc} cores, ${m.model}, ${m.memoryGiB} GiB, node ${m.node}`);
  out.push(`command: ${results.command}; load before ${m.loadBefore}, after ${m.loadAfter}`);
  out.push(`default chunk size ${kib(results.defaultChunkSize)}; floor: ${results.servers.floor}`);
  out.push(`measured: ${results.worker.source}`);
  const { read, write, sweep } = results.plan;
  out.push(
    `reads: ${read.size / 2 ** 20} MiB image, ${read.randomCount} random 4K; writes: ` +
      `${write.size / 2 ** 20} MiB, ${write.randomCount} random 4K; other chunk sizes: ` +
      `${sweep.readSize / 2 ** 20} MiB / ${sweep.randomReads} and ${sweep.writeSize / 2 ** 20} MiB / ` +
      `${sweep.randomWrites}`,
  );
  out.push("");

  const systems = Object.keys(results.reads.random4k);
  const vs = (value, floor, digits = 1, lowerIsBetter = false) => {
    if (value === undefined) return "-";
    if (floor === undefined) return fixed(value, digits);
    const ratio = lowerIsBetter ? value / floor : value / floor;
    return `${fixed(value, digits)} (${fixed(ratio, 2)}x)`;
  };
  const rows = [];
  for (const [size, row] of Object.entries(results.reads.sequential)) {
    rows.push([
      `seq read ${size} MiB/s`,
      ...systems.map((s) => vs(row[s]?.mibps, row.floor.mibps)),
    ]);
  }
  const r = results.reads.random4k;
  rows.push(["4K read p50 ms", ...systems.map((s) => vs(r[s]?.p50, r.floor.p50, 2, true))]);
  rows.push(["4K read p99 ms", ...systems.map((s) => vs(r[s]?.p99, r.floor.p99, 2, true))]);
  rows.push(["4K read req/s @16", ...systems.map((s) => vs(r[s]?.rps, r.floor.rps, 0))]);
  const w = results.writes;
  rows.push([
    "seq write 8MiB MiB/s",
    ...systems.map((s) => vs(w.sequential[s]?.mibps, w.sequential.floor.mibps)),
  ]);
  rows.push([
    "4K write p50 ms",
    ...systems.map((s) => vs(w.random4k[s]?.p50, w.random4k.floor.p50, 2, true)),
  ]);
  rows.push([
    "4K write p99 ms",
    ...systems.map((s) => vs(w.random4k[s]?.p99, w.random4k.floor.p99, 2, true)),
  ]);
  rows.push([
    "4K write writes/s",
    ...systems.map((s) => vs(w.random4k[s]?.wps, w.random4k.floor.wps, 0)),
  ]);
  out.push("Medians (ratio to floor)");
  out.push(table(["workload", ...systems], rows));
  out.push("");

  const costRows = [];
  for (const [size, row] of Object.entries(results.reads.sequential)) {
    costRows.push([
      `seq read ${size}`,
      ...systems.map((s) => `${r2Cell(row[s])} ${mib(row[s]?.peakRss)}M`),
    ]);
  }
  costRows.push(["4K read", ...systems.map((s) => `${r2Cell(r[s])} ${mib(r[s]?.peakRss)}M`)]);
  costRows.push([
    "seq write",
    ...systems.map((s) => `${r2Cell(w.sequential[s])} ${mib(w.sequential[s]?.peakRss)}M`),
  ]);
  costRows.push([
    "4K write",
    ...systems.map((s) => `${r2Cell(w.random4k[s])} ${mib(w.random4k[s]?.peakRss)}M`),
  ]);
  out.push("R2 operations per GiB moved (reads r / writes w) and peak RSS of the Worker's workerd");
  out.push(table(["workload", ...systems], costRows));
  out.push("");

  const i = results.ingest;
  out.push(
    `Ingest of ${mib(i.size)} MiB, ${mib(i.nonZero)} MiB non-zero (loopfs image push vs floor puts)`,
  );
  out.push(
    table(
      ["", "MiB/s non-zero", "seconds", "R2 reads", "R2 writes", "R2 ops/GiB", "peak RSS MiB"],
      [
        [
          "floor",
          fixed(i.floor.mibps),
          fixed(i.floor.seconds),
          i.floor.r2.reads,
          i.floor.r2.writes,
          fixed(i.floor.r2PerGiB.total, 0),
          mib(i.floor.peakRss),
        ],
        [
          `loopfs@${kib(i.loopfs.chunkSize)}`,
          fixed(i.loopfs.mibps),
          fixed(i.loopfs.seconds),
          i.loopfs.r2.reads,
          i.loopfs.r2.writes,
          fixed(i.loopfs.r2PerGiB.total, 0),
          mib(i.loopfs.peakRss),
        ],
      ],
    ),
  );
  out.push("");

  out.push("Control operations, one at a time");
  out.push(
    table(
      ["operation", "ops/s", "p50 ms", "p99 ms"],
      Object.entries(results.control).map(([op, c]) => [
        op,
        fixed(c.opsPerSecond, 0),
        fixed(c.p50, 2),
        fixed(c.p99, 2),
      ]),
    ),
  );
  out.push("");

  const scaleRows = [
    ...Object.entries(results.scale.images).map(([size, s]) => [`image ${size} (sparse)`, s]),
    ...Object.entries(results.scale.devices).map(([n, s]) => [`${n} devices`, s]),
  ].map(([label, s]) => [
    label,
    fixed(s.p50, 2),
    fixed(s.p99, 2),
    mib(s.peakRss),
    mib(s.currentRss),
    fixed(s.r2PerGiB?.total, 0),
  ]);
  out.push("Scale: 4 KiB reads and memory of the Worker's workerd process");
  out.push(table(["", "p50 ms", "p99 ms", "peak RSS MiB", "RSS MiB", "R2 ops/GiB"], scaleRows));
  out.push("");

  out.push("Targets");
  for (const t of results.targets)
    out.push(`  ${t.pass ? "PASS" : "MISS"}  ${t.target}: ${t.measured}`);
  out.push("");
  return out.join("\n") + "\n";
}
