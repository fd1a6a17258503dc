import { describe, expect, it } from "vitest";
import { attach, bytesOf, mountTenant, pattern, putImage } from "./helpers";

describe("the main job", () => {
  it("uploads an image, attaches it, reads it back whole and in ranges", async () => {
    const t = await mountTenant();
    const image = pattern(3 * 4096 + 100);
    image.fill(0, 4096, 8192);
    const up = await putImage(t, "disk", image);
    expect(up.status).toBe(201);
    expect(await up.json()).toMatchObject({
      name: "disk",
      size: image.length,
      storedBytes: 3 * 4096,
    });

    const dev = await attach(t, "disk");
    expect(dev).toBe("loop0");
    const whole = await t.call(`/devices/${dev}`);
    expect(whole.status).toBe(200);
    // Device size is rounded down to 512 bytes.
    expect(whole.headers.get("Content-Length")).toBe(String(3 * 4096));
    expect(await bytesOf(whole)).toEqual(image.subarray(0, 3 * 4096));

    const part = await t.call(`/devices/${dev}`, { headers: { Range: "bytes=4000-8300" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("Content-Range")).toBe(`bytes 4000-8300/${3 * 4096}`);
    expect(await bytesOf(part)).toEqual(image.subarray(4000, 8301));
  });

  it("writes a range across chunks and reads it back", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", new Uint8Array(5 * 4096));
    const dev = await attach(t, "disk");
    const data = pattern(6000, 7);
    const put = await t.call(`/devices/${dev}`, {
      method: "PUT",
      headers: { "Content-Range": `bytes 3000-8999/*` },
      body: data,
    });
    expect(put.status).toBe(204);
    const back = await t.call(`/devices/${dev}`, { headers: { Range: "bytes=2990-9009" } });
    const got = await bytesOf(back);
    expect(got.subarray(0, 10)).toEqual(new Uint8Array(10));
    expect(got.subarray(10, 6010)).toEqual(data);
    expect(got.subarray(6010)).toEqual(new Uint8Array(10));
  });
});
