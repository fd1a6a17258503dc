/** Loop devices: attach (LOOP_CONFIGURE), status, set status, change backing, detach, list. */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { attach, bytesOf, mountTenant, pattern, putImage, type Tenant } from "./helpers";

const bindings = env as unknown as Env;
const IMAGE_SIZE = 10000;

async function status(t: Tenant, dev: string) {
  const res = await t.call(`/devices/${dev}/status`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

async function patchStatus(t: Tenant, dev: string, json: Record<string, unknown>) {
  const res = await t.call(`/devices/${dev}/status`, { method: "PATCH", json });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function withImage(bytes = pattern(IMAGE_SIZE)): Promise<Tenant> {
  const t = await mountTenant();
  expect((await putImage(t, "disk", bytes)).status).toBe(201);
  return t;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("attach", () => {
  it("answers the status with offset, sizelimit, flags and a size rounded down to 512", async () => {
    const t = await withImage();
    await t.call("/loop-control", { method: "POST", json: { op: "add", number: 3 } });
    const res = await t.call("/devices/loop3/backing", {
      method: "PUT",
      json: { image: "disk", offset: 1000, readOnly: true, blockSize: 4096 },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      name: "loop3",
      number: 3,
      image: "disk",
      offset: 1000,
      sizelimit: 0,
      size: 8704,
      readOnly: true,
      autoclear: false,
      leaseSeconds: 300,
      partscan: false,
      blockSize: 4096,
    });
  });

  it("serves the image's bytes from the offset, up to the device size", async () => {
    const image = pattern(IMAGE_SIZE, 2);
    const t = await withImage(image);
    const dev = await attach(t, "disk", { offset: 512, sizelimit: 3000 });
    expect((await status(t, dev)).size).toBe(2560);
    const read = await t.call(`/devices/${dev}`);
    expect(read.headers.get("Content-Length")).toBe("2560");
    expect(await bytesOf(read)).toEqual(image.subarray(512, 512 + 2560));
  });

  it("sizes a device 0 when the offset lies past the image's end", async () => {
    const t = await withImage();
    const dev = await attach(t, "disk", { offset: IMAGE_SIZE + 512 });
    expect((await status(t, dev)).size).toBe(0);
  });

  it("takes block size 0 as 512", async () => {
    const t = await withImage();
    const dev = await attach(t, "disk", { blockSize: 0 });
    expect((await status(t, dev)).blockSize).toBe(512);
  });

  it("refuses a write to a read-only device with EROFS and writes nothing", async () => {
    const image = pattern(IMAGE_SIZE, 3);
    const t = await withImage(image);
    const dev = await attach(t, "disk", { readOnly: true });
    const put = await t.call(`/devices/${dev}`, {
      method: "PUT",
      headers: { "Content-Range": "bytes 0-511/*" },
      body: new Uint8Array(512).fill(7),
    });
    expect(put.status).toBe(409);
    expect(((await put.json()) as { errno: string }).errno).toBe("EROFS");
    expect(await bytesOf(await t.call("/images/disk"))).toEqual(image);
  });

  it("refuses to attach a bound device again with EBUSY and keeps its binding", async () => {
    const t = await withImage();
    const dev = await attach(t, "disk", { offset: 512 });
    await putImage(t, "other", pattern(4096));
    const again = await t.call(`/devices/${dev}/backing`, {
      method: "PUT",
      json: { image: "other" },
    });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { errno: string }).errno).toBe("EBUSY");
    expect(await status(t, dev)).toMatchObject({ image: "disk", offset: 512 });
  });
});

describe("autoclear", () => {
  it("clears the binding when no request touched the device for leaseSeconds", async () => {
    const t = await withImage();
    const dev = await attach(t, "disk", { autoclear: true, leaseSeconds: 1 });
    expect(await status(t, dev)).toMatchObject({ autoclear: true, leaseSeconds: 1 });
    await sleep(1200);
    expect(await status(t, dev)).toMatchObject({ image: null, autoclear: false, size: 0 });
    expect(await (await t.call("")).json()).toMatchObject({ devices: 1, boundDevices: 0 });
  });

  it("renews the lease on every request to the device", async () => {
    const t = await withImage();
    const dev = await attach(t, "disk", { autoclear: true, leaseSeconds: 1 });
    for (let i = 0; i < 3; i++) {
      await sleep(600);
      const read = await t.call(`/devices/${dev}`, { headers: { Range: "bytes=0-0" } });
      expect(read.status).toBe(206);
      await read.arrayBuffer();
    }
    expect((await status(t, dev)).image).toBe("disk");
  });

  it("arms an alarm that clears an expired lease with no request at all", async () => {
    const t = await withImage();
    const attachedAt = Date.now();
    await attach(t, "disk", { autoclear: true, leaseSeconds: 1 });
    const stub = bindings.TENANTS.get(bindings.TENANTS.idFromName(t.name));
    const alarm = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(Date.now() + 1000);
    expect(alarm!).toBeGreaterThanOrEqual(attachedAt);

    await sleep(1200);
    // The alarm may have fired on its own already; if not, run it now.
    await runDurableObjectAlarm(stub);
    const bound = await runInDurableObject(stub, (_, state) =>
      state.storage.sql.exec("SELECT number FROM devices WHERE image_id IS NOT NULL").toArray(),
    );
    expect(bound).toEqual([]);
  });

  it("keeps a device without autoclear bound past any lease", async () => {
    const t = await withImage();
    const dev = await attach(t, "disk", { leaseSeconds: 1 });
    await sleep(1200);
    expect((await status(t, dev)).image).toBe("disk");
  });
});

describe("set status", () => {
  it("changes offset and sizelimit and recomputes the size", async () => {
    const image = pattern(IMAGE_SIZE, 4);
    const t = await withImage(image);
    const dev = await attach(t, "disk");
    const res = await patchStatus(t, dev, { offset: 2048, sizelimit: 4000 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ offset: 2048, sizelimit: 4000, size: 3584 });
    const read = await t.call(`/devices/${dev}`);
    expect(await bytesOf(read)).toEqual(image.subarray(2048, 2048 + 3584));
  });

  it("changes block size, autoclear and leaseSeconds", async () => {
    const t = await withImage();
    const dev = await attach(t, "disk");
    const res = await patchStatus(t, dev, { blockSize: 2048, autoclear: true, leaseSeconds: 60 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ blockSize: 2048, autoclear: true, leaseSeconds: 60 });
    expect(await status(t, dev)).toMatchObject({ blockSize: 2048, autoclear: true });
  });

  it("sets partscan but refuses to clear it with EINVAL", async () => {
    const t = await withImage();
    const dev = await attach(t, "disk");
    expect((await patchStatus(t, dev, { partscan: true })).body.partscan).toBe(true);
    const clear = await patchStatus(t, dev, { partscan: false });
    expect(clear.status).toBe(400);
    expect(clear.body.errno).toBe("EINVAL");
    expect((await status(t, dev)).partscan).toBe(true);
  });

  it("keeps the old size after the image grows, until a capacity refresh", async () => {
    const t = await withImage();
    const dev = await attach(t, "disk");
    expect((await status(t, dev)).size).toBe(9728);
    const grow = await t.call("/images/disk", { method: "PATCH", json: { size: 20000 } });
    expect(grow.status).toBe(200);
    expect(((await grow.json()) as { size: number }).size).toBe(20000);
    expect((await status(t, dev)).size).toBe(9728);
    const refresh = await patchStatus(t, dev, { capacity: "refresh" });
    expect(refresh.status).toBe(200);
    expect(refresh.body.size).toBe(19968);
    const read = await t.call(`/devices/${dev}`, { method: "HEAD" });
    expect(read.headers.get("Content-Length")).toBe("19968");
  });
});

describe("change backing", () => {
  it("swaps the image under a read-only device for one of the same size", async () => {
    const t = await withImage();
    const next = pattern(IMAGE_SIZE, 9);
    await putImage(t, "next", next);
    const dev = await attach(t, "disk", { readOnly: true });
    const res = await t.call(`/devices/${dev}/backing`, {
      method: "PATCH",
      json: { image: "next" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ image: "next", readOnly: true, size: 9728 });
    expect(await bytesOf(await t.call(`/devices/${dev}`))).toEqual(next.subarray(0, 9728));
  });

  it("refuses a writable device or an image of another size with EINVAL", async () => {
    const t = await withImage();
    await putImage(t, "same", pattern(IMAGE_SIZE, 5));
    await putImage(t, "small", pattern(4096, 6));
    const writable = await attach(t, "disk");
    const readOnly = await attach(t, "disk", { readOnly: true });
    for (const [dev, image] of [
      [writable, "same"],
      [readOnly, "small"],
    ]) {
      const res = await t.call(`/devices/${dev}/backing`, { method: "PATCH", json: { image } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errno: string }).errno).toBe("EINVAL");
      expect((await status(t, dev)).image).toBe("disk");
    }
  });
});

describe("detach and removal", () => {
  it("detaches with 204 and leaves the device unbound; a second detach is ENXIO", async () => {
    const t = await withImage();
    const dev = await attach(t, "disk");
    const res = await t.call(`/devices/${dev}/backing`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(await status(t, dev)).toMatchObject({ image: null, size: 0, offset: 0 });
    const again = await t.call(`/devices/${dev}/backing`, { method: "DELETE" });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { errno: string }).errno).toBe("ENXIO");
  });

  it("removes an unbound device with 204 and refuses a bound one with EBUSY", async () => {
    const t = await withImage();
    const bound = await attach(t, "disk");
    await t.call("/loop-control", { method: "POST", json: { op: "add", number: 4 } });
    const busy = await t.call(`/devices/${bound}`, { method: "DELETE" });
    expect(busy.status).toBe(409);
    expect(((await busy.json()) as { errno: string }).errno).toBe("EBUSY");
    expect((await t.call("/devices/loop4", { method: "DELETE" })).status).toBe(204);
    expect((await t.call("/devices/loop4/status")).status).toBe(404);
    expect(await (await t.call("")).json()).toMatchObject({ devices: 1, boundDevices: 1 });
  });
});

describe("list", () => {
  it("lists bound devices in losetup --list --json shape", async () => {
    const t = await withImage();
    await attach(t, "disk", { offset: 1024, sizelimit: 4096, readOnly: true, blockSize: 4096 });
    await attach(t, "disk", { autoclear: true });
    await t.call("/loop-control", { method: "POST", json: { op: "add", number: 7 } });
    const res = await t.call("/devices");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      loopdevices: [
        {
          name: "loop0",
          sizelimit: 4096,
          offset: 1024,
          autoclear: false,
          ro: true,
          "back-file": "disk",
          dio: false,
          "log-sec": 4096,
          size: 4096,
        },
        {
          name: "loop1",
          sizelimit: 0,
          offset: 0,
          autoclear: true,
          ro: false,
          "back-file": "disk",
          dio: false,
          "log-sec": 512,
          size: 9728,
        },
      ],
    });
  });
});
