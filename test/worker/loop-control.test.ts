/** loop-control: get-free, add and remove, inside the instance's max. */
import { describe, expect, it } from "vitest";
import { api, attach, mountTenant, OPERATOR, pattern, putImage, type Tenant } from "./helpers";

async function control(t: Tenant, json: Record<string, unknown>) {
  const res = await t.call("/loop-control", { method: "POST", json });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function deviceCount(t: Tenant): Promise<number> {
  const res = await t.call("");
  return ((await res.json()) as { devices: number }).devices;
}

describe("get-free", () => {
  it("creates loop0 in an empty instance", async () => {
    const t = await mountTenant();
    expect(await control(t, { op: "get-free" })).toEqual({
      status: 200,
      body: { device: "loop0", number: 0 },
    });
    expect(await deviceCount(t)).toBe(1);
  });

  it("reuses an existing unbound device before creating one", async () => {
    const t = await mountTenant();
    expect((await control(t, { op: "get-free" })).body.number).toBe(0);
    expect((await control(t, { op: "get-free" })).body.number).toBe(0);
    expect(await deviceCount(t)).toBe(1);
  });

  it("answers the lowest unbound device when several exist", async () => {
    const t = await mountTenant();
    for (const number of [2, 4, 6]) await control(t, { op: "add", number });
    expect((await control(t, { op: "get-free" })).body).toEqual({ device: "loop2", number: 2 });
    expect(await deviceCount(t)).toBe(3);
  });

  it("creates the lowest free number once every device is bound", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", pattern(4096));
    for (const number of [0, 2]) await control(t, { op: "add", number });
    expect(await attach(t, "disk")).toBe("loop0");
    expect(await attach(t, "disk")).toBe("loop2");
    expect((await control(t, { op: "get-free" })).body).toEqual({ device: "loop1", number: 1 });
    expect(await deviceCount(t)).toBe(3);
  });

  it("refuses with ENOSPC (507) when every device is bound and max is reached", async () => {
    const t = await mountTenant(2);
    await putImage(t, "disk", pattern(4096));
    await attach(t, "disk");
    await attach(t, "disk");
    const full = await control(t, { op: "get-free" });
    expect(full.status).toBe(507);
    expect(full.body.errno).toBe("ENOSPC");
    expect(await deviceCount(t)).toBe(2);
  });

  it("still hands out an existing unbound device after a remount below the count", async () => {
    const t = await mountTenant(4);
    for (const number of [0, 1, 2]) await control(t, { op: "add", number });
    await api(`/${t.name}`, OPERATOR, { method: "PATCH", json: { max: 1 } });
    expect(await control(t, { op: "get-free" })).toEqual({
      status: 200,
      body: { device: "loop0", number: 0 },
    });
    expect(await deviceCount(t)).toBe(3);
  });

  it("refuses a number with EINVAL", async () => {
    const t = await mountTenant();
    const res = await control(t, { op: "get-free", number: 3 });
    expect(res.status).toBe(400);
    expect(res.body.errno).toBe("EINVAL");
    expect(await deviceCount(t)).toBe(0);
  });
});

describe("add", () => {
  it("creates the named device with 201", async () => {
    const t = await mountTenant();
    expect(await control(t, { op: "add", number: 5 })).toEqual({
      status: 201,
      body: { device: "loop5", number: 5 },
    });
    const status = await t.call("/devices/loop5/status");
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ name: "loop5", number: 5, image: null });
  });

  it("accepts the highest device number, 1048575", async () => {
    const t = await mountTenant();
    const res = await control(t, { op: "add", number: 1048575 });
    expect(res).toEqual({ status: 201, body: { device: "loop1048575", number: 1048575 } });
  });

  it("refuses an existing device with EEXIST (409)", async () => {
    const t = await mountTenant();
    await control(t, { op: "add", number: 5 });
    const again = await control(t, { op: "add", number: 5 });
    expect(again.status).toBe(409);
    expect(again.body.errno).toBe("EEXIST");
    expect(await deviceCount(t)).toBe(1);
  });

  it("refuses with ENOSPC (507) at max", async () => {
    const t = await mountTenant(2);
    await control(t, { op: "add", number: 0 });
    await control(t, { op: "add", number: 9 });
    const full = await control(t, { op: "add", number: 3 });
    expect(full.status).toBe(507);
    expect(full.body.errno).toBe("ENOSPC");
    expect((await t.call("/devices/loop3/status")).status).toBe(404);
  });

  it("refuses a missing number or one past 1048575 with EINVAL", async () => {
    const t = await mountTenant();
    for (const json of [{ op: "add" }, { op: "add", number: 1048576 }, { op: "remove" }]) {
      const res = await control(t, json);
      expect(res.status).toBe(400);
      expect(res.body.errno).toBe("EINVAL");
    }
    expect(await deviceCount(t)).toBe(0);
  });
});

describe("remove", () => {
  it("removes an unbound device and answers its name", async () => {
    const t = await mountTenant();
    await control(t, { op: "add", number: 5 });
    expect(await control(t, { op: "remove", number: 5 })).toEqual({
      status: 200,
      body: { device: "loop5", number: 5 },
    });
    expect(await deviceCount(t)).toBe(0);
    const status = await t.call("/devices/loop5/status");
    expect(status.status).toBe(404);
  });

  it("refuses an unknown device with ENODEV (404)", async () => {
    const t = await mountTenant();
    const res = await control(t, { op: "remove", number: 3 });
    expect(res.status).toBe(404);
    expect(res.body.errno).toBe("ENODEV");
  });

  it("refuses a bound device with EBUSY (409) and leaves it bound", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", pattern(4096));
    const dev = await attach(t, "disk");
    const res = await control(t, { op: "remove", number: 0 });
    expect(res.status).toBe(409);
    expect(res.body.errno).toBe("EBUSY");
    const status = await t.call(`/devices/${dev}/status`);
    expect(((await status.json()) as { image: string }).image).toBe("disk");
  });

  it("frees the slot: a removed device's number is created again by get-free", async () => {
    const t = await mountTenant(1);
    await control(t, { op: "add", number: 3 });
    await control(t, { op: "remove", number: 3 });
    expect((await control(t, { op: "get-free" })).body).toEqual({ device: "loop0", number: 0 });
  });
});

describe("the op field", () => {
  it("refuses an unknown op with EINVAL", async () => {
    const t = await mountTenant();
    const res = await control(t, { op: "grab" });
    expect(res.status).toBe(400);
    expect(res.body.errno).toBe("EINVAL");
  });
});
