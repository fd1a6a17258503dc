import { describe, expect, it } from "vitest";
import { bytesOf, pattern } from "./helpers";
import {
  chunkKeys,
  createImage,
  expectBytes,
  imageList,
  mount,
  problem,
  putRange,
  sweep,
} from "./data-helpers";

const KiB = 1024;
const TiB = 2 ** 40;
const LARGEST = 2 ** 53 - 512;

interface Extent {
  offset: number;
  length: number;
  kind: string;
}

describe("huge sparse images", () => {
  it("lists the runs of holes and stored chunks of a 1 TiB image, merged", async () => {
    const t = await mount();
    const chunk = 64 * KiB;
    await createImage(t, "huge", TiB, chunk);
    const middle = 2 ** 39 + 70_000; // spans chunks 2^23 + 1 and 2^23 + 2
    expect((await putRange(t, "/images/huge", 0, pattern(4 * KiB, 1))).status).toBe(204);
    expect((await putRange(t, "/images/huge", middle, pattern(80_000, 2))).status).toBe(204);
    expect((await putRange(t, "/images/huge", TiB - 10, pattern(10, 3))).status).toBe(204);

    const res = await t.call("/images/huge/extents");
    expect(res.status).toBe(200);
    const { extents } = (await res.json()) as { extents: Extent[] };
    const firstMiddle = Math.floor(middle / chunk) * chunk;
    const endMiddle = Math.ceil((middle + 80_000) / chunk) * chunk;
    expect(extents).toEqual([
      { offset: 0, length: chunk, kind: "stored" },
      { offset: chunk, length: firstMiddle - chunk, kind: "hole" },
      { offset: firstMiddle, length: endMiddle - firstMiddle, kind: "stored" },
      { offset: endMiddle, length: TiB - chunk - endMiddle, kind: "hole" },
      { offset: TiB - chunk, length: chunk, kind: "stored" },
    ]);

    const window = await t.call(`/images/huge/extents?offset=${chunk / 2}&length=${chunk}`);
    expect(((await window.json()) as { extents: Extent[] }).extents).toEqual([
      { offset: chunk / 2, length: chunk / 2, kind: "stored" },
      { offset: chunk, length: chunk / 2, kind: "hole" },
    ]);
  });

  it("reads, shrinks and deletes an image of 2^53 - 512 bytes in time that follows its data", async () => {
    const t = await mount();
    await createImage(t, "largest", LARGEST, 4 * KiB);
    const tail = pattern(4 * KiB, 9);
    expect((await putRange(t, "/images/largest", LARGEST - 4 * KiB, tail)).status).toBe(204);
    expect((await putRange(t, "/images/largest", 0, pattern(512, 8))).status).toBe(204);

    const read = await t.call("/images/largest", { headers: { Range: "bytes=-4096" } });
    expect(read.status).toBe(206);
    expect(read.headers.get("Content-Range")).toBe(
      `bytes ${LARGEST - 4096}-${LARGEST - 1}/${LARGEST}`,
    );
    expectBytes(await bytesOf(read), tail);

    const shrink = await t.call("/images/largest", { method: "PATCH", json: { size: 2 ** 52 } });
    expect(shrink.status).toBe(200);
    expect((await imageList(t))[0]).toMatchObject({ size: 2 ** 52, storedBytes: 4 * KiB });

    expect((await t.call("/images/largest", { method: "DELETE" })).status).toBe(204);
    await sweep(t);
    expect(await chunkKeys(t)).toEqual([]);
  });

  it("refuses an image larger than 2^53 - 512 bytes with EOVERFLOW", async () => {
    const t = await mount();
    for (const size of [LARGEST + 1, Number.MAX_SAFE_INTEGER]) {
      const res = await t.call("/images", { method: "POST", json: { name: "over", size } });
      expect(await problem(res)).toMatchObject({ errno: "EOVERFLOW", status: 400 });
    }
    expect(await imageList(t)).toEqual([]);
  });
});
