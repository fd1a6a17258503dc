import { describe, expect, it } from "vitest";
import type { MapEntry, PageStore } from "../../src/core/index";
import { newCore } from "./load";
import { HOLE, MapModel } from "./model";

const KiB = 1024;
const MiB = 1024 * KiB;
const TiB = 1024 * 1024 * MiB;

function stored(chunkId: number): MapEntry {
  return { kind: "stored", chunkId, sha256: new Uint8Array(32).fill(chunkId) };
}

describe("a 1 TiB sparse image", () => {
  it("translates and lists extents over its whole range within a 16 MiB cache", () => {
    const chunkSize = 64 * KiB;
    const chunks = TiB / chunkSize;
    const rows = new Map<string, Uint8Array>();
    const store: PageStore = { load: (id, page) => rows.get(`${id}/${page}`) ?? null };
    const core = newCore({ cacheBytes: 16 * MiB });
    core.maps.setPageStore(store);

    const written = [0, 1, chunks / 2, chunks - 1];
    const result = core.maps.compareAndSwap(
      9,
      written.map((chunkIndex, i) => ({ chunkIndex, expectChunkId: 0, entry: stored(i + 1) })),
    );
    expect(result.ok).toBe(true);
    for (const d of core.maps.takeDirty()) rows.set(`${d.imageId}/${d.page}`, d.bytes!);
    expect(rows.size).toBe(3);

    const g = { imageSize: TiB, offset: 0, sizelimit: 0 };
    const segments = core.maps.translate(9, chunkSize, g, 0, TiB);
    expect(segments.map((s) => [s.deviceOffset, s.length, s.kind, s.chunkId])).toEqual([
      [0, chunkSize, "stored", 1],
      [chunkSize, chunkSize, "stored", 2],
      [2 * chunkSize, TiB / 2 - 2 * chunkSize, "hole", 0],
      [TiB / 2, chunkSize, "stored", 3],
      [TiB / 2 + chunkSize, TiB / 2 - 2 * chunkSize, "hole", 0],
      [TiB - chunkSize, chunkSize, "stored", 4],
    ]);
    expect(core.maps.stats().cacheBytes).toBeLessThanOrEqual(16 * MiB);

    expect(core.maps.extents(9, chunkSize, TiB, 0, TiB)).toEqual([
      { offset: 0, length: 2 * chunkSize, kind: "stored" },
      { offset: 2 * chunkSize, length: TiB / 2 - 2 * chunkSize, kind: "hole" },
      { offset: TiB / 2, length: chunkSize, kind: "stored" },
      { offset: TiB / 2 + chunkSize, length: TiB / 2 - 2 * chunkSize, kind: "hole" },
      { offset: TiB - chunkSize, length: chunkSize, kind: "stored" },
    ]);
    expect(core.maps.storedChunks(9, 0, chunks).map((c) => c.chunkIndex)).toEqual(written);
    const stats = core.maps.stats();
    expect(stats.cacheBytes).toBeLessThanOrEqual(16 * MiB);
    expect(stats.capacityBytes).toBeLessThanOrEqual(16 * MiB);
    expect(stats.cachedPages).toBeGreaterThan(300);
  }, 30_000);
});

describe("numbers at the edge of 2^53", () => {
  it("maps and translates chunks next to byte 2^53-1", () => {
    const core = newCore({ cacheBytes: MiB });
    const chunkSize = 4096;
    const imageSize = 2 ** 53 - 1;
    const lastChunk = Math.floor(imageSize / chunkSize);
    core.maps.compareAndSwap(2 ** 53 - 1, [
      { chunkIndex: lastChunk, expectChunkId: 0, entry: stored(2 ** 53 - 1) },
    ]);
    expect(core.maps.get(2 ** 53 - 1, lastChunk).chunkId).toBe(2 ** 53 - 1);

    // 8193 bytes from 2^53-8194 on: the device is 8192 bytes, ending 2 bytes before the image.
    const g = { imageSize, offset: imageSize - 8192 - 1, sizelimit: 0 };
    expect(core.maps.translate(2 ** 53 - 1, chunkSize, g, 0, 2 ** 53 - 1)).toEqual([
      {
        deviceOffset: 0,
        chunkIndex: lastChunk - 2,
        chunkOffset: 4094,
        length: 4098,
        kind: "hole",
        chunkId: 0,
      },
      {
        deviceOffset: 4098,
        chunkIndex: lastChunk,
        chunkOffset: 0,
        length: 4094,
        kind: "stored",
        chunkId: 2 ** 53 - 1,
      },
    ]);
    expect(core.maps.extents(2 ** 53 - 1, chunkSize, imageSize, imageSize - 1, 1)).toEqual([
      { offset: imageSize - 1, length: 1, kind: "stored" },
    ]);
  });
});

describe("walks longer than one batch of results", () => {
  it("resumes translate, extents and storedChunks where the io area filled up", () => {
    const core = newCore({ cacheBytes: 4 * MiB });
    const model = new MapModel();
    const chunkSize = 4096;
    const updates = [];
    for (let chunk = 0; chunk < 60_000; chunk++) {
      // Alternating chunks make one segment and one extent each; the tail is all stored.
      const entry = chunk < 30_000 && chunk % 2 === 1 ? HOLE : stored(chunk + 1);
      updates.push({ chunkIndex: chunk, expectChunkId: null, entry });
    }
    core.maps.compareAndSwap(3, updates);
    model.compareAndSwap(3, updates);

    const size = 60_000 * chunkSize;
    const g = { imageSize: size, offset: 100, sizelimit: 0 };
    const segments = core.maps.translate(3, chunkSize, g, 0, size);
    expect(segments.length).toBe(60_000);
    expect(segments).toEqual(model.translate(3, chunkSize, g, 0, size));
    const extents = core.maps.extents(3, chunkSize, size, 1, size);
    expect(extents.length).toBe(30_001);
    expect(extents).toEqual(model.extents(3, chunkSize, size, 1, size));
    const chunks = core.maps.storedChunks(3, 1, 60_000);
    expect(chunks.length).toBe(44_999);
    expect(chunks).toEqual(model.storedChunks(3, 1, 60_000));
  }, 30_000);
});
