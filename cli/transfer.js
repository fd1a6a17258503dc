/**
 * What image push, image pull and device writes share: the piece size, chunk hashing and zero
 * detection, positional file reads, and a small pool that keeps a few requests in flight.
 */

import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { CliError } from "./errors.js";

/**
 * Largest body one request carries. Well under the 100 MB request cap of the smallest Workers
 * plan, and small enough that four in flight keep the CLI's memory modest.
 */
export const PIECE_MAX = 8 * 1024 * 1024;
/** Requests in flight during push and pull. */
export const IN_FLIGHT = 4;

/**
 * Bytes per piece for an image: a whole number of chunks, at most PIECE_MAX unless one chunk
 * is already larger.
 * @param {number} chunkSize
 */
export function pieceSizeFor(chunkSize) {
  return Math.max(chunkSize, Math.floor(PIECE_MAX / chunkSize) * chunkSize);
}

/** @param {Uint8Array} bytes */
export function sha256Hex(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

const ZEROS = Buffer.alloc(PIECE_MAX);

/**
 * True when every byte is zero; memcmp against a zero page, much faster than a JS loop.
 * @param {Buffer} bytes
 */
export function isZero(bytes) {
  for (let at = 0; at < bytes.length; at += ZEROS.length) {
    const part = bytes.subarray(at, at + ZEROS.length);
    if (!part.equals(ZEROS.subarray(0, part.length))) return false;
  }
  return true;
}

/**
 * Hashes a chunk as the server may have: the last chunk of an image can be shorter than
 * chunkSize, and a store may hash it as sent or padded with zeros to a full chunk, so both
 * digests are answered for a short chunk.
 * @param {Buffer} chunk
 * @param {number} chunkSize
 * @returns {string[]}
 */
export function chunkDigests(chunk, chunkSize) {
  const digests = [sha256Hex(chunk)];
  if (chunk.length < chunkSize) {
    const padded = Buffer.alloc(chunkSize);
    chunk.copy(padded);
    digests.push(sha256Hex(padded));
  }
  return digests;
}

/**
 * True when a local chunk holds what the server stores for it: the listed SHA-256, or zeros
 * where the server lists nothing (a hole).
 * @param {Buffer} chunk
 * @param {number} chunkSize
 * @param {string | undefined} digest
 */
export function matchesStored(chunk, chunkSize, digest) {
  if (digest === undefined) return isZero(chunk);
  return chunkDigests(chunk, chunkSize).includes(digest);
}

/**
 * Byte runs `[start, end)` of `bytes` made of the chunks `select` picks, neighbours joined so
 * each run goes in one request.
 * @param {Buffer} bytes
 * @param {number} chunkSize
 * @param {(chunk: Buffer, nth: number) => boolean} select  `nth` counts chunks from 0
 * @returns {{ start: number, end: number }[]}
 */
export function chunkRuns(bytes, chunkSize, select) {
  const runs = [];
  for (let start = 0, nth = 0; start < bytes.length; start += chunkSize, nth++) {
    const chunk = bytes.subarray(start, start + chunkSize);
    if (!select(chunk, nth)) continue;
    const last = runs[runs.length - 1];
    if (last && last.end === start) last.end = start + chunk.length;
    else runs.push({ start, end: start + chunk.length });
  }
  return runs;
}

/**
 * Opens a local file, naming it in the error a user sees.
 * @param {string} file
 * @param {string} flags
 */
export async function openLocal(file, flags) {
  try {
    return await open(file, flags);
  } catch (err) {
    throw new CliError(err.code === "ENOENT" ? "ENOENT" : "EIO", `${file}: ${err.message}`);
  }
}

/**
 * Reads exactly `length` bytes at `position` (fewer only at end of file).
 * @param {import("node:fs/promises").FileHandle} file
 * @param {number} position
 * @param {number} length
 */
export async function readAt(file, position, length) {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * Runs `work` on each item with at most `limit` running at once. The first failure stops
 * handing out new items and is thrown once the running ones have settled. `shouldStop` lets a
 * caller end early (Ctrl-C) without an error.
 * @template T
 * @param {Iterable<T>} items
 * @param {number} limit
 * @param {(item: T) => Promise<void>} work
 * @param {() => boolean} [shouldStop]
 */
export async function runPool(items, limit, work, shouldStop = () => false) {
  const iterator = items[Symbol.iterator]();
  let failure;
  async function worker() {
    while (failure === undefined && !shouldStop()) {
      const next = iterator.next();
      if (next.done) return;
      try {
        await work(next.value);
      } catch (err) {
        failure ??= { err };
      }
    }
  }
  await Promise.all(Array.from({ length: limit }, worker));
  if (failure) throw failure.err;
}

/**
 * Splits [offset, offset + length) into pieces of at most `size` bytes.
 * @param {number} offset
 * @param {number} length
 * @param {number} size
 * @returns {Generator<{ offset: number, length: number }>}
 */
export function* pieces(offset, length, size) {
  for (let at = 0; at < length; at += size) {
    yield { offset: offset + at, length: Math.min(size, length - at) };
  }
}

/** `bytes=a-b` for a Range header, or the `bytes a-b/total` of a Content-Range. */
export function byteRange(offset, length) {
  return `${offset}-${offset + length - 1}`;
}
