/**
 * Invariant 5: one tenant's token never reads, lists, writes or counts anything of another,
 * whatever the path, its encoding or the way the token is presented.
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import { attach, bytesOf, mountTenant, OPERATOR, pattern, putImage, type Tenant } from "./helpers";

const ORIGIN = "http://loopfs.test";
const SECRET = pattern(8192, 77);

let a: Tenant;
let b: Tenant;

beforeAll(async () => {
  a = await mountTenant();
  b = await mountTenant();
  expect((await putImage(b, "secret", SECRET)).status).toBe(201);
  await attach(b, "secret");
});

function basic(user: string, token: string): string {
  return `Basic ${btoa(`${user}:${token}`)}`;
}

function raw(path: string, authorization?: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (authorization) headers.set("Authorization", authorization);
  return SELF.fetch(`${ORIGIN}${path}`, { ...init, headers });
}

/** What B holds, as B's own token sees it. */
async function stateOfB() {
  const usage = await (await b.call("")).json();
  const images = await (await b.call("/images")).json();
  const devices = await (await b.call("/devices")).json();
  const bytes = await bytesOf(await b.call("/images/secret"));
  return { usage, images, devices, bytes: Array.from(bytes.subarray(0, 64)) };
}

/** A 401 problem that names only the request's own path and carries nothing of B. */
async function expectRefused(res: Response, method = "GET") {
  expect(res.status).toBe(401);
  expect(res.headers.get("WWW-Authenticate")).toContain("Bearer");
  const text = await res.text();
  if (method === "HEAD") return expect(text).toBe("");
  const problem = JSON.parse(text) as Record<string, unknown>;
  expect(Object.keys(problem).sort()).toEqual(["detail", "instance", "status", "title", "type"]);
  expect(problem.detail).not.toContain("secret");
}

const routesOfB = (): [string, RequestInit][] => [
  [`/v1/tenants/${b.name}`, {}],
  [`/v1/tenants/${b.name}/images`, {}],
  [`/v1/tenants/${b.name}/images/secret`, {}],
  [`/v1/tenants/${b.name}/images/secret`, { method: "HEAD" }],
  [`/v1/tenants/${b.name}/images/secret/chunks`, {}],
  [`/v1/tenants/${b.name}/images/secret`, { method: "DELETE" }],
  [`/v1/tenants/${b.name}/devices`, {}],
  [`/v1/tenants/${b.name}/devices/loop0`, {}],
  [`/v1/tenants/${b.name}/devices/loop0/status`, {}],
  [`/v1/tenants/${b.name}/devices/loop0/backing`, { method: "DELETE" }],
  [
    `/v1/tenants/${b.name}/devices/loop0`,
    { method: "PUT", headers: { "Content-Range": "bytes 0-3/*" }, body: "evil" },
  ],
  [
    `/v1/tenants/${b.name}/loop-control`,
    { method: "POST", body: JSON.stringify({ op: "get-free" }) },
  ],
];

describe("another tenant's token", () => {
  it("opens none of B's routes as Bearer, and B is unchanged", async () => {
    const before = await stateOfB();
    for (const [path, init] of routesOfB()) {
      await expectRefused(await raw(path, `Bearer ${a.token}`, init), init.method);
    }
    expect(await stateOfB()).toEqual(before);
  });

  it("opens none of B's routes as Basic, under A's name or under B's", async () => {
    const before = await stateOfB();
    for (const credentials of [basic(a.name, a.token), basic(b.name, a.token)]) {
      for (const [path, init] of routesOfB()) {
        await expectRefused(await raw(path, credentials, init), init.method);
      }
    }
    expect(await stateOfB()).toEqual(before);
  });

  it("does not reach B through path tricks on A's routes or B's", async () => {
    const tricks = [
      `/v1/tenants/${a.name}%2F..%2F${b.name}/images`,
      `/v1/tenants/${a.name}/..%2F${b.name}/images`,
      `/v1/tenants/${a.name}/images/..%2F..%2F${b.name}%2Fimages%2Fsecret`,
      `/v1/tenants/${a.name}/images/%2e%2e/%2e%2e/${b.name}/images/secret`,
      `/v1/tenants/${a.name}/images/../../${b.name}/images/secret`,
      `/v1/tenants/${b.name.toUpperCase()}/images/secret`,
      `/v1/tenants/${b.name}/images/`,
      `/v1/tenants/${b.name}/images/secret/`,
      `/v1/tenants//${b.name}/images/secret`,
      `/v1/tenants/${b.name}//images/secret`,
      `/v1/tenants/${b.name}%2Fimages%2Fsecret`,
      `/v1/tenants/${a.name}%00${b.name}/images`,
    ];
    for (const path of tricks) {
      const res = await raw(path, `Bearer ${a.token}`);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      const text = await res.text();
      expect(text, path).not.toContain('"secret"');
      expect(text.length, path).toBeLessThan(1000);
    }
  });

  it("never counts B's devices or images in A's usage or lists", async () => {
    expect(await (await a.call("")).json()).toMatchObject({
      devices: 0,
      boundDevices: 0,
      images: 0,
      storedBytes: 0,
    });
    expect(await (await a.call("/images")).json()).toEqual({ images: [] });
    expect(await (await a.call("/devices")).json()).toEqual({ loopdevices: [] });
    const read = await a.call("/images/secret");
    expect(read.status).toBe(404);
  });
});

describe("credentials", () => {
  it("lets HTTP Basic tenant:TOKEN read the tenant's image and device", async () => {
    const credentials = basic(b.name, b.token);
    const image = await raw(`/v1/tenants/${b.name}/images/secret`, credentials);
    expect(image.status).toBe(200);
    expect(await bytesOf(image)).toEqual(SECRET);
    const part = await raw(`/v1/tenants/${b.name}/devices/loop0`, credentials, {
      headers: { Range: "bytes=100-199" },
    });
    expect(part.status).toBe(206);
    expect(await bytesOf(part)).toEqual(SECRET.subarray(100, 200));
  });

  it("refuses a missing, empty or garbled Authorization with 401 and WWW-Authenticate", async () => {
    for (const header of [undefined, "Bearer", "Bearer ", "Basic !!!", "Token abc", "Basic "]) {
      const res = await raw(`/v1/tenants/${b.name}/images`, header);
      expect(res.status, String(header)).toBe(401);
      expect(res.headers.get("WWW-Authenticate"), String(header)).toContain("Basic");
      expect(res.headers.get("Content-Type")).toBe("application/problem+json");
    }
  });

  it("refuses a valid token followed by anything else in the header", async () => {
    for (const header of [`Bearer ${b.token} extra`, `Bearer ${b.token} ${b.token}`]) {
      const res = await raw(`/v1/tenants/${b.name}/images`, header);
      expect(res.status, header).toBe(401);
    }
    expect((await raw(`/v1/tenants/${b.name}/images`, `Bearer ${b.token}`)).status).toBe(200);
  });
});

describe("operator routes", () => {
  const operatorCalls = (tenant: string): [string, RequestInit][] => [
    [`/v1/tenants/${tenant}`, { method: "PUT", body: "{}" }],
    [`/v1/tenants/${tenant}`, { method: "PATCH", body: '{"max":1000}' }],
    [`/v1/tenants/${tenant}`, { method: "DELETE" }],
    [`/v1/tenants/${tenant}/gc`, { method: "POST" }],
  ];

  it("refuses the tenant's own token with EPERM (403)", async () => {
    for (const [path, init] of operatorCalls(b.name)) {
      for (const credentials of [`Bearer ${b.token}`, basic(b.name, b.token)]) {
        const res = await raw(path, credentials, init);
        expect(res.status, `${init.method} ${path}`).toBe(403);
        expect(((await res.json()) as { errno: string }).errno).toBe("EPERM");
      }
    }
    expect((await b.call("")).status).toBe(200);
    expect(((await (await b.call("")).json()) as { max: number }).max).toBe(16);
  });

  it("refuses no token and a wrong token with 401 and WWW-Authenticate", async () => {
    for (const [path, init] of operatorCalls(b.name)) {
      for (const credentials of [undefined, "Bearer wrong-token", `Bearer ${a.token}`]) {
        const res = await raw(path, credentials, init);
        expect(res.status, `${init.method} ${path} ${credentials}`).toBe(401);
        expect(res.headers.get("WWW-Authenticate")).toContain("Bearer");
      }
    }
    expect(await (await b.call("")).json()).toMatchObject({ max: 16, images: 1 });
  });

  it("refuses to mount a new tenant for anyone but the operator", async () => {
    const name = `iso${Date.now().toString(36)}`;
    const wrong = await raw(`/v1/tenants/${name}`, `Bearer ${a.token}`, { method: "PUT" });
    expect(wrong.status).toBe(401);
    const none = await raw(`/v1/tenants/${name}`, undefined, { method: "PUT" });
    expect(none.status).toBe(401);
    const operator = await raw(`/v1/tenants/${name}`, basic("ops", OPERATOR), { method: "PUT" });
    expect(operator.status).toBe(201);
  });

  it("leaves no storage behind for a tenant that was never mounted", async () => {
    const name = `never-${Date.now().toString(36)}`;
    for (const path of ["", "/devices", "/images/disk", "/loop-control"]) {
      const res = await SELF.fetch(`http://loopfs.test/v1/tenants/${name}${path}`, {
        method: path === "/loop-control" ? "POST" : "GET",
        headers: { Authorization: "Bearer lfs_guessed" },
        body: path === "/loop-control" ? '{"op":"get-free"}' : undefined,
      });
      expect(res.status).toBe(401);
    }
    const tenants = (env as unknown as Env).TENANTS;
    const stub = tenants.get(tenants.idFromName(name));
    const tables = await runInDurableObject(stub, (_, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'").toArray(),
    );
    expect(tables.filter((t) => !String(t.name).startsWith("_cf"))).toEqual([]);
  });
});
