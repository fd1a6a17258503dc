/**
 * Bytes in and out of a bound device: `read` (Range GETs to stdout), `write` (partial PUTs with
 * Content-Range, in order) and `discard`.
 */

import { readFile } from "node:fs/promises";
import { parseDeviceOrPartition } from "./args.js";
import { CliError, usageError } from "./errors.js";
import { createProgress } from "./progress.js";
import { parseSize } from "./sizes.js";
import { IN_FLIGHT, PIECE_MAX, byteRange, openLocal, pieces, readAt } from "./transfer.js";

/** @typedef {import("./losetup.js").Context} Context */

/**
 * Writes to a stream and waits until it has taken the bytes, so a slow pipe holds back the
 * next request instead of piling pieces up in memory.
 * @param {NodeJS.WritableStream} stream
 * @param {Uint8Array} bytes
 */
export function writeOut(stream, bytes) {
  return new Promise((resolve, reject) => {
    stream.write(bytes, (err) => (err ? reject(err) : resolve(undefined)));
  });
}

/** `loopfs read loopN [--offset N] [--length N]`: the device's bytes on stdout. */
export async function read(ctx) {
  if (ctx.stdout.isTTY) throw usageError("read writes raw bytes; redirect stdout to a file");
  const device = parseDeviceOrPartition(ctx.operands[0]);
  const offset = ctx.values.offset === undefined ? 0 : parseSize(ctx.values.offset, "offset");
  // As a read of a file: whatever lies past the device's end is simply not there (exit 0).
  const size = await deviceSize(ctx, device);
  const wanted =
    ctx.values.length === undefined ? Infinity : parseSize(ctx.values.length, "length");
  const length = Math.max(0, Math.min(wanted, size - offset));

  const path = ctx.client.tenantPath("devices", device);
  const fetchPiece = async (piece) => {
    const bytes = await ctx.client.call("GET", path, {
      headers: { range: `bytes=${byteRange(piece.offset, piece.length)}` },
      expect: "bytes",
    });
    if (bytes.length > piece.length) {
      throw new CliError("EIO", `${device}: asked for ${piece.length} bytes, got ${bytes.length}`);
    }
    return bytes;
  };

  // Up to IN_FLIGHT pieces are fetched ahead; they are written out strictly in order.
  const upcoming = pieces(offset, length, PIECE_MAX);
  const queue = [];
  const fetchNext = () => {
    const next = upcoming.next();
    if (next.done) return;
    const pending = fetchPiece(next.value);
    pending.catch(() => {}); // observed when its turn comes; not an unhandled rejection before
    queue.push(pending);
  };
  for (let i = 0; i < IN_FLIGHT; i++) fetchNext();
  while (queue.length > 0) {
    const bytes = await queue.shift();
    await writeOut(ctx.stdout, bytes);
    fetchNext();
  }
  return 0;
}

/**
 * The size of a device or partition in bytes: from the Content-Range of a one-byte read (a HEAD
 * answer has no body to carry the errno of a failure, such as ENXIO for an unbound device).
 * @param {object} ctx
 * @param {string} device
 */
async function deviceSize(ctx, device) {
  try {
    const { response } = await ctx.client.callWithResponse(
      "GET",
      ctx.client.tenantPath("devices", device),
      { headers: { range: "bytes=0-0" }, expect: "bytes" },
    );
    return Number(/\/(\d+)$/.exec(response.headers.get("content-range") ?? "")?.[1] ?? 0);
  } catch (err) {
    if (err instanceof CliError && err.errno === "ERANGE") return 0; // an empty device
    throw err;
  }
}

/**
 * Parses a ranges file: one `OFFSET LENGTH` per line (sizes with units allowed), `#` comments.
 * @param {string} text
 * @returns {{ offset: number, length: number }[]}
 */
export function parseRanges(text) {
  const ranges = [];
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    const fields = line.split(/[\s,]+/);
    if (fields.length !== 2) throw usageError(`ranges line ${index + 1}: expected OFFSET LENGTH`);
    ranges.push({
      offset: parseSize(fields[0], `offset on ranges line ${index + 1}`),
      length: parseSize(fields[1], `length on ranges line ${index + 1}`),
    });
  }
  return ranges;
}

/**
 * `loopfs write loopN [--offset N] FILE [--ranges LIST]`. Without --ranges the whole FILE goes
 * to the device at --offset. With it, FILE is read at each listed range and written to the same
 * range of the device shifted by --offset: send only what changed in a local copy of an image.
 * FILE `-` is stdin (without --ranges).
 */
export async function write(ctx) {
  const device = parseDeviceOrPartition(ctx.operands[0]);
  const file = ctx.operands[1];
  const base = ctx.values.offset === undefined ? 0 : parseSize(ctx.values.offset, "offset");
  const path = ctx.client.tenantPath("devices", device);

  /** Sends one piece; every piece is acknowledged before the next goes, so order holds. */
  const put = (offset, bytes) =>
    ctx.client.call("PUT", path, {
      body: bytes,
      headers: {
        "content-range": `bytes ${byteRange(offset, bytes.length)}/*`,
        "content-type": "application/octet-stream",
      },
      expect: "none",
    });

  if (file === "-") {
    if (ctx.values.ranges !== undefined) throw usageError("--ranges needs a file, not stdin");
    let offset = base;
    for await (const piece of readPieces(process.stdin)) {
      await put(offset, piece);
      offset += piece.length;
    }
    return 0;
  }

  const handle = await openLocal(file, "r");
  try {
    const ranges =
      ctx.values.ranges === undefined
        ? [{ offset: 0, length: (await handle.stat()).size }]
        : parseRanges(await readFile(String(ctx.values.ranges), "utf8"));
    const total = ranges.reduce((sum, r) => sum + r.length, 0);
    const progress =
      total > PIECE_MAX
        ? createProgress({ label: `write ${device}`, total, stream: ctx.stderr })
        : null;
    for (const range of ranges) {
      for (const piece of pieces(range.offset, range.length, PIECE_MAX)) {
        const bytes = await readAt(handle, piece.offset, piece.length);
        if (bytes.length !== piece.length) {
          throw new CliError(
            "ERANGE",
            `${file}: range ${piece.offset}+${piece.length} is past its end`,
          );
        }
        await put(base + piece.offset, bytes);
        progress?.advance(bytes.length);
      }
    }
    progress?.finish();
  } finally {
    await handle.close();
  }
  return 0;
}

/**
 * Gathers a stream into pieces of PIECE_MAX bytes (the last one shorter).
 * @param {AsyncIterable<Buffer>} stream
 */
async function* readPieces(stream) {
  let parts = [];
  let size = 0;
  for await (const chunk of stream) {
    let rest = chunk;
    while (size + rest.length >= PIECE_MAX) {
      const take = PIECE_MAX - size;
      yield Buffer.concat([...parts, rest.subarray(0, take)]);
      rest = rest.subarray(take);
      parts = [];
      size = 0;
    }
    if (rest.length > 0) {
      parts.push(rest);
      size += rest.length;
    }
  }
  if (size > 0) yield Buffer.concat(parts);
}

/** `loopfs discard loopN [--offset N] --length N` */
export async function discard(ctx) {
  const device = parseDeviceOrPartition(ctx.operands[0]);
  if (ctx.values.length === undefined) throw usageError("discard needs --length");
  const offset = ctx.values.offset === undefined ? 0 : parseSize(ctx.values.offset, "offset");
  const length = parseSize(ctx.values.length, "length");
  const path = ctx.client.tenantPath("devices", device, "discard");
  await ctx.client.call("POST", path, { json: { offset, length }, expect: "none", retry: true });
  return 0;
}
