/**
 * Before anything is timed: every system must serve the very bytes of the local image, or the
 * comparison means nothing.
 */

import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { randomOffsets } from "./stats.js";

const digest = (bytes) => createHash("sha256").update(bytes).digest("hex");

export async function checkSameBytes(systems, file, size) {
  const handle = await open(file, "r");
  try {
    for (const system of systems) {
      const own = system.readSize ?? size;
      const probes = [
        { offset: 0, length: Math.min(own, 1 << 20) },
        { offset: own - 5000, length: 5000 },
        ...randomOffsets(3, 4, own, 4096).map((offset) => ({ offset, length: 4096 })),
      ];
      for (const { offset, length } of probes) {
        const expected = Buffer.alloc(length);
        await handle.read(expected, 0, length, offset);
        const answer = await system.client.send("GET", system.path, {
          headers: { ...system.headers, range: `bytes=${offset}-${offset + length - 1}` },
          keep: true,
        });
        if (answer.status !== 206 || digest(answer.body) !== digest(expected)) {
          throw new Error(
            `${system.name} serves other bytes at ${offset}+${length} (status ${answer.status})`,
          );
        }
      }
    }
  } finally {
    await handle.close();
  }
}
