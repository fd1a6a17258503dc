/** Images as the control plane sees them: create sparse, list, resize, remove. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import {
  api,
  attach,
  bytesOf,
  mountTenant,
  OPERATOR,
  pattern,
  putImage,
  type Tenant,
} from "./helpers";

const bindings = env as unknown as Env;

async function create(t: Tenant, json: Record<string, unknown>) {
  const res = await t.call("/images", { method: "POST", json });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function listing(t: Tenant) {
  const res = await t.call("/images");
  expect(res.status).toBe(200);
  return ((await res.json()) as { images: Record<string, unknown>[] }).images;
}

describe("create", () => {
  it("creates a sparse image that stores nothing and reads as zeros", async () => {
    const t = await mountTenant();
    const made = await create(t, { name: "blank", size: 3 << 20 });
    expect(made).toEqual({
      status: 201,
      body: { name: "blank", size: 3 << 20, chunkSize: 262144, storedBytes: 0, attached: [] },
    });
    const read = await t.call("/images/blank", { headers: { Range: "bytes=1000000-1000099" } });
    expect(read.status).toBe(206);
    expect(await bytesOf(read)).toEqual(new Uint8Array(100));
    expect(await (await t.call("")).json()).toMatchObject({ images: 1, storedBytes: 0 });
  });

  it("takes a chunk size that is a power of two in 4 KiB..1 MiB", async () => {
    const t = await mountTenant();
    expect((await create(t, { name: "small", size: 100, chunkSize: 4096 })).body).toMatchObject({
      chunkSize: 4096,
    });
    for (const chunkSize of [0, 2048, 6000, 2 << 20]) {
      const res = await create(t, { name: `c${chunkSize}`, size: 100, chunkSize });
      expect(res.status).toBe(400);
      expect(res.body.errno).toBe("EINVAL");
    }
    expect((await listing(t)).map((i) => i.name)).toEqual(["small"]);
  });

  it("refuses an existing name with EEXIST and keeps the first image", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", pattern(4096, 2));
    const again = await create(t, { name: "disk", size: 1 << 20 });
    expect(again.status).toBe(409);
    expect(again.body.errno).toBe("EEXIST");
    expect(await bytesOf(await t.call("/images/disk"))).toEqual(pattern(4096, 2));
  });

  it("refuses a bad name, a missing size or a size over 2^53-1", async () => {
    const t = await mountTenant();
    const cases: [Record<string, unknown>, string][] = [
      [{ name: ".hidden", size: 1 }, "EINVAL"],
      [{ name: "a/b", size: 1 }, "EINVAL"],
      [{ name: "x".repeat(129), size: 1 }, "EINVAL"],
      [{ name: "nosize" }, "EINVAL"],
      [{ name: "huge", size: 2 ** 53 }, "EOVERFLOW"],
      [{ name: "neg", size: -1 }, "EINVAL"],
    ];
    for (const [json, errno] of cases) {
      const res = await create(t, json);
      expect(res.status).toBe(400);
      expect(res.body.errno).toBe(errno);
    }
    expect(await listing(t)).toEqual([]);
  });
});

describe("list", () => {
  it("lists images by name with size, chunk size, stored bytes and the devices on each", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", pattern(3 * 4096 + 10));
    await create(t, { name: "blank", size: 5000, chunkSize: 8192 });
    await attach(t, "disk");
    await attach(t, "blank");
    await attach(t, "disk", { readOnly: true });
    expect(await listing(t)).toEqual([
      { name: "blank", size: 5000, chunkSize: 8192, storedBytes: 0, attached: ["loop1"] },
      {
        name: "disk",
        size: 3 * 4096 + 10,
        chunkSize: 4096,
        storedBytes: 4 * 4096,
        attached: ["loop0", "loop2"],
      },
    ]);
  });
});

describe("remove", () => {
  it("removes an image with 204; its chunks are collected and usage drops", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", pattern(2 * 4096));
    expect((await bindings.CHUNKS.list({ prefix: `${t.name}/` })).objects.length).toBe(2);
    expect((await t.call("/images/disk", { method: "DELETE" })).status).toBe(204);
    expect(await listing(t)).toEqual([]);
    expect((await t.call("/images/disk")).status).toBe(404);
    // The grace period is 0 in tests: the alarm may have collected them already.
    expect((await api(`/${t.name}/gc`, OPERATOR, { method: "POST" })).status).toBe(200);
    const left = await bindings.CHUNKS.list({ prefix: `${t.name}/` });
    expect(left.objects).toEqual([]);
    expect(await (await t.call("")).json()).toMatchObject({ images: 0, storedBytes: 0 });
  });

  it("refuses to remove an attached image with EBUSY until it is detached", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", pattern(4096));
    const dev = await attach(t, "disk");
    const busy = await t.call("/images/disk", { method: "DELETE" });
    expect(busy.status).toBe(409);
    expect(((await busy.json()) as { errno: string }).errno).toBe("EBUSY");
    expect(await bytesOf(await t.call(`/devices/${dev}`))).toEqual(pattern(4096));

    await t.call(`/devices/${dev}/backing`, { method: "DELETE" });
    expect((await t.call("/images/disk", { method: "DELETE" })).status).toBe(204);
  });

  it("refuses to replace an attached image by a whole upload with EBUSY", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", pattern(4096, 1));
    const dev = await attach(t, "disk");
    const replace = await putImage(t, "disk", pattern(4096, 2));
    expect(replace.status).toBe(409);
    expect(((await replace.json()) as { errno: string }).errno).toBe("EBUSY");
    expect(await bytesOf(await t.call(`/devices/${dev}`))).toEqual(pattern(4096, 1));
  });

  it("refuses an unknown image with ENOENT", async () => {
    const t = await mountTenant();
    const res = await t.call("/images/nope", { method: "DELETE" });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errno: string }).errno).toBe("ENOENT");
  });
});

describe("resize", () => {
  it("grows an image: its old bytes stay, the new tail reads as zeros", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", pattern(6000, 4));
    const res = await t.call("/images/disk", { method: "PATCH", json: { size: 20000 } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: "disk", size: 20000, chunkSize: 4096 });
    const back = await bytesOf(await t.call("/images/disk"));
    expect(back.length).toBe(20000);
    expect(back.subarray(0, 6000)).toEqual(pattern(6000, 4));
    expect(back.subarray(6000)).toEqual(new Uint8Array(14000));
  });

  it("shrinks an image and frees the chunks past its new end", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", pattern(4 * 4096, 5));
    const res = await t.call("/images/disk", { method: "PATCH", json: { size: 4096 } });
    expect(await res.json()).toMatchObject({ size: 4096, storedBytes: 4096 });
    expect(await bytesOf(await t.call("/images/disk"))).toEqual(pattern(4096, 5));
  });

  it("refuses an unknown image with ENOENT and a bad body with EINVAL", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", pattern(4096));
    const unknown = await t.call("/images/nope", { method: "PATCH", json: { size: 1 } });
    expect(unknown.status).toBe(404);
    for (const json of [{}, { size: "1" }, { size: 1, name: "x" }]) {
      const res = await t.call("/images/disk", { method: "PATCH", json });
      expect(res.status).toBe(400);
    }
    expect((await listing(t))[0]).toMatchObject({ size: 4096, storedBytes: 4096 });
  });
});
