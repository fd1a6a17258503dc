/**
 * Checks on the numbers that cross into the core: byte counts and indexes are JS numbers that
 * must be exact integers, so everything above 2^53-1 is refused before it can round.
 */
import { LoopError } from "../errors";

export const MAX_BYTES = Number.MAX_SAFE_INTEGER;

/** Chunk sizes an image may use: powers of two from one 4 KiB block to 1 MiB. */
export const MIN_CHUNK_SIZE = 4096;
export const MAX_CHUNK_SIZE = 1 << 20;

/** Returns `value` if it is an integer in 0..2^53-1; EOVERFLOW above, EINVAL otherwise. */
export function checkCount(value: number, name: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new LoopError("EINVAL", `${name} must be an integer from 0 to 2^53-1, got ${value}`);
  }
  if (value > MAX_BYTES) {
    throw new LoopError("EOVERFLOW", `${name} ${value} is above 2^53-1`);
  }
  return value;
}

/** log2 of a valid chunk size. */
export function chunkShift(chunkSize: number): number {
  checkCount(chunkSize, "chunkSize");
  const shift = Math.log2(chunkSize);
  if (!Number.isInteger(shift) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new LoopError(
      "EINVAL",
      `chunkSize must be a power of two from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE}, ` +
        `got ${chunkSize}`,
    );
  }
  return shift;
}
