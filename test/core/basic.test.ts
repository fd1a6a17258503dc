import { describe, expect, it } from "vitest";
import { LoopError } from "../../src/errors";
import { deviceSize, type MapEntry } from "../../src/core/index";
import { newCore } from "./load";

const KiB = 1024;
const MiB = 1024 * KiB;

function stored(chunkId: number, fill = chunkId & 0xff): MapEntry {
  return { kind: "stored", chunkId, sha256: new Uint8Array(32).fill(fill) };
}

const HOLE: MapEntry = { kind: "hole", chunkId: 0, sha256: null };

function errnoOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof LoopError) return err.errno;
    throw err;
  }
  return undefined;
}

describe("zero detection", () => {
  it("tells all-zero buffers from buffers with one set byte", () => {
    const core = newCore();
    const buf = new Uint8Array(MiB + 3);
    expect(core.isZero(buf)).toBe(true);
    buf[MiB + 2] = 1;
    expect(core.isZero(buf)).toBe(false);
    expect(core.isZero(buf.subarray(0, MiB))).toBe(true);
    expect(core.isZero(new Uint8Array(0))).toBe(true);
  });
});

describe("device allocator", () => {
  it("hands out the lowest unbound device, then creates the lowest free number", () => {
    const { allocator } = newCore();
    expect(allocator.getFree(4)).toEqual({ number: 0, created: true });
    expect(allocator.getFree(4)).toEqual({ number: 0, created: false });
    allocator.setBound(0, true);
    allocator.add(2, 4);
    expect(allocator.getFree(4)).toEqual({ number: 2, created: false });
    allocator.setBound(2, true);
    expect(allocator.getFree(4)).toEqual({ number: 1, created: true });
    expect(allocator.list()).toEqual([0, 1, 2]);
    expect(errnoOf(() => allocator.add(2, 10))).toBe("EEXIST");
    expect(errnoOf(() => allocator.add(7, 3))).toBe("ENOSPC");
    expect(errnoOf(() => allocator.add(2 ** 20, 10))).toBe("EINVAL");
    expect(errnoOf(() => allocator.remove(0))).toBe("EBUSY");
    expect(errnoOf(() => allocator.remove(9))).toBe("ENODEV");
    allocator.remove(1);
    expect(allocator.count()).toBe(2);
  });

  it("saves and loads its state", () => {
    const core = newCore();
    core.allocator.add(5, 10);
    core.allocator.add(1000, 10);
    core.allocator.setBound(1000, true);
    const saved = core.allocator.save();
    const other = newCore();
    other.allocator.load(saved);
    expect(other.allocator.list()).toEqual([5, 1000]);
    expect(other.allocator.isBound(1000)).toBe(true);
    expect(other.allocator.isBound(5)).toBe(false);
    other.allocator.load(null);
    expect(other.allocator.count()).toBe(0);
  });
});

describe("block maps", () => {
  it("applies a compare-and-swap batch and returns the replaced entries", () => {
    const { maps } = newCore();
    const first = maps.compareAndSwap(7, [
      { chunkIndex: 3, expectChunkId: 0, entry: stored(11) },
      { chunkIndex: 5000, expectChunkId: null, entry: stored(12) },
    ]);
    expect(first).toEqual({ ok: true, replaced: [HOLE, HOLE] });
    expect(maps.get(7, 3)).toEqual(stored(11));
    expect(maps.get(8, 3)).toEqual(HOLE);

    const conflict = maps.compareAndSwap(7, [
      { chunkIndex: 3, expectChunkId: 99, entry: HOLE },
      { chunkIndex: 4, expectChunkId: 0, entry: stored(13) },
    ]);
    expect(conflict).toEqual({ ok: false, conflicts: [3] });
    expect(maps.get(7, 4)).toEqual(HOLE);

    const second = maps.compareAndSwap(7, [{ chunkIndex: 3, expectChunkId: 11, entry: HOLE }]);
    expect(second).toEqual({ ok: true, replaced: [stored(11)] });
  });

  it("hands dirty pages to the store and reads them back after a restart", () => {
    const rows = new Map<string, Uint8Array>();
    const store = { load: (id: number, page: number) => rows.get(`${id}/${page}`) ?? null };
    const core = newCore();
    core.maps.setPageStore(store);
    core.maps.compareAndSwap(1, [{ chunkIndex: 2049, expectChunkId: 0, entry: stored(42) }]);
    const dirty = core.maps.takeDirty();
    expect(dirty.map((d) => [d.imageId, d.page])).toEqual([[1, 2]]);
    for (const d of dirty) rows.set(`${d.imageId}/${d.page}`, d.bytes!);
    expect(core.maps.takeDirty()).toEqual([]);

    const restarted = newCore();
    restarted.maps.setPageStore(store);
    expect(restarted.maps.get(1, 2049)).toEqual(stored(42));
  });

  it("translates a device range into coalesced holes and one segment per stored chunk", () => {
    const { maps } = newCore();
    const chunkSize = 64 * KiB;
    maps.compareAndSwap(1, [
      { chunkIndex: 2, expectChunkId: 0, entry: stored(5) },
      { chunkIndex: 3, expectChunkId: 0, entry: stored(6) },
    ]);
    const g = { imageSize: 10 * chunkSize + 700, offset: 1024, sizelimit: 0 };
    expect(deviceSize(g)).toBe(10 * chunkSize - 512);
    const segments = maps.translate(1, chunkSize, g, 0, 100 * chunkSize);
    expect(segments).toEqual([
      {
        deviceOffset: 0,
        chunkIndex: 0,
        chunkOffset: 1024,
        length: 2 * chunkSize - 1024,
        kind: "hole",
        chunkId: 0,
      },
      {
        deviceOffset: 2 * chunkSize - 1024,
        chunkIndex: 2,
        chunkOffset: 0,
        length: chunkSize,
        kind: "stored",
        chunkId: 5,
      },
      {
        deviceOffset: 3 * chunkSize - 1024,
        chunkIndex: 3,
        chunkOffset: 0,
        length: chunkSize,
        kind: "stored",
        chunkId: 6,
      },
      {
        deviceOffset: 4 * chunkSize - 1024,
        chunkIndex: 4,
        chunkOffset: 0,
        length: 6 * chunkSize + 512,
        kind: "hole",
        chunkId: 0,
      },
    ]);
    expect(maps.extents(1, chunkSize, 10 * chunkSize + 700, 0, 2 ** 40)).toEqual([
      { offset: 0, length: 2 * chunkSize, kind: "hole" },
      { offset: 2 * chunkSize, length: 2 * chunkSize, kind: "stored" },
      { offset: 4 * chunkSize, length: 6 * chunkSize + 700, kind: "hole" },
    ]);
    expect(maps.storedChunks(1, 0, 1000)).toEqual([
      { chunkIndex: 2, chunkId: 5 },
      { chunkIndex: 3, chunkId: 6 },
    ]);
  });

  it("rejects numbers above 2^53-1 and bad chunk sizes", () => {
    const { maps } = newCore();
    expect(errnoOf(() => maps.get(1, 2 ** 53))).toBe("EOVERFLOW");
    expect(errnoOf(() => maps.get(1, 1.5))).toBe("EINVAL");
    const g = { imageSize: MiB, offset: 0, sizelimit: 0 };
    expect(errnoOf(() => maps.translate(1, 3000, g, 0, 1))).toBe("EINVAL");
    expect(errnoOf(() => maps.translate(1, 2 * MiB, g, 0, 1))).toBe("EINVAL");
  });
});
