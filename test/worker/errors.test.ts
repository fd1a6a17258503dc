/**
 * Client mistakes: each answers problem JSON with the errno of DESIGN's table and its status,
 * never a 500, and changes nothing.
 */
import { describe, expect, it } from "vitest";
import { api, attach, mountTenant, OPERATOR, pattern, putImage, type Tenant } from "./helpers";

interface Problem {
  status: number;
  errno?: string;
  detail?: string;
}

/** Checks that a response is a problem of the given errno and status. */
async function expectProblem(res: Response, errno: string, status: number): Promise<Problem> {
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const problem = (await res.json()) as Problem;
  expect({ http: res.status, status: problem.status, errno: problem.errno }).toEqual({
    http: status,
    status,
    errno,
  });
  return problem;
}

async function snapshot(t: Tenant) {
  const usage = await (await t.call("")).json();
  const devices = await (await t.call("/devices")).json();
  const images = await (await t.call("/images")).json();
  return { usage, devices, images };
}

/**
 * One instance serves every test here: each asserts that its refusals changed nothing, so the
 * instance is the same for the next.
 */
let fixture: { t: Tenant; dev: string } | null = null;
async function setUp() {
  if (fixture) return fixture;
  const t = await mountTenant(4);
  await putImage(t, "disk", pattern(8192));
  const dev = await attach(t, "disk", { offset: 512 });
  await t.call("/loop-control", { method: "POST", json: { op: "add", number: 2 } });
  fixture = { t, dev };
  return fixture;
}

const U53_OVER = "9007199254740992";

describe("bodies", () => {
  const bad: [string, string, string][] = [
    ["malformed JSON", '{"image": "disk",', "EINVAL"],
    ["an array", '["disk"]', "EINVAL"],
    ["null", "null", "EINVAL"],
    ["a string for a number", '{"image":"disk","offset":"512"}', "EINVAL"],
    ["a number for a flag", '{"image":"disk","readOnly":1}', "EINVAL"],
    ["a negative offset", '{"image":"disk","offset":-512}', "EINVAL"],
    ["a fractional offset", '{"image":"disk","offset":512.5}', "EINVAL"],
    ["an offset over 2^53-1", `{"image":"disk","offset":${U53_OVER}}`, "EOVERFLOW"],
    ["a sizelimit of 1e400", '{"image":"disk","sizelimit":1e400}', "EOVERFLOW"],
    ["an unknown field", '{"image":"disk","direct":true}', "EINVAL"],
    ["a field named like an Object method", '{"image":"disk","constructor":"x"}', "EINVAL"],
    ["a field named __proto__", '{"image":"disk","__proto__":"x"}', "EINVAL"],
    ["block size 3000", '{"image":"disk","blockSize":3000}', "EINVAL"],
    ["leaseSeconds 0", '{"image":"disk","autoclear":true,"leaseSeconds":0}', "EINVAL"],
    ["leaseSeconds 86401", '{"image":"disk","leaseSeconds":86401}', "EINVAL"],
    ["no image", '{"offset":0}', "EINVAL"],
    ["a bad image name", '{"image":"../disk"}', "EINVAL"],
  ];
  for (const [what, body, errno] of bad) {
    it(`refuses an attach with ${what} (${errno}) and changes nothing`, async () => {
      const { t } = await setUp();
      const before = await snapshot(t);
      const res = await t.call("/devices/loop2/backing", { method: "PUT", body });
      await expectProblem(res, errno, 400);
      expect(await snapshot(t)).toEqual(before);
    });
  }

  it("refuses a status patch with an unknown field, a bad capacity or a bad block size", async () => {
    const { t, dev } = await setUp();
    const before = await snapshot(t);
    for (const json of [
      { readOnly: true },
      { image: "disk" },
      { capacity: "grow" },
      { blockSize: 3000 },
      { offset: 0, bogus: 1 },
      { sizelimit: -1 },
    ]) {
      const res = await t.call(`/devices/${dev}/status`, { method: "PATCH", json });
      await expectProblem(res, "EINVAL", 400);
    }
    expect(await snapshot(t)).toEqual(before);
  });

  it("refuses a remount above 2^53-1 with EOVERFLOW and keeps max", async () => {
    const { t } = await setUp();
    const res = await api(`/${t.name}`, OPERATOR, { method: "PATCH", body: `{"max":${U53_OVER}}` });
    await expectProblem(res, "EOVERFLOW", 400);
    expect(((await (await t.call("")).json()) as { max: number }).max).toBe(4);
  });
});

describe("operator bodies", () => {
  it("refuses a mount with a bad max, and mounts nothing", async () => {
    const name = `err${Date.now().toString(36)}`;
    for (const [body, errno] of [
      ['{"max":1048577}', "EINVAL"],
      ['{"max":-1}', "EINVAL"],
      ['{"max":"8"}', "EINVAL"],
      [`{"max":${U53_OVER}}`, "EOVERFLOW"],
      ['{"max":8,"owner":"x"}', "EINVAL"],
      [`{"pad":"${"x".repeat(70_000)}"}`, "EINVAL"],
    ]) {
      await expectProblem(await api(`/${name}`, OPERATOR, { method: "PUT", body }), errno, 400);
    }
    await expectProblem(await api(`/${name}`, OPERATOR), "ENOENT", 404);
  });
});

describe("device names", () => {
  for (const name of ["loop", "loop-1", "loop01", "loop99999999", "loop1048576", "LOOP1", "sda"]) {
    it(`refuses the device name "${name}" with EINVAL on every route`, async () => {
      const { t } = await setUp();
      const before = await snapshot(t);
      const attempts: [string, RequestInit & { json?: unknown }][] = [
        [`/devices/${name}`, {}],
        [`/devices/${name}/status`, {}],
        [`/devices/${name}/backing`, { method: "PUT", json: { image: "disk" } }],
        [`/devices/${name}/backing`, { method: "DELETE" }],
        [`/devices/${name}`, { method: "DELETE" }],
      ];
      for (const [path, init] of attempts) {
        await expectProblem(await t.call(path, init), "EINVAL", 400);
      }
      expect(await snapshot(t)).toEqual(before);
    });
  }
});

describe("unbound and unknown devices", () => {
  it("answers the status of an unbound device with image null", async () => {
    const { t } = await setUp();
    const res = await t.call("/devices/loop2/status");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: "loop2", number: 2, image: null, size: 0 });
  });

  it("refuses to read, write or discard an unbound device with ENXIO (409)", async () => {
    const { t } = await setUp();
    await expectProblem(await t.call("/devices/loop2"), "ENXIO", 409);
    const write = await t.call("/devices/loop2", {
      method: "PUT",
      headers: { "Content-Range": "bytes 0-3/*" },
      body: new Uint8Array(4),
    });
    await expectProblem(write, "ENXIO", 409);
    const discard = await t.call("/devices/loop2/discard", {
      method: "POST",
      json: { offset: 0, length: 512 },
    });
    await expectProblem(discard, "ENXIO", 409);
    const patch = await t.call("/devices/loop2/status", { method: "PATCH", json: { offset: 0 } });
    await expectProblem(patch, "ENXIO", 409);
  });

  it("refuses every route of an unknown device with ENODEV (404)", async () => {
    const { t } = await setUp();
    const before = await snapshot(t);
    for (const [path, init] of [
      ["/devices/loop3", {}],
      ["/devices/loop3/status", {}],
      ["/devices/loop3/backing", { method: "PUT", json: { image: "disk" } }],
      ["/devices/loop3/backing", { method: "DELETE" }],
      ["/devices/loop3", { method: "DELETE" }],
    ] as [string, RequestInit & { json?: unknown }][]) {
      await expectProblem(await t.call(path, init), "ENODEV", 404);
    }
    expect(await snapshot(t)).toEqual(before);
  });

  it("refuses to attach an unknown image with ENOENT and leaves the device unbound", async () => {
    const { t } = await setUp();
    const before = await snapshot(t);
    const res = await t.call("/devices/loop2/backing", { method: "PUT", json: { image: "nope" } });
    await expectProblem(res, "ENOENT", 404);
    expect(await snapshot(t)).toEqual(before);
    expect(
      ((await (await t.call("/devices/loop2/status")).json()) as Problem & { image: null }).image,
    ).toBeNull();
  });
});

describe("ranges", () => {
  it("refuses a write past the device's end whole with ERANGE (416) and Content-Range", async () => {
    const { t, dev } = await setUp();
    const res = await t.call(`/devices/${dev}`, {
      method: "PUT",
      headers: { "Content-Range": "bytes 7000-7999/*" },
      body: new Uint8Array(1000).fill(9),
    });
    await expectProblem(res, "ERANGE", 416);
    expect(res.headers.get("Content-Range")).toBe("bytes */7680");
    const image = new Uint8Array(await (await t.call("/images/disk")).arrayBuffer());
    expect(image).toEqual(pattern(8192));
  });
});

describe("routes", () => {
  it("answers an unknown route with ENOENT, not a 500", async () => {
    const { t } = await setUp();
    await expectProblem(await t.call("/volumes"), "ENOENT", 404);
    await expectProblem(await t.call("/devices", { method: "POST" }), "ENOENT", 404);
  });
});
