import { describe, expect, it } from "vitest";
import { attach, bytesOf, pattern, putImage } from "./helpers";
import { chunkKeys, expectBytes, imageList, mount, putRange, sweep } from "./data-helpers";

const CHUNK = 4096;
/** Chunks written side by side; every one sees ROUNDS / LANES rounds of two racing writers. */
const LANES = 8;
const ROUNDS = 200;

describe("concurrent writers to one chunk", () => {
  it("loses no update in 200 rounds of two writers racing on the two halves of a chunk", async () => {
    const t = await mount();
    await putImage(t, "disk", pattern(LANES * CHUNK, 3), CHUNK);
    const dev = await attach(t, "disk");

    const lane = async (chunk: number) => {
      const base = chunk * CHUNK;
      for (let round = chunk; round < ROUNDS; round += LANES) {
        const left = pattern(CHUNK / 2, 1000 + round);
        const right = pattern(CHUNK / 2, 5000 + round);
        const [a, b] = await Promise.all([
          putRange(t, `/devices/${dev}`, base, left),
          putRange(t, `/devices/${dev}`, base + CHUNK / 2, right),
        ]);
        expect([a.status, b.status]).toEqual([204, 204]);
        const res = await t.call(`/devices/${dev}`, {
          headers: { Range: `bytes=${base}-${base + CHUNK - 1}` },
        });
        const back = await bytesOf(res);
        expectBytes(back.subarray(0, CHUNK / 2), left, `round ${round} left`);
        expectBytes(back.subarray(CHUNK / 2), right, `round ${round} right`);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: LANES }, (_, chunk) => lane(chunk)));
    console.warn(`${ROUNDS} racing rounds in ${Math.round(performance.now() - started)} ms`);

    // Every replaced chunk was collected: one object per chunk remains.
    await sweep(t);
    expect((await chunkKeys(t)).length).toBe(LANES);
    expect((await imageList(t))[0].storedBytes).toBe(LANES * CHUNK);
  }, 60_000);
});
