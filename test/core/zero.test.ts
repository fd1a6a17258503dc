import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { newCore } from "./load";

const core = newCore({ cacheBytes: 40960 });

describe("zero detection", () => {
  it("finds a single non-zero byte at every position of short unaligned buffers", () => {
    const backing = new Uint8Array(1024);
    for (const offset of [0, 1, 3, 7, 15, 17, 33]) {
      for (let len = 0; len <= 300; len++) {
        const view = backing.subarray(offset, offset + len);
        expect(core.isZero(view)).toBe(true);
        for (let pos = 0; pos < len; pos++) {
          view[pos] = 0x80;
          if (core.isZero(view)) {
            throw new Error(`missed byte ${pos} of ${len} at offset ${offset}`);
          }
          view[pos] = 0;
        }
      }
    }
    backing[0] = 1;
    backing[400] = 1;
    expect(core.isZero(backing.subarray(1, 400))).toBe(true);
  });

  it("agrees with a byte loop on random large buffers", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300_000 }),
        fc.integer({ min: 0, max: 31 }),
        fc.option(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { nil: null }),
        (len, offset, mark) => {
          const view = new Uint8Array(len + offset).subarray(offset);
          if (mark !== null && len > 0) view[mark[0] % len] = mark[1];
          expect(core.isZero(view)).toBe(view.every((b) => b === 0));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("checks the last byte of a 1 MiB chunk", () => {
    const chunk = new Uint8Array(1 << 20);
    expect(core.isZero(chunk)).toBe(true);
    chunk[chunk.length - 1] = 1;
    expect(core.isZero(chunk)).toBe(false);
  });
});
