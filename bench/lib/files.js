/** The local files the bench reads from: random bytes, and an image that is half zeros. */

import { randomFillSync } from "node:crypto";
import { open } from "node:fs/promises";
import { MiB } from "./stats.js";

const BLOCK = 8 * MiB;

/** A file of `size` random bytes (incompressible, nothing for any layer to shortcut). */
export async function writeRandomFile(path, size) {
  const file = await open(path, "w", 0o644);
  try {
    const block = Buffer.alloc(BLOCK);
    for (let at = 0; at < size; at += BLOCK) {
      const length = Math.min(BLOCK, size - at);
      randomFillSync(block, 0, length);
      await file.write(block, 0, length, at);
    }
  } finally {
    await file.close();
  }
}

/**
 * A file whose runs of `run` bytes alternate random and zero, starting with random: half of it
 * is zeros, in whole chunks for any chunk size up to `run`. Answers the non-zero byte count.
 */
export async function writeHalfZeroFile(path, size, run = 4 * MiB) {
  const file = await open(path, "w", 0o644);
  let nonZero = 0;
  try {
    const block = Buffer.alloc(run);
    for (let at = 0, index = 0; at < size; at += run, index++) {
      const length = Math.min(run, size - at);
      if (index % 2 === 0) {
        randomFillSync(block, 0, length);
        await file.write(block, 0, length, at);
        nonZero += length;
      }
    }
    await file.truncate(size);
  } finally {
    await file.close();
  }
  return nonZero;
}
