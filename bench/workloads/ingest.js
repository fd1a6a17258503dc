/**
 * Ingest: `loopfs image push` of an image that is half zeros, against the floor storing the
 * same non-zero bytes in R2 with the same request sizes and the same requests in flight. Zero
 * chunks must cost no R2 operation: the push may write exactly one object per non-zero chunk.
 */

import { spawn } from "node:child_process";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { IN_FLIGHT } from "../../cli/transfer.js";
import { runConcurrently } from "../lib/http.js";
import { writeHalfZeroFile } from "../lib/files.js";
import { combine, measured } from "../lib/measure.js";
import { MiB } from "../lib/stats.js";

/** Length of the alternating random and zero runs of the image. */
const RUN = 4 * MiB;

function push(root, file, name, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(root, "cli", "loopfs.js"), "image", "push", file, name],
      {
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (part) => (output += part));
    child.stderr.on("data", (part) => (output = (output + part).slice(-4000)));
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve(output) : reject(new Error(`image push exited ${code}:\n${output}`)),
    );
  });
}

/** The floor stores each non-zero run as one object, IN_FLIGHT at a time, as the CLI sends them. */
async function floorIngest(floor, file, size) {
  const handle = await open(file, "r");
  try {
    const runs = Math.ceil(size / RUN / 2);
    const started = performance.now();
    let bytes = 0;
    await runConcurrently(runs, IN_FLIGHT, async (i) => {
      const offset = i * 2 * RUN;
      const piece = Buffer.alloc(Math.min(RUN, size - offset));
      await handle.read(piece, 0, piece.length, offset);
      await floor.client.expectOk("PUT", `/objects/ingest-${offset}`, { body: piece });
      bytes += piece.length;
    });
    const ms = performance.now() - started;
    return { mibps: bytes / MiB / (ms / 1000), seconds: ms / 1000, bytes };
  } finally {
    await handle.close();
  }
}

export async function runIngest({ work, plan, floor, tenant, loopfsServer, root, log }) {
  const file = join(work, "half-zeros.img");
  const nonZero = await writeHalfZeroFile(file, plan.size, RUN);
  log(`ingest: ${plan.size / MiB} MiB image, ${nonZero / MiB} MiB of it non-zero`);

  const floorResult = combine(
    [await measured(floor, () => floorIngest(floor, file, plan.size))],
    ["mibps", "seconds"],
  );
  log(`ingest floor: ${floorResult.mibps.toFixed(1)} MiB/s of non-zero bytes`);

  const system = { name: "loopfs", meter: loopfsServer.meter, pid: loopfsServer.workerdPid };
  const env = {
    LOOPFS_URL: loopfsServer.url,
    LOOPFS_TENANT: tenant.tenant,
    LOOPFS_TOKEN: tenant.token,
  };
  const pushed = await measured(system, async () => {
    const started = performance.now();
    await push(root, file, "ingest", env);
    const ms = performance.now() - started;
    return { mibps: nonZero / MiB / (ms / 1000), seconds: ms / 1000, bytes: nonZero };
  });
  const loopfs = combine([pushed], ["mibps", "seconds"]);
  const image = (await tenant.listImages()).find((i) => i.name === "ingest");
  const nonZeroChunks = nonZero / image.chunkSize;
  loopfs.chunkSize = image.chunkSize;
  loopfs.storedBytes = image.storedBytes;
  loopfs.nonZeroChunks = nonZeroChunks;
  loopfs.zeroChunks = (plan.size - nonZero) / image.chunkSize;
  // One put per non-zero chunk and nothing else: the zero half cost nothing.
  loopfs.zeroChunksFree =
    loopfs.r2.writes === nonZeroChunks &&
    loopfs.r2.reads === 0 &&
    loopfs.r2.lists === 0 &&
    loopfs.r2.deletes === 0;
  log(
    `ingest loopfs: ${loopfs.mibps.toFixed(1)} MiB/s of non-zero bytes; R2 ${JSON.stringify(loopfs.r2)} ` +
      `for ${nonZeroChunks} non-zero and ${loopfs.zeroChunks} zero chunks`,
  );
  return { size: plan.size, nonZero, floor: floorResult, loopfs };
}
