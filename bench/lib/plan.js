/**
 * How big a bench run is. The full run keeps under about ten minutes on a 2-core machine;
 * BENCH_QUICK=1 shrinks every workload for a smoke run of a few minutes. On a loaded 2-core
 * machine local R2 stores only a few MiB/s, so the full run ingests 512 MiB unless
 * BENCH_INGEST_MIB=1024 asks for the whole GiB.
 */

import { GiB, MiB } from "./stats.js";

/** Chunk sizes the read and write workloads are repeated for, unless BENCH_CHUNK_SIZES says. */
const CHUNK_SIZES = [64 * 1024, 256 * 1024, 1024 * 1024];

export function benchPlan(env = process.env) {
  const quick = env.BENCH_QUICK === "1";
  const chunkSizes = env.BENCH_CHUNK_SIZES
    ? env.BENCH_CHUNK_SIZES.split(",").map((s) => Number(s.trim()))
    : CHUNK_SIZES;
  for (const size of chunkSizes) {
    if (!Number.isInteger(size) || size <= 0) throw new Error(`bad BENCH_CHUNK_SIZES: ${size}`);
  }
  return {
    quick,
    chunkSizes,
    read: {
      size: quick ? 32 * MiB : 256 * MiB,
      passes: quick ? 1 : 1,
      randomCount: quick ? 200 : 1000,
      requestSizes: [1 * MiB, 8 * MiB],
    },
    write: {
      size: quick ? 16 * MiB : 64 * MiB,
      passes: 1,
      randomCount: quick ? 100 : 500,
    },
    /** Chunk sizes other than the default repeat reads and writes on less, to save time. */
    sweep: {
      readSize: quick ? 16 * MiB : 64 * MiB,
      randomReads: quick ? 100 : 300,
      writeSize: quick ? 8 * MiB : 16 * MiB,
      randomWrites: quick ? 50 : 200,
    },
    ingest: { size: Number(env.BENCH_INGEST_MIB ?? (quick ? 128 : 512)) * MiB },
    control: { count: quick ? 20 : 100 },
    scale: {
      imageSizes: [1 * GiB, 64 * GiB, 1024 * GiB],
      deviceCounts: quick ? [1, 8, 64] : [1, 64, 1024],
      chunksWritten: 8,
      reads: quick ? 100 : 300,
    },
  };
}
