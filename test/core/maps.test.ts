import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DeviceGeometry, MapEntry, PageStore } from "../../src/core/index";
import { PAGE_ENTRIES, ENTRY_BYTES } from "../../src/core/index";
import { newCore } from "./load";
import { HOLE, MapModel, modelDeviceSize, pageKey } from "./model";
import { outcome } from "./outcome";

const PAGE_BYTES = PAGE_ENTRIES * ENTRY_BYTES;
const SLOTS = 3;
const CHUNK_SIZES = [4096, 8192, 65536, 1 << 20];

/** Chunk indexes cluster at page boundaries so batches and walks cross pages. */
const chunkIndex = fc.oneof(
  fc.constantFrom(0, 1, 1023, 1024, 1025, 2047, 2048, 2049, 3071, 3072, 4095, 4096),
  fc.integer({ min: 0, max: 40 }),
  fc.integer({ min: 1010, max: 1040 }),
  fc.integer({ min: 0, max: 4200 }),
);
const image = fc.integer({ min: 0, max: 1 });
const entry: fc.Arbitrary<MapEntry> = fc.oneof(
  fc.constant(HOLE),
  fc.constant<MapEntry>({ kind: "parent", chunkId: 0, sha256: null }),
  fc.record({
    kind: fc.constant("stored" as const),
    chunkId: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constant(2 ** 53 - 1)),
    sha256: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  }),
);
/** "current" asks for the id the entry holds now, so most batches succeed. */
const expectation = fc.oneof(
  fc.constant(null),
  fc.constant("current" as const),
  fc.constant("current" as const),
  fc.integer({ min: 0, max: 9 }),
);
/** A byte position near a chunk boundary of interest. */
const position = fc.record({
  chunk: chunkIndex,
  delta: fc.oneof(fc.constantFrom(-1, 0, 1, 511, 512, -512), fc.integer({ min: -5000, max: 5000 })),
});
type Position = { chunk: number; delta: number };
const at = (p: Position, chunkSize: number) => Math.max(0, p.chunk * chunkSize + p.delta);
const byteLength = fc.oneof(
  position.map((p) => ({ ...p, chunk: p.chunk % 1500 })),
  fc.constant({ chunk: 2 ** 40, delta: 0 }),
);

const op = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("cas" as const),
      image,
      updates: fc.uniqueArray(fc.record({ chunkIndex, expect: expectation, entry }), {
        minLength: 1,
        maxLength: 5,
        selector: (u) => u.chunkIndex,
      }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("write" as const),
      image,
      first: chunkIndex,
      entries: fc.array(entry, { minLength: 1, maxLength: 8 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("flush" as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("drop" as const), image }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("get" as const), image, chunkIndex }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("translate" as const),
      image,
      chunkSize: fc.constantFrom(...CHUNK_SIZES),
      offset: position,
      span: position,
      sizelimit: fc.option(position, { nil: null }),
      start: position,
      length: byteLength,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("extents" as const),
      image,
      chunkSize: fc.constantFrom(...CHUNK_SIZES),
      imageEnd: position,
      start: position,
      length: byteLength,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("stored" as const),
      image,
      from: chunkIndex,
      to: chunkIndex,
    }),
  },
);

type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

/** A write of consecutive chunks becomes one batch, as a multi-chunk write commits them. */
function asCompareAndSwap(o: Op): Exclude<Op, { op: "write" }> {
  if (o.op !== "write") return o;
  const updates = o.entries.map((entry, i) => ({
    chunkIndex: o.first + i,
    expect: "current" as const,
    entry,
  }));
  return { op: "cas", image: o.image, updates };
}

/** Pages a walk over chunks [first, last] needs; EAGAIN if one is not dirty and all slots are. */
function walkNeedsSlot(model: MapModel, img: number, first: number, last: number): boolean {
  if (model.dirty.size < SLOTS || first > last) return false;
  for (let p = Math.floor(first / PAGE_ENTRIES); p <= Math.floor(last / PAGE_ENTRIES); p++) {
    if (!model.dirty.has(pageKey(img, p))) return true;
  }
  return false;
}

describe("block maps against the model", () => {
  it("agrees on CAS, lookups, walks and dirty pages with a three-page cache", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 80 }), (ops) => {
        const rows = new Map<string, Uint8Array>();
        const store: PageStore = { load: (i, p) => rows.get(pageKey(i, p)) ?? null };
        const core = newCore({ cacheBytes: SLOTS * PAGE_BYTES + 100 });
        core.maps.setPageStore(store);
        const model = new MapModel();

        for (const o of ops.map(asCompareAndSwap)) {
          switch (o.op) {
            case "cas": {
              const updates = o.updates.map((u) => ({
                chunkIndex: u.chunkIndex,
                expectChunkId:
                  u.expect === "current" ? model.get(o.image, u.chunkIndex).chunkId : u.expect,
                entry: u.entry,
              }));
              const pages = new Set(
                updates.map((u) => pageKey(o.image, Math.floor(u.chunkIndex / PAGE_ENTRIES))),
              );
              const fresh = [...pages].filter((p) => !model.dirty.has(p)).length;
              const got = outcome(() => core.maps.compareAndSwap(o.image, updates));
              if (model.dirty.size + fresh > SLOTS) expect(got).toEqual({ errno: "EAGAIN" });
              else expect(got).toEqual({ value: model.compareAndSwap(o.image, updates) });
              break;
            }
            case "flush": {
              const dirty = core.maps.takeDirty();
              const keys = model.takeDirty();
              expect(dirty.map((d) => pageKey(d.imageId, d.page)).sort()).toEqual(keys);
              for (const d of dirty) {
                expect(d.bytes === null).toBe(model.pageIsHoles(d.imageId, d.page));
                if (d.bytes) expect(d.bytes.length).toBeLessThan(2_000_000);
                if (d.bytes) rows.set(pageKey(d.imageId, d.page), d.bytes);
                else rows.delete(pageKey(d.imageId, d.page));
              }
              break;
            }
            case "drop":
              core.maps.drop(o.image);
              model.drop(o.image);
              break;
            case "get": {
              const got = outcome(() => core.maps.get(o.image, o.chunkIndex));
              if (walkNeedsSlot(model, o.image, o.chunkIndex, o.chunkIndex)) {
                expect(got).toEqual({ errno: "EAGAIN" });
              } else expect(got).toEqual({ value: model.get(o.image, o.chunkIndex) });
              break;
            }
            case "translate": {
              const offset = at(o.offset, o.chunkSize) % (4096 * o.chunkSize);
              const g: DeviceGeometry = {
                imageSize: offset + at(o.span, o.chunkSize),
                offset,
                sizelimit: o.sizelimit === null ? 0 : at(o.sizelimit, o.chunkSize),
              };
              const start = Math.max(0, at(o.start, o.chunkSize) - offset);
              const length = Math.min(at(o.length, o.chunkSize), 2 ** 53 - 1);
              const got = outcome(() =>
                core.maps.translate(o.image, o.chunkSize, g, start, length),
              );
              const end = Math.min(start + length, modelDeviceSize(g));
              const first = Math.floor((g.offset + start) / o.chunkSize);
              const last = Math.floor((g.offset + end - 1) / o.chunkSize);
              if (start < end && walkNeedsSlot(model, o.image, first, last)) {
                expect(got).toEqual({ errno: "EAGAIN" });
              } else {
                expect(got).toEqual({
                  value: model.translate(o.image, o.chunkSize, g, start, length),
                });
              }
              break;
            }
            case "extents": {
              const imageSize = at(o.imageEnd, o.chunkSize);
              const start = at(o.start, o.chunkSize);
              const length = Math.min(at(o.length, o.chunkSize), 2 ** 53 - 1);
              const got = outcome(() =>
                core.maps.extents(o.image, o.chunkSize, imageSize, start, length),
              );
              const end = Math.min(start + length, imageSize);
              const first = Math.floor(start / o.chunkSize);
              const last = Math.floor((end - 1) / o.chunkSize);
              if (start < end && walkNeedsSlot(model, o.image, first, last)) {
                expect(got).toEqual({ errno: "EAGAIN" });
              } else {
                expect(got).toEqual({
                  value: model.extents(o.image, o.chunkSize, imageSize, start, length),
                });
              }
              break;
            }
            case "stored": {
              const got = outcome(() => core.maps.storedChunks(o.image, o.from, o.to));
              if (walkNeedsSlot(model, o.image, o.from, o.to - 1)) {
                expect(got).toEqual({ errno: "EAGAIN" });
              } else expect(got).toEqual({ value: model.storedChunks(o.image, o.from, o.to) });
              break;
            }
          }
          const stats = core.maps.stats();
          expect(stats.cachedPages).toBeLessThanOrEqual(SLOTS);
          expect(stats.cacheBytes).toBeLessThanOrEqual(SLOTS * PAGE_BYTES + 100);
        }
      }),
      { numRuns: 300 },
    );
  }, 60_000);
});
