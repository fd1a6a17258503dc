/**
 * The losetup side of loopfs: find, attach, detach, list, status and capacity, plus the
 * loop-control operations that add and remove device nodes.
 *
 * @typedef {object} Context
 * @property {ReturnType<typeof import("./client.js").createClient>} client
 * @property {Record<string, string | boolean | undefined>} values
 * @property {string[]} operands
 * @property {NodeJS.WritableStream & { isTTY?: boolean }} stdout
 * @property {NodeJS.WritableStream & { isTTY?: boolean }} stderr
 * @property {() => () => boolean} [trapInterrupt]  takes over Ctrl-C; the answer tells if it came
 */

import { parseDeviceName, parseDeviceNumber } from "./args.js";
import { CliError, exitCodeFor, formatError, usageError } from "./errors.js";
import { parseCount, parseSize } from "./sizes.js";
import { formatTable } from "./table.js";

/** How often --find asks for another free device when someone else took the last one. */
const FIND_ATTEMPTS = 3;

/**
 * The body of PUT .../backing from losetup's options.
 * @param {Record<string, string | boolean | undefined>} values
 * @param {string} image
 */
export function backingRequest(values, image) {
  if (values.lease !== undefined && !values.autoclear) {
    throw usageError("--lease applies only with --autoclear");
  }
  const body = {
    image,
    offset: values.offset === undefined ? 0 : parseSize(values.offset, "offset"),
    sizelimit: values.sizelimit === undefined ? 0 : parseSize(values.sizelimit, "sizelimit"),
    readOnly: Boolean(values["read-only"]),
    autoclear: Boolean(values.autoclear),
    partscan: Boolean(values.partscan),
    blockSize: values["sector-size"] === undefined ? 0 : parseSize(values["sector-size"]),
  };
  if (values.lease !== undefined) body.leaseSeconds = parseCount(values.lease, "lease");
  return body;
}

/**
 * The body of PATCH .../status from set-status's options; only what was given.
 * @param {Record<string, string | boolean | undefined>} values
 */
export function statusChange(values) {
  if (values.autoclear && values["no-autoclear"]) {
    throw usageError("--autoclear and --no-autoclear cannot be used together");
  }
  const change = {};
  if (values.offset !== undefined) change.offset = parseSize(values.offset, "offset");
  if (values.sizelimit !== undefined) change.sizelimit = parseSize(values.sizelimit, "sizelimit");
  if (values.autoclear) change.autoclear = true;
  if (values["no-autoclear"]) change.autoclear = false;
  if (values.lease !== undefined) change.leaseSeconds = parseCount(values.lease, "lease");
  if (values.partscan) change.partscan = true;
  if (values["sector-size"] !== undefined) change.blockSize = parseSize(values["sector-size"]);
  if (Object.keys(change).length === 0) throw usageError("set-status: nothing to change");
  return change;
}

/** @param {Context} ctx @param {string} device */
function putBacking(ctx, device, body) {
  return ctx.client.call("PUT", ctx.client.tenantPath("devices", device, "backing"), {
    json: body,
  });
}

/** @param {Context} ctx */
async function getFree(ctx) {
  const path = ctx.client.tenantPath("loop-control");
  const answer = await ctx.client.call("POST", path, { json: { op: "get-free" } });
  return /** @type {{ device: string }} */ (answer).device;
}

/** `loopfs --find [--show] [IMAGE]`: without IMAGE only prints the first free device. */
export async function find(ctx) {
  const image = ctx.operands[0];
  if (image === undefined) {
    ctx.stdout.write(`${await getFree(ctx)}\n`);
    return 0;
  }
  const body = backingRequest(ctx.values, image);
  for (let attempt = 1; ; attempt++) {
    const device = await getFree(ctx);
    try {
      await putBacking(ctx, device, body);
    } catch (err) {
      // Another client bound the device between get-free and attach: ask again.
      if (err instanceof CliError && err.errno === "EBUSY" && attempt < FIND_ATTEMPTS) continue;
      throw err;
    }
    if (ctx.values.show) ctx.stdout.write(`${device}\n`);
    return 0;
  }
}

/** `loopfs [options] loopN IMAGE`: attaches a given device, adding its node if missing. */
export async function attach(ctx) {
  const device = parseDeviceName(ctx.operands[0]);
  const body = backingRequest(ctx.values, ctx.operands[1]);
  try {
    await putBacking(ctx, device, body);
  } catch (err) {
    if (!(err instanceof CliError) || err.errno !== "ENODEV") throw err;
    await addNode(ctx, parseDeviceNumber(device));
    await putBacking(ctx, device, body);
  }
  if (ctx.values.show) ctx.stdout.write(`${device}\n`);
  return 0;
}

/** @param {Context} ctx @param {number} number */
async function addNode(ctx, number) {
  const path = ctx.client.tenantPath("loop-control");
  const answer = await ctx.client.call("POST", path, { json: { op: "add", number } });
  return /** @type {{ device: string }} */ (answer).device;
}

/**
 * Detaches each device; a failure is reported and the others are still detached, and the exit
 * code is that of the first failure.
 * @param {Context} ctx
 * @param {string[]} devices
 */
async function detachEach(ctx, devices) {
  let code = 0;
  for (const device of devices) {
    try {
      const path = ctx.client.tenantPath("devices", device, "backing");
      await ctx.client.call("DELETE", path, { expect: "none" });
    } catch (err) {
      ctx.stderr.write(`${formatError(err)}\n`);
      code ||= exitCodeFor(err);
    }
  }
  return code;
}

/** `loopfs --detach loopN...` */
export async function detach(ctx) {
  return detachEach(ctx, ctx.operands.map(parseDeviceName));
}

/** `loopfs --detach-all` */
export async function detachAll(ctx) {
  const { loopdevices } = await getDevices(ctx);
  const bound = loopdevices.filter((d) => d["back-file"]).map((d) => d.name);
  return detachEach(ctx, bound);
}

/** @param {Context} ctx @returns {Promise<{ loopdevices: any[] }>} */
async function getDevices(ctx) {
  const answer = await ctx.client.call("GET", ctx.client.tenantPath("devices"));
  return { ...answer, loopdevices: answer?.loopdevices ?? [] };
}

/** losetup --list's default columns. */
const LIST_COLUMNS = [
  { header: "NAME", value: (d) => d.name },
  { header: "SIZELIMIT", value: (d) => d.sizelimit, right: true },
  { header: "OFFSET", value: (d) => d.offset, right: true },
  { header: "AUTOCLEAR", value: (d) => d.autoclear, right: true },
  { header: "RO", value: (d) => d.ro, right: true },
  { header: "BACK-FILE", value: (d) => d["back-file"] },
  { header: "DIO", value: (d) => d.dio, right: true },
  { header: "LOG-SEC", value: (d) => d["log-sec"], right: true },
];

/** `loopfs --list [--json]` */
export async function list(ctx) {
  const answer = await getDevices(ctx);
  if (ctx.values.json) ctx.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  else if (answer.loopdevices.length > 0) {
    ctx.stdout.write(formatTable(LIST_COLUMNS, answer.loopdevices));
  }
  return 0;
}

/** @param {Context} ctx @param {string} device */
export function getStatus(ctx, device) {
  return ctx.client.call("GET", ctx.client.tenantPath("devices", device, "status"));
}

/** @param {Context} ctx @param {string} device */
function patchStatus(ctx, device, change) {
  const path = ctx.client.tenantPath("devices", device, "status");
  return ctx.client.call("PATCH", path, { json: change, retry: true });
}

/** `loopfs --set-capacity loopN` */
export async function setCapacity(ctx) {
  if (ctx.operands.length !== 1) throw usageError("--set-capacity needs exactly one device");
  await patchStatus(ctx, parseDeviceName(ctx.operands[0]), { capacity: "refresh" });
  return 0;
}

/**
 * `loopfs loopN`: one line in losetup's manner, `loop0: (disk.img), offset 1024`.
 * @param {Context} ctx
 */
export async function show(ctx) {
  const device = parseDeviceName(ctx.operands[0]);
  const status = await getStatus(ctx, device);
  if (!status.image) throw new CliError("ENXIO", `${device}: not bound to an image`);
  let line = `${device}: (${status.image})`;
  if (status.offset) line += `, offset ${status.offset}`;
  if (status.sizelimit) line += `, sizelimit ${status.sizelimit}`;
  ctx.stdout.write(`${line}\n`);
  return 0;
}

/** `loopfs status loopN`: the status as JSON. */
export async function status(ctx) {
  const answer = await getStatus(ctx, parseDeviceName(ctx.operands[0]));
  ctx.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  return 0;
}

/** `loopfs set-status loopN [--offset N] [--sizelimit N] [--autoclear] ...` */
export async function setStatus(ctx) {
  const device = parseDeviceName(ctx.operands[0]);
  const answer = await patchStatus(ctx, device, statusChange(ctx.values));
  ctx.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  return 0;
}

/** `loopfs device add N`: LOOP_CTL_ADD. */
export async function deviceAdd(ctx) {
  ctx.stdout.write(`${await addNode(ctx, parseDeviceNumber(ctx.operands[0]))}\n`);
  return 0;
}

/** `loopfs device remove N`: LOOP_CTL_REMOVE. */
export async function deviceRemove(ctx) {
  const number = parseDeviceNumber(ctx.operands[0]);
  const path = ctx.client.tenantPath("loop-control");
  const answer = await ctx.client.call("POST", path, { json: { op: "remove", number } });
  ctx.stdout.write(`${answer?.device ?? `loop${number}`}\n`);
  return 0;
}

/** `loopfs device rm loopN`: removes the device node (EBUSY while bound). */
export async function deviceRm(ctx) {
  const device = parseDeviceName(ctx.operands[0]);
  await ctx.client.call("DELETE", ctx.client.tenantPath("devices", device), { expect: "none" });
  return 0;
}
