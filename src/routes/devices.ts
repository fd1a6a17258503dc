/** Loop devices: listing, bytes, discard, backing (attach / detach / change), status, removal. */
import { Hono } from "hono";
import { LoopError } from "../errors";
import { checkU53, readBody } from "../http/body";
import { parseImage } from "../http/names";
import { scanPartitions } from "../store/partition-scan";
import { writeRange } from "../store/write";
import { DEFAULT_LEASE_SECONDS } from "../tenant/devices";
import type { DeviceStatus, Target } from "../tenant/types";
import { acceptWrite, serveBytes } from "./bytes";
import { deviceParam, tenantRoute, wholeDevice, type AppEnv } from "./context";

export const devices = new Hono<AppEnv>();

/** One row of `losetup --list --json`. */
function losetupRow(status: DeviceStatus) {
  return {
    name: status.name,
    sizelimit: status.sizelimit,
    offset: status.offset,
    autoclear: status.autoclear,
    ro: status.readOnly,
    "back-file": status.image,
    dio: false,
    "log-sec": status.blockSize,
    size: status.size,
  };
}

function deviceTarget(c: Parameters<typeof deviceParam>[0]): Target {
  const { number, partition } = deviceParam(c);
  return partition === null ? { device: number } : { device: number, partition };
}

devices.get("/", async (c) => {
  const { stub, caller } = await tenantRoute(c);
  const list = await stub.listDevices(caller);
  return c.json({ loopdevices: list.map(losetupRow) });
});

devices.on(["GET", "HEAD"], "/:dev", (c) => serveBytes(c, deviceTarget(c)));

devices.put("/:dev", (c) => acceptWrite(c, deviceTarget(c)));

devices.post("/:dev/discard", async (c) => {
  const target = deviceTarget(c);
  const { stub, caller } = await tenantRoute(c);
  const body = await readBody(c.req.raw, {
    offset: { type: "u53", required: true },
    length: { type: "u53", required: true },
  });
  const offset = body.offset!;
  const length = body.length!;
  if (length === 0) throw new LoopError("EINVAL", "a discard needs a length above 0");
  checkU53("offset + length", offset + length);
  // Whole chunks become holes in the tenant object, in one call whatever the length; only the
  // partial chunks at the edges (at most two) go through the write path as zeros.
  const whole = await stub.discardChunks(caller, target, offset, length);
  const edges = [
    { start: offset, end: Math.min(offset + length, whole.start) },
    { start: Math.max(offset, whole.end), end: offset + length },
  ].filter(
    (edge) => edge.end > edge.start && !(whole.start <= edge.start && edge.end <= whole.end),
  );
  for (const edge of edges) {
    const length = edge.end - edge.start;
    await writeRange({ env: c.env, stub, caller, target, start: edge.start, length, body: null });
  }
  return c.body(null, 204);
});

devices.put("/:dev/backing", async (c) => {
  const number = wholeDevice(c);
  const { stub, caller } = await tenantRoute(c);
  const body = await readBody(c.req.raw, {
    image: { type: "string", required: true },
    offset: { type: "u53" },
    sizelimit: { type: "u53" },
    readOnly: { type: "bool" },
    autoclear: { type: "bool" },
    leaseSeconds: { type: "u53" },
    partscan: { type: "bool" },
    blockSize: { type: "u53" },
  });
  const status = await stub.attach(caller, number, {
    image: parseImage(body.image!),
    offset: body.offset ?? 0,
    sizelimit: body.sizelimit ?? 0,
    readOnly: body.readOnly ?? false,
    autoclear: body.autoclear ?? false,
    leaseSeconds: body.leaseSeconds ?? DEFAULT_LEASE_SECONDS,
    partscan: body.partscan ?? false,
    blockSize: body.blockSize ?? 512,
  });
  if (status.partscan) return c.json(await scanPartitions({ env: c.env, stub, caller, status }));
  return c.json(status);
});

devices.patch("/:dev/backing", async (c) => {
  const number = wholeDevice(c);
  const { stub, caller } = await tenantRoute(c);
  const body = await readBody(c.req.raw, { image: { type: "string", required: true } });
  const status = await stub.changeBacking(caller, number, parseImage(body.image!));
  if (status.partscan) return c.json(await scanPartitions({ env: c.env, stub, caller, status }));
  return c.json(status);
});

devices.delete("/:dev/backing", async (c) => {
  const number = wholeDevice(c);
  const { stub, caller } = await tenantRoute(c);
  await stub.detach(caller, number);
  return c.body(null, 204);
});

devices.get("/:dev/status", async (c) => {
  const number = wholeDevice(c);
  const { stub, caller } = await tenantRoute(c);
  return c.json(await stub.deviceStatus(caller, number));
});

devices.patch("/:dev/status", async (c) => {
  const number = wholeDevice(c);
  const { stub, caller } = await tenantRoute(c);
  const body = await readBody(c.req.raw, {
    offset: { type: "u53" },
    sizelimit: { type: "u53" },
    autoclear: { type: "bool" },
    leaseSeconds: { type: "u53" },
    partscan: { type: "bool" },
    blockSize: { type: "u53" },
    capacity: { type: "string", oneOf: ["refresh"] },
  });
  const { capacity, ...rest } = body;
  const patch = { ...rest, ...(capacity ? { capacity: "refresh" as const } : {}) };
  const status = await stub.setStatus(caller, number, patch);
  if (status.partscan) return c.json(await scanPartitions({ env: c.env, stub, caller, status }));
  return c.json(status);
});

devices.delete("/:dev", async (c) => {
  const number = wholeDevice(c);
  const { stub, caller } = await tenantRoute(c);
  await stub.removeDevice(caller, number);
  return c.body(null, 204);
});
