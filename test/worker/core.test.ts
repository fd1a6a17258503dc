import { expect, it } from "vitest";
import coreModule from "../../build/core.wasm";
import { Core } from "../../src/core/index";

it("runs the storage core inside workerd", () => {
  const core = Core.instantiate(coreModule, { cacheBytes: 1024 * 1024 });
  const chunk = new Uint8Array(65536);
  expect(core.isZero(chunk)).toBe(true);
  chunk[40000] = 7;
  expect(core.isZero(chunk)).toBe(false);

  const sha256 = new Uint8Array(32).fill(9);
  core.maps.compareAndSwap(1, [
    { chunkIndex: 1, expectChunkId: 0, entry: { kind: "stored", chunkId: 77, sha256 } },
  ]);
  const g = { imageSize: 4 * 65536, offset: 0, sizelimit: 0 };
  expect(core.maps.translate(1, 65536, g, 60000, 10000)).toEqual([
    {
      deviceOffset: 60000,
      chunkIndex: 0,
      chunkOffset: 60000,
      length: 5536,
      kind: "hole",
      chunkId: 0,
    },
    {
      deviceOffset: 65536,
      chunkIndex: 1,
      chunkOffset: 0,
      length: 4464,
      kind: "stored",
      chunkId: 77,
    },
  ]);
});
