/**
 * `loopfs image push FILE [NAME]`: uploads a local disk image, sending only what the server
 * lacks.
 *
 * The image is created sparse first, then filled piece by piece (whole chunks, at most 8 MiB)
 * with partial PUTs, four in flight. Before a piece goes up its chunks are compared with the
 * server's: a chunk that is all zeros here and a hole there, or whose SHA-256 matches the stored
 * one, is skipped. That makes an interrupted push resumable by running it again, and a push of
 * a slightly changed image cheap.
 */

import { basename } from "node:path";
import { CliError } from "./errors.js";
import { createImage, findImage, storedChunks } from "./images.js";
import { createProgress } from "./progress.js";
import { formatBytes, parseSize } from "./sizes.js";
import {
  IN_FLIGHT,
  byteRange,
  chunkRuns,
  matchesStored,
  openLocal,
  pieceSizeFor,
  pieces,
  readAt,
  runPool,
} from "./transfer.js";

/** @typedef {import("./losetup.js").Context} Context */

/**
 * Which chunks of a piece must be sent, as runs of consecutive chunks (byte ranges within the
 * piece). `stored` maps chunk index to the server's SHA-256; absent means hole.
 * @param {Buffer} bytes      the piece's local bytes
 * @param {number} firstChunk index of the piece's first chunk
 * @param {number} chunkSize
 * @param {Map<number, string>} stored
 * @returns {{ start: number, end: number }[]}
 */
export function chunksToSend(bytes, firstChunk, chunkSize, stored) {
  return chunkRuns(
    bytes,
    chunkSize,
    (chunk, nth) => !matchesStored(chunk, chunkSize, stored.get(firstChunk + nth)),
  );
}

/** @param {Context} ctx */
export async function imagePush(ctx) {
  const [file, nameOperand] = ctx.operands;
  const name = nameOperand ?? basename(file);
  const handle = await openLocal(file, "r");
  try {
    const size = (await handle.stat()).size;
    const { image, created } = await openRemoteImage(ctx, name, size);
    return await upload(ctx, handle, image, created);
  } finally {
    await handle.close();
  }
}

/** Finds the image to resume, or creates it sparse. */
async function openRemoteImage(ctx, name, size) {
  const chunkSize =
    ctx.values["chunk-size"] === undefined
      ? undefined
      : parseSize(ctx.values["chunk-size"], "chunk size");
  const existing = await findImage(ctx.client, name);
  if (!existing) {
    const request = chunkSize === undefined ? { name, size } : { name, size, chunkSize };
    return { image: await createImage(ctx.client, request), created: true };
  }

  if (existing.size !== size) {
    throw new CliError(
      "EEXIST",
      `image ${name} exists with size ${existing.size}, the file has ${size}; ` +
        `remove it (loopfs image rm ${name}) or push under another name`,
    );
  }
  if (chunkSize !== undefined && chunkSize !== existing.chunkSize) {
    throw new CliError("EEXIST", `image ${name} exists with chunk size ${existing.chunkSize}`);
  }
  ctx.stderr.write(`resuming push to existing image ${name}\n`);
  return { image: existing, created: false };
}

async function upload(ctx, handle, image, created) {
  const { name, size, chunkSize } = image;
  const path = ctx.client.tenantPath("images", name);
  const progress = createProgress({ label: `push ${name}`, total: size, stream: ctx.stderr });
  let sent = 0;

  const onRetry = (attempt, err) => progress.note(`retrying after: ${err.message}`);
  const sendPiece = async (piece) => {
    const bytes = await readAt(handle, piece.offset, piece.length);
    const firstChunk = piece.offset / chunkSize;
    // A freshly created image is all holes: nothing to ask the server.
    const stored = created
      ? new Map()
      : await storedChunks(ctx.client, name, firstChunk, Math.ceil(bytes.length / chunkSize));
    for (const run of chunksToSend(bytes, firstChunk, chunkSize, stored)) {
      const offset = piece.offset + run.start;
      await ctx.client.call("PUT", path, {
        body: bytes.subarray(run.start, run.end),
        headers: {
          "content-range": `bytes ${byteRange(offset, run.end - run.start)}/${size}`,
          "content-type": "application/octet-stream",
        },
        expect: "none",
        onRetry,
      });
      sent += run.end - run.start;
    }
    progress.advance(piece.length);
  };

  const interrupted = ctx.trapInterrupt?.() ?? (() => false);
  await runPool(pieces(0, size, pieceSizeFor(chunkSize)), IN_FLIGHT, sendPiece, interrupted);
  progress.finish();
  if (interrupted()) {
    ctx.stderr.write(`interrupted: run the same command again to resume\n`);
    return 130;
  }
  ctx.stderr.write(
    `pushed ${name}: ${formatBytes(sent)} sent, ${formatBytes(size - sent)} skipped\n`,
  );
  const final = await findImage(ctx.client, name);
  ctx.stdout.write(`${JSON.stringify(final ?? image, null, 2)}\n`);
  return 0;
}
