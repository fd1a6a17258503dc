import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_DEVICE_NUMBER } from "../../src/core/index";
import { newCore } from "./load";
import { AllocatorModel } from "./model";
import { outcome } from "./outcome";

const deviceNumber = fc.oneof(
  fc.integer({ min: 0, max: 40 }),
  fc.constantFrom(63, 64, 65, 4095, 4096, MAX_DEVICE_NUMBER - 1, MAX_DEVICE_NUMBER),
);
const max = fc.oneof(fc.integer({ min: 0, max: 45 }), fc.constant(2 ** 53 - 1));

const op = fc.oneof(
  fc.record({ op: fc.constant("getFree" as const), max }),
  fc.record({ op: fc.constant("add" as const), n: deviceNumber, max }),
  fc.record({ op: fc.constant("remove" as const), n: deviceNumber }),
  fc.record({ op: fc.constant("setBound" as const), n: deviceNumber, bound: fc.boolean() }),
  fc.record({ op: fc.constant("reload" as const) }),
);

describe("device allocator against the model", () => {
  it("agrees on every result, errno and listing for random operation sequences", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        let core = newCore({ cacheBytes: 40960 });
        const model = new AllocatorModel();
        for (const o of ops) {
          const a = core.allocator;
          switch (o.op) {
            case "getFree":
              expect(outcome(() => a.getFree(o.max))).toEqual(outcome(() => model.getFree(o.max)));
              break;
            case "add":
              expect(outcome(() => a.add(o.n, o.max))).toEqual(
                outcome(() => model.add(o.n, o.max)),
              );
              break;
            case "remove":
              expect(outcome(() => a.remove(o.n))).toEqual(outcome(() => model.remove(o.n)));
              break;
            case "setBound":
              expect(outcome(() => a.setBound(o.n, o.bound))).toEqual(
                outcome(() => model.setBound(o.n, o.bound)),
              );
              break;
            case "reload": {
              const saved = a.save();
              core = newCore({ cacheBytes: 40960 });
              core.allocator.load(saved);
              break;
            }
          }
          expect(core.allocator.list()).toEqual(model.list());
          expect(core.allocator.count()).toBe(model.exists.size);
          for (const n of model.exists) expect(core.allocator.isBound(n)).toBe(model.bound.has(n));
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("device allocator limits", () => {
  it("fills all 2^20 numbers, then refuses get-free with ENOSPC and saves under 2,000,000 bytes", () => {
    const { allocator } = newCore({ cacheBytes: 40960 });
    const unlimited = 2 ** 53 - 1;
    for (let n = 0; n <= MAX_DEVICE_NUMBER; n++) allocator.add(n, unlimited);
    for (let n = 0; n <= MAX_DEVICE_NUMBER; n += 2) allocator.setBound(n, true);
    expect(allocator.count()).toBe(2 ** 20);
    expect(allocator.getFree(unlimited)).toEqual({ number: 1, created: false });
    for (let n = 1; n <= MAX_DEVICE_NUMBER; n += 2) allocator.setBound(n, true);
    expect(outcome(() => allocator.getFree(unlimited))).toEqual({ errno: "ENOSPC" });

    const saved = allocator.save();
    expect(saved.length).toBeLessThan(2_000_000);
    const other = newCore({ cacheBytes: 40960 });
    other.allocator.load(saved);
    expect(other.allocator.count()).toBe(2 ** 20);
    expect(other.allocator.isBound(MAX_DEVICE_NUMBER)).toBe(true);
    other.allocator.setBound(777, false);
    expect(other.allocator.getFree(0)).toEqual({ number: 777, created: false });
  });

  it("keeps existing devices usable after max is lowered below the count", () => {
    const { allocator } = newCore({ cacheBytes: 40960 });
    for (let n = 0; n < 5; n++) allocator.add(n, 5);
    allocator.setBound(0, true);
    expect(allocator.getFree(2)).toEqual({ number: 1, created: false });
    for (let n = 1; n < 5; n++) allocator.setBound(n, true);
    expect(outcome(() => allocator.getFree(2))).toEqual({ errno: "ENOSPC" });
    expect(outcome(() => allocator.add(9, 2))).toEqual({ errno: "ENOSPC" });
  });

  it("saves a small instance in a few bytes and rejects malformed state with EINVAL", () => {
    const { allocator } = newCore({ cacheBytes: 40960 });
    allocator.add(3, 10);
    expect(allocator.save().length).toBe(24);
    const bad = allocator.save();
    bad[16] = 0x10; // bound bit for device 4, which does not exist
    expect(outcome(() => allocator.load(bad))).toEqual({ errno: "EINVAL" });
    expect(outcome(() => allocator.load(new Uint8Array([1, 0, 0])))).toEqual({ errno: "EINVAL" });
    expect(allocator.list()).toEqual([3]);
  });

  it("rejects device numbers that are not integers in range", () => {
    const { allocator } = newCore({ cacheBytes: 40960 });
    expect(outcome(() => allocator.add(2 ** 20, 10))).toEqual({ errno: "EINVAL" });
    expect(outcome(() => allocator.add(2 ** 53, 10))).toEqual({ errno: "EOVERFLOW" });
    expect(outcome(() => allocator.add(-1, 10))).toEqual({ errno: "EINVAL" });
    expect(outcome(() => allocator.getFree(2 ** 53))).toEqual({ errno: "EOVERFLOW" });
    expect(outcome(() => allocator.remove(2 ** 20))).toEqual({ errno: "ENODEV" });
    expect(allocator.exists(2 ** 20)).toBe(false);
  });
});
