import { describe, expect, it } from "vitest";
import { MAX_RANGES } from "../../src/http/ranges";
import { attach, bytesOf, pattern, putImage, type Tenant } from "./helpers";
import {
  chunkKeys,
  createImage,
  expectBytes,
  mount,
  parseByteranges,
  problem,
  putRange,
} from "./data-helpers";

const CHUNK = 4096;
/** Not a multiple of 512: the image reads to the byte, the device to 12800 (rounded down). */
const IMAGE_SIZE = 3 * CHUNK + 1000;
const DEVICE_SIZE = 12800;

async function fixture(): Promise<{ t: Tenant; dev: string; image: Uint8Array }> {
  const t = await mount();
  const image = pattern(IMAGE_SIZE, 11);
  expect((await putImage(t, "disk", image, CHUNK)).status).toBe(201);
  return { t, dev: `/devices/${await attach(t, "disk")}`, image };
}

const ranged = (t: Tenant, path: string, range: string, extra: Record<string, string> = {}) =>
  t.call(path, { headers: { Range: range, ...extra } });

describe("GET with Range (RFC 9110)", () => {
  it("answers single, open-ended, suffix and end-clipped ranges with exactly their bytes", async () => {
    const { t, dev, image } = await fixture();
    const cases: [string, number, number][] = [
      ["bytes=100-5000", 100, 5000],
      ["bytes=10000-", 10000, DEVICE_SIZE - 1],
      ["bytes=-700", DEVICE_SIZE - 700, DEVICE_SIZE - 1],
      ["bytes=12000-99999", 12000, DEVICE_SIZE - 1],
      ["bytes=-99999", 0, DEVICE_SIZE - 1],
    ];
    for (const [range, first, last] of cases) {
      const res = await ranged(t, dev, range);
      expect(res.status, range).toBe(206);
      expect(res.headers.get("Content-Range")).toBe(`bytes ${first}-${last}/${DEVICE_SIZE}`);
      expect(res.headers.get("Content-Length")).toBe(String(last - first + 1));
      expectBytes(await bytesOf(res), image.subarray(first, last + 1));
    }
    // The image itself is read to its last byte, though 1000 bytes of its last chunk are padding.
    const tail = await ranged(t, "/images/disk", "bytes=-10");
    expect(tail.headers.get("Content-Range")).toBe(
      `bytes ${IMAGE_SIZE - 10}-${IMAGE_SIZE - 1}/${IMAGE_SIZE}`,
    );
    expectBytes(await bytesOf(tail), image.subarray(IMAGE_SIZE - 10));
    const whole = await t.call("/images/disk");
    expect(whole.headers.get("Content-Length")).toBe(String(IMAGE_SIZE));
    expectBytes(await bytesOf(whole), image);
  });

  it("answers several ranges as multipart/byteranges, in the order asked", async () => {
    const { t, dev, image } = await fixture();
    const res = await ranged(t, dev, "bytes=0-9, 4090-4105,-5,8000-8000");
    expect(res.status).toBe(206);
    const type = res.headers.get("Content-Type")!;
    expect(type).toMatch(/^multipart\/byteranges; boundary=[0-9a-f]{32}$/);
    const body = await bytesOf(res);
    expect(res.headers.get("Content-Length")).toBe(String(body.length));
    const parts = parseByteranges(body, type);
    expect(parts.map((p) => p.range)).toEqual([
      `bytes 0-9/${DEVICE_SIZE}`,
      `bytes 4090-4105/${DEVICE_SIZE}`,
      `bytes ${DEVICE_SIZE - 5}-${DEVICE_SIZE - 1}/${DEVICE_SIZE}`,
      `bytes 8000-8000/${DEVICE_SIZE}`,
    ]);
    expectBytes(parts[0].bytes, image.subarray(0, 10));
    expectBytes(parts[1].bytes, image.subarray(4090, 4106));
    expectBytes(parts[2].bytes, image.subarray(DEVICE_SIZE - 5, DEVICE_SIZE));
    expectBytes(parts[3].bytes, image.subarray(8000, 8001));
  });

  it("refuses more than MAX_RANGES ranges and unsatisfiable ones with 416 ERANGE", async () => {
    const { t, dev } = await fixture();
    const many = Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i * 10}-${i * 10 + 1}`);
    const cases = [`bytes=${many.join(",")}`, "bytes=12800-", "bytes=99999-100000", "bytes=-0"];
    for (const range of cases) {
      const res = await ranged(t, dev, range);
      expect(res.status, range).toBe(416);
      expect(res.headers.get("Content-Range")).toBe(`bytes */${DEVICE_SIZE}`);
      expect(await problem(res)).toMatchObject({ errno: "ERANGE", status: 416 });
    }
    const sixteen = `bytes=${many.slice(0, MAX_RANGES).join(",")}`;
    expect((await ranged(t, dev, sixteen)).status).toBe(206);
  });

  it("answers HEAD with the headers of GET and no body", async () => {
    const { t, dev } = await fixture();
    for (const range of [null, "bytes=5-10", "bytes=0-1,5-6"]) {
      const headers: Record<string, string> = range ? { Range: range } : {};
      const get = await t.call(dev, { headers });
      const head = await t.call(dev, { method: "HEAD", headers });
      expect(head.status).toBe(get.status);
      for (const name of ["Content-Length", "Accept-Ranges", "ETag", "Content-Range"]) {
        expect(head.headers.get(name), `${range} ${name}`).toBe(get.headers.get(name));
      }
      expect(head.headers.get("Accept-Ranges")).toBe("bytes");
      expect((await bytesOf(head)).length).toBe(0);
      await get.arrayBuffer();
    }
  });

  it("changes the strong ETag with every write and discard, and honours If-Range", async () => {
    const { t, dev, image } = await fixture();
    const etagOf = async () => (await t.call(dev, { method: "HEAD" })).headers.get("ETag")!;
    const first = await etagOf();
    expect(first).toMatch(/^"[^"]+"$/);
    expect(await etagOf()).toBe(first);

    const matching = await ranged(t, dev, "bytes=0-3", { "If-Range": first });
    expect(matching.status).toBe(206);
    expectBytes(await bytesOf(matching), image.subarray(0, 4));
    const weak = await ranged(t, dev, "bytes=0-3", { "If-Range": `W/${first}` });
    expect(weak.status).toBe(200);
    expect((await bytesOf(weak)).length).toBe(DEVICE_SIZE);

    expect((await putRange(t, dev, 10, new Uint8Array([1, 2, 3]))).status).toBe(204);
    const second = await etagOf();
    expect(second).not.toBe(first);
    const stale = await ranged(t, dev, "bytes=0-3", { "If-Range": first });
    expect(stale.status).toBe(200);
    expect(stale.headers.get("ETag")).toBe(second);
    expectBytes((await bytesOf(stale)).subarray(10, 13), new Uint8Array([1, 2, 3]));

    const discard = await t.call(`${dev}/discard`, {
      method: "POST",
      json: { offset: 0, length: CHUNK },
    });
    expect(discard.status).toBe(204);
    expect(await etagOf()).not.toBe(second);
  });

  it("reads holes as zeros without a chunk object in R2", async () => {
    const t = await mount();
    await createImage(t, "sparse", 1 << 20);
    const dev = `/devices/${await attach(t, "sparse")}`;
    const res = await t.call(dev);
    expect(res.headers.get("Content-Length")).toBe(String(1 << 20));
    expectBytes(await bytesOf(res), new Uint8Array(1 << 20));
    const part = await ranged(t, dev, "bytes=5000-5009");
    expectBytes(await bytesOf(part), new Uint8Array(10));
    expect(await chunkKeys(t)).toEqual([]);
  });
});

describe("large reads", () => {
  /** Reads a body piece by piece, checking each against `expected(offset, length)`. */
  async function streamCheck(
    res: Response,
    expected: (offset: number, length: number) => Uint8Array,
  ): Promise<{ bytes: number; pieces: number }> {
    const reader = res.body!.getReader();
    let bytes = 0;
    let pieces = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes, pieces };
      expectBytes(value, expected(bytes, value.length), `piece at ${bytes}`);
      bytes += value.length;
      pieces++;
    }
  }

  /** Expected content of an image that is zeros but for `written` runs. */
  const layout =
    (written: { at: number; bytes: Uint8Array }[], base = 0) =>
    (offset: number, length: number) => {
      const out = new Uint8Array(length);
      for (const { at, bytes } of written) {
        const from = Math.max(at, base + offset);
        const to = Math.min(at + bytes.length, base + offset + length);
        if (from < to) out.set(bytes.subarray(from - at, to - at), from - base - offset);
      }
      return out;
    };

  it("streams a 64 MiB image in many pieces with the right bytes", async () => {
    const t = await mount();
    const size = 64 * 1024 * 1024 + 1000;
    await createImage(t, "big", size, 1 << 20);
    const written = [
      { at: 0, bytes: pattern(1 << 20, 1) },
      { at: 32 * 1024 * 1024 - 500, bytes: pattern(1000, 2) },
      { at: size - 3000, bytes: pattern(3000, 3) },
    ];
    for (const w of written)
      expect((await putRange(t, "/images/big", w.at, w.bytes)).status).toBe(204);
    const started = performance.now();
    const res = await t.call("/images/big");
    expect(res.headers.get("Content-Length")).toBe(String(size));
    const got = await streamCheck(res, layout(written));
    console.warn(
      `64 MiB read: ${got.pieces} pieces in ${Math.round(performance.now() - started)} ms`,
    );
    expect(got.bytes).toBe(size);
    expect(got.pieces).toBeGreaterThan(64);
  }, 30_000);

  it("reads across resolve windows (4096 chunks) on a device at an unaligned offset", async () => {
    const t = await mount();
    const window = 4096 * CHUNK;
    await createImage(t, "wide", window + 2 * CHUNK, CHUNK);
    const written = [
      { at: window - 3000, bytes: pattern(6000, 5) },
      { at: 2 * window - 10 * CHUNK - 100, bytes: pattern(200, 6) },
    ].filter((w) => w.at + w.bytes.length <= window + 2 * CHUNK);
    for (const w of written)
      expect((await putRange(t, "/images/wide", w.at, w.bytes)).status).toBe(204);
    const dev = `/devices/${await attach(t, "wide", { offset: 512 })}`;
    const size = window + 2 * CHUNK - 512;
    const whole = await t.call(dev);
    expect(whole.headers.get("Content-Length")).toBe(String(size));
    expect((await streamCheck(whole, layout(written, 512))).bytes).toBe(size);
    const across = await ranged(t, dev, `bytes=${window - 4000}-${window + 4000}`);
    expectBytes(await bytesOf(across), layout(written, 512)(window - 4000, 8001));
  }, 30_000);
});
