import { describe, expect, it } from "vitest";
import { deviceSize, type MapEntry } from "../../src/core/index";
import { newCore } from "./load";
import { outcome } from "./outcome";

const PAGE_BYTES = 40960;
const sha256 = new Uint8Array(32).fill(1);

describe("device size", () => {
  it("follows the kernel: clipped by sizelimit, rounded down to 512, 0 past the end", () => {
    expect(deviceSize({ imageSize: 0, offset: 0, sizelimit: 0 })).toBe(0);
    expect(deviceSize({ imageSize: 511, offset: 0, sizelimit: 0 })).toBe(0);
    expect(deviceSize({ imageSize: 512, offset: 0, sizelimit: 0 })).toBe(512);
    expect(deviceSize({ imageSize: 1535, offset: 1, sizelimit: 0 })).toBe(1024);
    expect(deviceSize({ imageSize: 4096, offset: 0, sizelimit: 1000 })).toBe(512);
    expect(deviceSize({ imageSize: 4096, offset: 4096, sizelimit: 0 })).toBe(0);
    expect(deviceSize({ imageSize: 4096, offset: 5000, sizelimit: 0 })).toBe(0);
    expect(deviceSize({ imageSize: 2 ** 53 - 1, offset: 0, sizelimit: 0 })).toBe(2 ** 53 - 512);
    expect(outcome(() => deviceSize({ imageSize: 2 ** 53, offset: 0, sizelimit: 0 }))).toEqual({
      errno: "EOVERFLOW",
    });
  });
});

describe("map entry checks", () => {
  const { maps } = newCore({ cacheBytes: PAGE_BYTES });
  const cas = (entry: MapEntry, chunkIndex = 0, expectChunkId: number | null = null) =>
    outcome(() => maps.compareAndSwap(1, [{ chunkIndex, expectChunkId, entry }]));

  it("rejects malformed entries with EINVAL and huge numbers with EOVERFLOW", () => {
    expect(cas({ kind: "stored", chunkId: 0, sha256 })).toEqual({ errno: "EINVAL" });
    expect(cas({ kind: "stored", chunkId: 5, sha256: null })).toEqual({ errno: "EINVAL" });
    expect(cas({ kind: "stored", chunkId: 5, sha256: sha256.subarray(1) })).toEqual({
      errno: "EINVAL",
    });
    expect(cas({ kind: "hole", chunkId: 5, sha256: null })).toEqual({ errno: "EINVAL" });
    expect(cas({ kind: "parent", chunkId: 0, sha256 })).toEqual({ errno: "EINVAL" });
    expect(cas({ kind: "stored", chunkId: 2 ** 53, sha256 })).toEqual({ errno: "EOVERFLOW" });
    expect(cas({ kind: "hole", chunkId: 0, sha256: null }, 2 ** 53)).toEqual({
      errno: "EOVERFLOW",
    });
    expect(cas({ kind: "hole", chunkId: 0, sha256: null }, 0, 2 ** 53)).toEqual({
      errno: "EOVERFLOW",
    });
    const twice = outcome(() =>
      maps.compareAndSwap(1, [
        { chunkIndex: 3, expectChunkId: null, entry: { kind: "stored", chunkId: 1, sha256 } },
        { chunkIndex: 3, expectChunkId: null, entry: { kind: "stored", chunkId: 2, sha256 } },
      ]),
    );
    expect(twice).toEqual({ errno: "EINVAL" });
    expect(maps.get(1, 3).kind).toBe("hole");
    expect(maps.takeDirty()).toEqual([]);
  });

  it("treats a parent entry as chunk id 0 for the comparison", () => {
    expect(cas({ kind: "parent", chunkId: 0, sha256: null }, 7)).toMatchObject({
      value: { ok: true },
    });
    expect(cas({ kind: "stored", chunkId: 4, sha256 }, 7, 0)).toEqual({
      value: { ok: true, replaced: [{ kind: "parent", chunkId: 0, sha256: null }] },
    });
  });
});

describe("page cache bounds", () => {
  it("refuses a page it cannot hold with EAGAIN while every slot is dirty, then recovers", () => {
    const core = newCore({ cacheBytes: 2 * PAGE_BYTES });
    const put = (chunkIndex: number) =>
      outcome(() =>
        core.maps.compareAndSwap(1, [
          { chunkIndex, expectChunkId: 0, entry: { kind: "stored", chunkId: 9, sha256 } },
        ]),
      );
    expect(put(0)).toMatchObject({ value: { ok: true } });
    expect(put(1024)).toMatchObject({ value: { ok: true } });
    expect(put(2048)).toEqual({ errno: "EAGAIN" });
    expect(outcome(() => core.maps.get(1, 5000))).toEqual({ errno: "EAGAIN" });
    expect(core.maps.get(1, 1).kind).toBe("hole");

    core.maps.drop(1);
    expect(core.maps.stats().cachedPages).toBe(0);
    expect(core.maps.get(1, 0).kind).toBe("hole");
    expect(put(2048)).toMatchObject({ value: { ok: true } });
  });

  it("reports a corrupt stored page as EIO and keeps working", () => {
    const core = newCore({ cacheBytes: 2 * PAGE_BYTES });
    core.maps.setPageStore({
      load: (_, page) => (page === 1 ? new Uint8Array([2, 0, 0, 0, 9]) : null),
    });
    expect(outcome(() => core.maps.get(1, 1024))).toEqual({ errno: "EIO" });
    expect(core.maps.get(1, 0).kind).toBe("hole");
    expect(core.maps.stats().cachedPages).toBe(1);
  });

  it("rejects cache bounds below one page", () => {
    expect(outcome(() => newCore({ cacheBytes: PAGE_BYTES - 1 }))).toEqual({ errno: "EINVAL" });
  });
});

describe("stored map pages", () => {
  function roundTrip(count: number) {
    const rows = new Map<number, Uint8Array>();
    const core = newCore({ cacheBytes: PAGE_BYTES });
    const updates = Array.from({ length: count }, (_, i) => ({
      chunkIndex: 1024 + i,
      expectChunkId: 0,
      entry: {
        kind: "stored" as const,
        chunkId: 2 ** 53 - 1 - i,
        sha256: sha256.map((b) => b + i),
      },
    }));
    core.maps.compareAndSwap(4, updates);
    const [dirty] = core.maps.takeDirty();
    rows.set(dirty.page, dirty.bytes!);

    const restarted = newCore({ cacheBytes: PAGE_BYTES });
    restarted.maps.setPageStore({ load: (_, page) => rows.get(page) ?? null });
    for (const u of updates) expect(restarted.maps.get(4, u.chunkIndex)).toEqual(u.entry);
    expect(restarted.maps.get(4, 1024 + count)).toEqual({ kind: "hole", chunkId: 0, sha256: null });
    return dirty.bytes!.length;
  }

  it("stores pages with up to 930 entries sparse and fuller pages dense, and reads both back", () => {
    expect(roundTrip(1)).toBe(8 + 44);
    expect(roundTrip(930)).toBe(8 + 930 * 44);
    expect(roundTrip(931)).toBe(8 + PAGE_BYTES);
    expect(roundTrip(1024)).toBe(8 + PAGE_BYTES);
  });

  it("hands back an all-hole page as null so its row can be deleted", () => {
    const core = newCore({ cacheBytes: PAGE_BYTES });
    const entry = { kind: "stored" as const, chunkId: 3, sha256 };
    core.maps.compareAndSwap(4, [{ chunkIndex: 5, expectChunkId: 0, entry }]);
    core.maps.takeDirty();
    const hole = { kind: "hole" as const, chunkId: 0, sha256: null };
    core.maps.compareAndSwap(4, [{ chunkIndex: 5, expectChunkId: 3, entry: hole }]);
    expect(core.maps.takeDirty()).toEqual([{ imageId: 4, page: 0, bytes: null }]);
  });

  it("refuses pages whose holes carry a digest or whose chunk ids pass 2^53-1", () => {
    const dense = new Uint8Array(8 + PAGE_BYTES);
    dense[0] = 1;
    const core = newCore({ cacheBytes: PAGE_BYTES });
    let page = dense;
    core.maps.setPageStore({ load: () => page });
    expect(core.maps.get(1, 0)).toEqual({ kind: "hole", chunkId: 0, sha256: null });

    const holeWithDigest = dense.slice();
    holeWithDigest[8 + 8192 + 5] = 1;
    page = holeWithDigest;
    expect(outcome(() => core.maps.get(2, 0))).toEqual({ errno: "EIO" });

    const bigId = dense.slice();
    new DataView(bigId.buffer).setBigUint64(8, 2n ** 53n, true);
    page = bigId;
    expect(outcome(() => core.maps.get(3, 0))).toEqual({ errno: "EIO" });
    expect(outcome(() => core.maps.get(3, 0))).toEqual({ errno: "EIO" });
    page = dense.subarray(0, 100);
    expect(outcome(() => core.maps.get(5, 0))).toEqual({ errno: "EIO" });
  });
});

describe("page cache eviction", () => {
  it("evicts the least recently used clean page and never a dirty one", () => {
    const loads: number[] = [];
    const core = newCore({ cacheBytes: 2 * PAGE_BYTES });
    core.maps.setPageStore({
      load: (_, page) => {
        loads.push(page);
        return null;
      },
    });
    const touch = (page: number) => core.maps.get(1, page * 1024);
    touch(0);
    touch(1);
    touch(0);
    touch(2); // evicts page 1, the least recently used
    touch(0);
    expect(loads).toEqual([0, 1, 2]);
    touch(1); // evicts page 2
    expect(loads).toEqual([0, 1, 2, 1]);

    const entry = { kind: "stored" as const, chunkId: 8, sha256 };
    core.maps.compareAndSwap(1, [{ chunkIndex: 1024, expectChunkId: 0, entry }]);
    touch(3); // page 1 is dirty: page 0 goes although it is newer
    touch(4);
    expect(loads).toEqual([0, 1, 2, 1, 3, 4]);
    expect(core.maps.get(1, 1024)).toEqual(entry);
    expect(loads).toEqual([0, 1, 2, 1, 3, 4]);
  });
});
