/**
 * core.wasm against straightforward JavaScript (bench/core-baseline.js), same process, same
 * run, interleaved rounds, medians. Writes bench/results/core.json. Run: npm run bench:core.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import {
  AllocatorBaseline,
  AllocatorSummaryBaseline,
  BlockMapBaseline,
  isZeroBytes,
  isZeroWords32,
  isZeroWords64,
} from "./core-baseline.js";

const root = new URL("../", import.meta.url);
execFileSync(
  "npx",
  [
    "esbuild",
    "src/core/index.ts",
    "--bundle",
    "--format=esm",
    "--platform=node",
    "--outfile=build/core-face.mjs",
    "--log-level=warning",
  ],
  { cwd: root, stdio: "inherit" },
);
const { Core } = await import(new URL("build/core-face.mjs", root).href);
const coreModule = new WebAssembly.Module(readFileSync(new URL("build/core.wasm", root)));

const ROUNDS = 15;
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** Median nanoseconds per call of fn, measured over `calls` calls per round. */
function timeRound(fn, calls) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) fn();
  return Number(process.hrtime.bigint() - t0) / calls;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs every contender of a case in each round, rotating the order. */
function compare(name, calls, contenders) {
  const names = Object.keys(contenders);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) timeRound(contenders[n], calls); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(r + k) % names.length];
      samples[n].push(timeRound(contenders[n], calls));
    }
  }
  return { name, ns: Object.fromEntries(names.map((n) => [n, median(samples[n])])) };
}

const results = [];

// Zero detection: the worst case, an all-zero chunk, is scanned to the end by every version.
for (const size of [4 * KiB, 64 * KiB, MiB]) {
  const core = Core.instantiate(coreModule);
  const buf = new Uint8Array(size);
  const calls = Math.max(200, (64 * MiB) / size / 4);
  results.push(
    compare(`isZero ${size / KiB} KiB`, calls, {
      wasm: () => core.isZero(buf),
      "js bytes": () => isZeroBytes(buf),
      "js u32": () => isZeroWords32(buf),
      "js u64": () => isZeroWords64(buf),
    }),
  );
}

// Data chunks are rarely zero: a 1 MiB chunk with its first non-zero byte at 100 and at 300 KiB.
for (const mark of [100, 300 * KiB]) {
  const core = Core.instantiate(coreModule);
  const buf = new Uint8Array(MiB);
  buf[mark] = 1;
  results.push(
    compare(`isZero 1 MiB, byte ${mark < KiB ? mark : `${mark / KiB} KiB`} set`, 2000, {
      wasm: () => core.isZero(buf),
      "js u32": () => isZeroWords32(buf),
    }),
  );
}

// Allocator: 1,000,000 bound devices; get-free creates the next number, remove gives it back.
{
  const crowd = 1_000_000;
  const js = new AllocatorBaseline();
  const jsSummary = new AllocatorSummaryBaseline();
  for (let n = 0; n < crowd; n++) {
    for (const a of [js, jsSummary]) {
      a.add(n);
      a.setBound(n);
    }
  }
  const words = Math.ceil(crowd / 64);
  const state = new Uint8Array(8 + words * 16);
  const view = new DataView(state.buffer);
  view.setUint32(0, 1, true);
  view.setUint32(4, words, true);
  state.set(new Uint8Array(js.exists.buffer, 0, words * 8), 8);
  state.set(new Uint8Array(js.bound.buffer, 0, words * 8), 8 + words * 8);
  const core = Core.instantiate(coreModule);
  core.allocator.load(state);
  const max = 2 ** 53 - 1;
  results.push(
    compare("getFree+remove, 1M bound", 2000, {
      wasm: () => core.allocator.remove(core.allocator.getFree(max).number),
      js: () => js.remove(js.getFree(max).number),
      "js summary": () => jsSummary.remove(jsSummary.getFree(max).number),
    }),
  );
}

// Map fixtures: ids alternate so every batch's expectations hold.
function stored(id) {
  return { kind: "stored", chunkId: id, sha256: new Uint8Array(32).fill(id & 0xff) };
}
function batch(first, count, from, to) {
  return Array.from({ length: count }, (_, i) => ({
    chunkIndex: first + i,
    expectChunkId: from === 0 ? 0 : from + i,
    entry: stored(to + i),
  }));
}

{
  const core = Core.instantiate(coreModule);
  const js = new BlockMapBaseline();
  const first = 5000;
  for (const m of [core.maps, js]) m.compareAndSwap(1, batch(first, 256, 0, 100));
  const aToB = batch(first, 256, 100, 1000);
  const bToA = batch(first, 256, 1000, 100);
  const flip = (m) => {
    let odd = false;
    return () => {
      odd = !odd;
      const r = m.compareAndSwap(1, odd ? aToB : bToA);
      if (!r.ok) throw new Error("bench batch conflicted");
    };
  };
  results.push(compare("CAS batch of 256", 200, { wasm: flip(core.maps), js: flip(js) }));
}

/** 1 GiB at 64 KiB chunks: runs of holes, stored and parent chunks, or 1% stored when sparse. */
function fillMap(maps, sparse) {
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const updates = [];
  for (let chunk = 0; chunk < 16384;) {
    const holes = sparse ? 50 + Math.floor(random() * 100) : 1 + Math.floor(random() * 32);
    chunk += holes;
    const run = sparse ? 1 : 1 + Math.floor(random() * 16);
    const parent = !sparse && random() < 0.2;
    for (let i = 0; i < run && chunk < 16384; i++, chunk++) {
      const entry = parent ? { kind: "parent", chunkId: 0, sha256: null } : stored(chunk + 1);
      updates.push({ chunkIndex: chunk, expectChunkId: null, entry });
    }
  }
  for (const m of maps) m.compareAndSwap(1, updates);
}

for (const sparse of [false, true]) {
  const core = Core.instantiate(coreModule);
  const js = new BlockMapBaseline();
  fillMap([core.maps, js], sparse);
  const g = { imageSize: GiB, offset: 0, sizelimit: 0 };
  const label = sparse ? "sparse" : "mixed";
  const calls = sparse ? 200 : 50;
  results.push(
    compare(`translate 1 GiB ${label}`, calls, {
      wasm: () => core.maps.translate(1, 64 * KiB, g, 0, GiB),
      js: () => js.translate(1, 64 * KiB, g, 0, GiB),
    }),
  );
  results.push(
    compare(`extents 1 GiB ${label}`, calls, {
      wasm: () => core.maps.extents(1, 64 * KiB, GiB, 0, GiB),
      js: () => js.extents(1, 64 * KiB, GiB, 0, GiB),
    }),
  );
}

const rows = results.map(({ name, ns }) => {
  const bestJs = Math.min(
    ...Object.entries(ns)
      .filter(([k]) => k !== "wasm")
      .map(([, v]) => v),
  );
  return { name, ns, bestJsOverWasm: bestJs / ns.wasm };
});

const fmt = (ns) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(2)} µs`);
console.log(`core.wasm vs JavaScript, median of ${ROUNDS} interleaved rounds (time per call)\n`);
console.log(
  `${"operation".padEnd(28)}${"wasm".padStart(12)}${"best js".padStart(12)}  ratio  all js`,
);
for (const r of rows) {
  const js = Object.entries(r.ns).filter(([k]) => k !== "wasm");
  const best = Math.min(...js.map(([, v]) => v));
  console.log(
    `${r.name.padEnd(28)}${fmt(r.ns.wasm).padStart(12)}${fmt(best).padStart(12)}  ` +
      `${r.bestJsOverWasm.toFixed(2).padStart(5)}x  ${js.map(([k, v]) => `${k} ${fmt(v)}`).join(", ")}`,
  );
}

mkdirSync(new URL("bench/results/", root), { recursive: true });
writeFileSync(
  new URL("bench/results/core.json", root),
  JSON.stringify(
    { node: process.version, rounds: ROUNDS, date: new Date().toISOString(), rows },
    null,
    2,
  ),
);
