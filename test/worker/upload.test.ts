import { describe, expect, it } from "vitest";
import { bytesOf, pattern, putImage } from "./helpers";
import {
  chunkKeys,
  createImage,
  expectBytes,
  failingBody,
  imageList,
  mount,
  putRange,
  sweep,
} from "./data-helpers";

const CHUNK = 4096;

describe("whole upload (PUT images/{name})", () => {
  it("never stores an all-zero chunk", async () => {
    const t = await mount();
    const image = pattern(8 * CHUNK, 31);
    for (const zero of [1, 3, 5, 7]) image.fill(0, zero * CHUNK, (zero + 1) * CHUNK);
    const res = await putImage(t, "half", image, CHUNK);
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ size: 8 * CHUNK, storedBytes: 4 * CHUNK });
    expect((await chunkKeys(t)).length).toBe(4);
    expectBytes(await bytesOf(await t.call("/images/half")), image);
  });

  it("makes the image visible only when the upload commits", async () => {
    const t = await mount();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = pattern(2 * CHUNK, 1);
    const rest = pattern(CHUNK + 10, 2);
    let step = 0;
    let waiting = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (step === 0) controller.enqueue(first);
        else if (step === 1) {
          waiting = true;
          await gate;
          controller.enqueue(rest);
        } else controller.close();
        step++;
      },
    });
    const upload = t.call(`/images/slow?chunkSize=${CHUNK}`, {
      method: "PUT",
      headers: { "Content-Length": String(3 * CHUNK + 10) },
      body,
    });
    while (!waiting) await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await t.call("/images/slow", { method: "HEAD" })).status).toBe(404);
    expect(await imageList(t)).toEqual([]);
    release();
    expect((await upload).status).toBe(201);
    const whole = new Uint8Array(3 * CHUNK + 10);
    whole.set(first);
    whole.set(rest, 2 * CHUNK);
    expectBytes(await bytesOf(await t.call("/images/slow")), whole);
  });

  it("leaves no image and, after a sweep, no chunk when the body breaks off half-way", async () => {
    const t = await mount();
    const pieces = [pattern(CHUNK, 1), pattern(CHUNK, 2), pattern(CHUNK, 3)];
    const res = await t.call(`/images/cut?chunkSize=${CHUNK}`, {
      method: "PUT",
      headers: { "Content-Length": String(5 * CHUNK) },
      body: failingBody(pieces),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect((await t.call("/images/cut")).status).toBe(404);
    expect(await imageList(t)).toEqual([]);
    await sweep(t);
    expect(await chunkKeys(t)).toEqual([]);
  });

  it("refuses a whole upload without Content-Length, which could not tell a cut-off body", async () => {
    const t = await mount();
    const pieces = [pattern(CHUNK, 1), pattern(CHUNK, 2)];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const piece = pieces.shift();
        if (piece) controller.enqueue(piece);
        else controller.close(); // a clean end, as a runtime reports a dropped chunked body
      },
    });
    const res = await t.call(`/images/chunked?chunkSize=${CHUNK}`, { method: "PUT", body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errno: string }).errno).toBe("EINVAL");
    expect(await imageList(t)).toEqual([]);
    await sweep(t);
    expect(await chunkKeys(t)).toEqual([]);
  });

  it("refuses a body shorter than its Content-Length and keeps the older image", async () => {
    const t = await mount();
    const old = pattern(2 * CHUNK, 5);
    await putImage(t, "disk", old, CHUNK);
    const short = pattern(3 * CHUNK, 6);
    const res = await t.call(`/images/disk?chunkSize=${CHUNK}`, {
      method: "PUT",
      headers: { "Content-Length": String(5 * CHUNK) },
      body: short,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errno: string }).errno).toBe("EINVAL");
    expectBytes(await bytesOf(await t.call("/images/disk")), old);
    expect((await imageList(t)).map((i) => i.size)).toEqual([2 * CHUNK]);
    await sweep(t);
    expect((await chunkKeys(t)).length).toBe(2);
  });

  it("replaces an image of the same name and collects the old chunks", async () => {
    const t = await mount();
    await putImage(t, "disk", pattern(3 * CHUNK, 7), CHUNK);
    const next = pattern(CHUNK + 1, 8);
    expect((await putImage(t, "disk", next, CHUNK)).status).toBe(201);
    expectBytes(await bytesOf(await t.call("/images/disk")), next);
    await sweep(t);
    expect((await chunkKeys(t)).length).toBe(2);
  });
});

describe("PUT images/{name} with Content-Range", () => {
  it("writes into an image created sparse by POST images", async () => {
    const t = await mount();
    await createImage(t, "sparse", 10 * CHUNK, CHUNK);
    const bytes = pattern(CHUNK + 200, 9);
    expect((await putRange(t, "/images/sparse", 3 * CHUNK - 100, bytes)).status).toBe(204);
    const expected = new Uint8Array(10 * CHUNK);
    expected.set(bytes, 3 * CHUNK - 100);
    expectBytes(await bytesOf(await t.call("/images/sparse")), expected);
    // Chunks 2, 3 and 4 are touched; the rest stay holes.
    expect((await imageList(t))[0].storedBytes).toBe(3 * CHUNK);
    expect((await chunkKeys(t)).length).toBe(3);
  });
});
