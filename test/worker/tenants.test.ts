/** Instances: mount, remount, usage and unmount, as the operator and the tenant see them. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { api, attach, mountTenant, OPERATOR, pattern, putImage, type Tenant } from "./helpers";

const bindings = env as unknown as Env;

let counter = 0;
function freshName(): string {
  return `mnt${Date.now().toString(36)}-${counter++}`;
}

async function chunkKeys(tenant: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bindings.CHUNKS.list({ prefix: `${tenant}/`, cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys;
}

async function usage(t: Tenant) {
  const res = await t.call("");
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

async function loopControl(t: Tenant, op: string, number?: number) {
  return t.call("/loop-control", { method: "POST", json: { op, number } });
}

describe("mount", () => {
  it("answers 201 with the tenant, its max and a token that opens the tenant", async () => {
    const name = freshName();
    const res = await api(`/${name}`, OPERATOR, { method: "PUT", json: { max: 8 } });
    expect(res.status).toBe(201);
    const answer = (await res.json()) as { tenant: string; max: number; token: string };
    expect(answer.tenant).toBe(name);
    expect(answer.max).toBe(8);
    expect(answer.token).toMatch(/^\S{16,}$/);

    const seen = await api(`/${name}`, answer.token);
    expect(seen.status).toBe(200);
    expect(await seen.json()).toEqual({
      tenant: name,
      max: 8,
      devices: 0,
      boundDevices: 0,
      images: 0,
      storedBytes: 0,
    });
  });

  it("uses max 256 when the operator gives none", async () => {
    const res = await api(`/${freshName()}`, OPERATOR, { method: "PUT" });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { max: number }).max).toBe(256);
  });

  it("refuses to mount a mounted tenant again with EEXIST and shows no new token", async () => {
    const t = await mountTenant();
    const again = await api(`/${t.name}`, OPERATOR, { method: "PUT", json: { max: 4 } });
    expect(again.status).toBe(409);
    const problem = (await again.json()) as Record<string, unknown>;
    expect(problem.errno).toBe("EEXIST");
    expect(problem.token).toBeUndefined();
    // The first token still works and max is unchanged.
    expect((await usage(t)).max).toBe(16);
  });

  it("never shows the token again: usage carries none", async () => {
    const t = await mountTenant();
    const seen = await usage(t);
    expect(JSON.stringify(seen)).not.toContain(t.token);
    expect(seen.token).toBeUndefined();
  });
});

describe("remount", () => {
  it("changes max and answers the usage", async () => {
    const t = await mountTenant(4);
    const res = await api(`/${t.name}`, OPERATOR, { method: "PATCH", json: { max: 9 } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ tenant: t.name, max: 9, devices: 0 });
    expect((await usage(t)).max).toBe(9);
  });

  it("keeps existing devices when max drops below their count; new ones get ENOSPC", async () => {
    const t = await mountTenant(4);
    for (const n of [0, 1, 2]) expect((await loopControl(t, "add", n)).status).toBe(201);
    await putImage(t, "disk", pattern(4096));
    await attach(t, "disk");
    await attach(t, "disk");
    await attach(t, "disk");

    const res = await api(`/${t.name}`, OPERATOR, { method: "PATCH", json: { max: 1 } });
    expect(res.status).toBe(200);
    expect(await usage(t)).toMatchObject({ max: 1, devices: 3, boundDevices: 3 });

    const add = await loopControl(t, "add", 7);
    expect(add.status).toBe(507);
    expect(((await add.json()) as { errno: string }).errno).toBe("ENOSPC");
    const free = await loopControl(t, "get-free");
    expect(free.status).toBe(507);
    expect((await t.call("/devices/loop2")).status).toBe(200);
    expect(await usage(t)).toMatchObject({ devices: 3 });
  });

  it("refuses a remount of a tenant that is not mounted with ENOENT", async () => {
    const res = await api(`/${freshName()}`, OPERATOR, { method: "PATCH", json: { max: 3 } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errno: string }).errno).toBe("ENOENT");
  });
});

describe("usage", () => {
  it("counts devices, bound devices, images and stored bytes", async () => {
    const t = await mountTenant();
    await putImage(t, "a", pattern(3 * 4096));
    const sparse = await t.call("/images", { method: "POST", json: { name: "b", size: 1 << 20 } });
    expect(sparse.status).toBe(201);
    await attach(t, "a");
    expect((await loopControl(t, "add", 5)).status).toBe(201);

    expect(await usage(t)).toEqual({
      tenant: t.name,
      max: 16,
      devices: 2,
      boundDevices: 1,
      images: 2,
      storedBytes: 3 * 4096,
    });
  });
});

describe("unmount", () => {
  it("detaches bound devices, removes every chunk in R2 and retires the token", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", pattern(5 * 4096, 3));
    await putImage(t, "other", pattern(2 * 4096, 4));
    const dev = await attach(t, "disk");
    await attach(t, "other", { readOnly: true });
    expect((await chunkKeys(t.name)).length).toBe(7);

    const res = await api(`/${t.name}`, OPERATOR, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ tenant: t.name, deletedChunks: 7 });

    expect(await chunkKeys(t.name)).toEqual([]);
    const old = await t.call("");
    expect(old.status).toBe(401);
    expect((await t.call(`/devices/${dev}`)).status).toBe(401);
    // The operator now finds no instance there.
    const gone = await api(`/${t.name}`, OPERATOR);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { errno: string }).errno).toBe("ENOENT");
  });

  it("lets the operator mount the name again as a fresh, empty instance", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", pattern(4096));
    await attach(t, "disk");
    expect((await api(`/${t.name}`, OPERATOR, { method: "DELETE" })).status).toBe(200);

    const again = await api(`/${t.name}`, OPERATOR, { method: "PUT", json: { max: 2 } });
    expect(again.status).toBe(201);
    const { token } = (await again.json()) as { token: string };
    expect(token).not.toBe(t.token);
    expect((await t.call("")).status).toBe(401);

    const fresh = await api(`/${t.name}`, token);
    expect(await fresh.json()).toEqual({
      tenant: t.name,
      max: 2,
      devices: 0,
      boundDevices: 0,
      images: 0,
      storedBytes: 0,
    });
    expect((await api(`/${t.name}/images/disk`, token)).status).toBe(404);
    const free = await api(`/${t.name}/loop-control`, token, {
      method: "POST",
      json: { op: "get-free" },
    });
    expect(await free.json()).toEqual({ device: "loop0", number: 0 });
  });

  it("leaves the chunks of another tenant alone", async () => {
    const a = await mountTenant();
    const b = await mountTenant();
    await putImage(a, "disk", pattern(2 * 4096, 5));
    await putImage(b, "disk", pattern(2 * 4096, 6));
    expect((await api(`/${a.name}`, OPERATOR, { method: "DELETE" })).status).toBe(200);
    expect((await chunkKeys(b.name)).length).toBe(2);
    const back = await b.call("/images/disk");
    expect(new Uint8Array(await back.arrayBuffer())).toEqual(pattern(2 * 4096, 6));
  });

  it("refuses to unmount a tenant that is not mounted with ENOENT", async () => {
    const res = await api(`/${freshName()}`, OPERATOR, { method: "DELETE" });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errno: string }).errno).toBe("ENOENT");
  });
});

describe("unmount racing a mount", () => {
  it("never answers 201 to a mount that the unmount in progress then erases", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", pattern(64 * 4096, 8));
    const unmount = api(`/${t.name}`, OPERATOR, { method: "DELETE" });
    const mounts = Array.from({ length: 20 }, async (_, i) => {
      await new Promise((resolve) => setTimeout(resolve, i * 5));
      return api(`/${t.name}`, OPERATOR, { method: "PUT", json: { max: 3 } });
    });
    expect((await unmount).status).toBe(200);
    const answers = await Promise.all(mounts);
    const granted = answers.filter((res) => res.status === 201);
    expect(granted.length).toBeLessThanOrEqual(1);
    for (const res of answers.filter((r) => r.status !== 201)) {
      expect(res.status).toBe(409);
    }
    if (granted.length) {
      const { token } = (await granted[0].json()) as { token: string };
      const seen = await api(`/${t.name}`, token);
      expect(seen.status).toBe(200);
      expect(await seen.json()).toMatchObject({ max: 3, images: 0 });
    }
  }, 20_000);
});
