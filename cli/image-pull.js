/**
 * `loopfs image pull NAME FILE`: downloads an image into a sparse local file.
 *
 * Only the data extents are fetched (Range GETs of at most 8 MiB, four in flight); holes are
 * left unwritten so the file stays sparse. Every fetched chunk is checked against the SHA-256
 * the server lists. If FILE already exists with the image's size the pull resumes: chunks whose
 * local hash matches are not fetched again, and local data where the image has holes is zeroed.
 */

import { stat } from "node:fs/promises";
import { CliError } from "./errors.js";
import { findImage, imageExtents, isHoleExtent, storedChunks } from "./images.js";
import { createProgress } from "./progress.js";
import { formatBytes } from "./sizes.js";
import {
  IN_FLIGHT,
  byteRange,
  chunkRuns,
  isZero,
  matchesStored,
  openLocal,
  pieceSizeFor,
  pieces,
  readAt,
  runPool,
} from "./transfer.js";

/** @typedef {import("./losetup.js").Context} Context */

/** @param {Context} ctx */
export async function imagePull(ctx) {
  const [name, file] = ctx.operands;
  const image = await findImage(ctx.client, name);
  if (!image) throw new CliError("ENOENT", `image ${name} not found`);
  const extents = await imageExtents(ctx.client, name);

  const existing = await stat(file).catch(() => null);
  const resume = existing !== null && existing.isFile() && existing.size === image.size;
  const handle = await openLocal(file, resume ? "r+" : "w");
  try {
    if (resume) ctx.stderr.write(`resuming pull into ${file}\n`);
    else await handle.truncate(image.size);
    return await download(ctx, handle, image, extents, resume);
  } finally {
    await handle.close();
  }
}

async function download(ctx, handle, image, extents, resume) {
  const { name, size, chunkSize } = image;
  const path = ctx.client.tenantPath("images", name);
  const progress = createProgress({ label: `pull ${name}`, total: size, stream: ctx.stderr });
  const pieceSize = pieceSizeFor(chunkSize);
  let fetched = 0;

  /** Writes the chunks of `bytes` (which starts at `offset`) that the file does not hold yet. */
  const store = async (offset, bytes) => {
    for (let start = 0; start < bytes.length; start += chunkSize) {
      const chunk = bytes.subarray(start, start + chunkSize);
      // A fresh file is already zeros there; keep it sparse.
      if (!resume && isZero(chunk)) continue;
      await handle.write(chunk, 0, chunk.length, offset + start);
    }
  };

  const pullPiece = async ({ offset, length, hole }) => {
    if (hole) {
      if (resume) await zeroLocal(handle, offset, length, chunkSize);
      progress.advance(length);
      return;
    }
    const firstChunk = Math.floor(offset / chunkSize);
    const count = Math.ceil(length / chunkSize);
    const stored = await storedChunks(ctx.client, name, firstChunk, count);
    const local = resume ? await readAt(handle, offset, length) : null;

    for (const run of runsToFetch(local, offset, length, chunkSize, stored)) {
      const bytes = await ctx.client.call("GET", path, {
        headers: { range: `bytes=${byteRange(run.offset, run.length)}` },
        expect: "bytes",
        onRetry: (attempt, err) => progress.note(`retrying after: ${err.message}`),
      });
      verify(name, bytes, run, chunkSize, stored);
      await store(run.offset, bytes);
      fetched += bytes.length;
    }
    progress.advance(length);
  };

  const work = [];
  for (const extent of extents) {
    const hole = isHoleExtent(extent);
    if (hole && !resume) {
      progress.advance(extent.length);
      continue;
    }
    // Whole chunks only, so every piece lines up with the hashes the server lists.
    const start = Math.floor(extent.offset / chunkSize) * chunkSize;
    const end = Math.min(Math.ceil((extent.offset + extent.length) / chunkSize) * chunkSize, size);
    for (const piece of pieces(start, end - start, pieceSize)) work.push({ ...piece, hole });
  }
  const interrupted = ctx.trapInterrupt?.() ?? (() => false);
  await runPool(work, IN_FLIGHT, pullPiece, interrupted);
  progress.finish();
  if (interrupted()) {
    ctx.stderr.write(`interrupted: run the same command again to resume\n`);
    return 130;
  }
  ctx.stderr.write(
    `pulled ${name}: ${formatBytes(fetched)} fetched, ${formatBytes(size - fetched)} skipped\n`,
  );
  return 0;
}

/**
 * Byte ranges of a piece still to fetch: all of it for a fresh file, else the chunks whose
 * local bytes differ from the stored chunk (or are not zero where the server has no chunk).
 */
function runsToFetch(local, offset, length, chunkSize, stored) {
  if (!local) return [{ offset, length }];
  const firstChunk = offset / chunkSize;
  const differs = (chunk, nth) => !matchesStored(chunk, chunkSize, stored.get(firstChunk + nth));
  return chunkRuns(local, chunkSize, differs).map(({ start, end }) => ({
    offset: offset + start,
    length: end - start,
  }));
}

/** Refuses bytes that do not match the chunk hashes listed for them. */
function verify(name, bytes, run, chunkSize, stored) {
  if (bytes.length !== run.length) {
    throw new CliError("EIO", `image ${name}: asked for ${run.length} bytes, got ${bytes.length}`);
  }
  for (let start = 0; start < bytes.length; start += chunkSize) {
    const index = (run.offset + start) / chunkSize;
    const chunk = bytes.subarray(start, start + chunkSize);
    if (!matchesStored(chunk, chunkSize, stored.get(index))) {
      throw new CliError(
        "EIO",
        `image ${name}: chunk ${index} does not match its SHA-256 (changed during the pull?)`,
      );
    }
  }
}

/** Zeroes the chunks of a local range that are not zero already (resume over a hole). */
async function zeroLocal(handle, offset, length, chunkSize) {
  const local = await readAt(handle, offset, length);
  for (const { start, end } of chunkRuns(local, chunkSize, (chunk) => !isZero(chunk))) {
    await handle.write(Buffer.alloc(end - start), 0, end - start, offset + start);
  }
}
