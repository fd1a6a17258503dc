/** Instances: mount, remount, usage, unmount, and an operator's garbage collection. */
import { Hono } from "hono";
import { readBody } from "../http/body";
import { operatorRoute, tenantRoute, type AppEnv } from "./context";
import { LoopError } from "../errors";

/** `max` of an instance mounted without one. */
export const DEFAULT_MAX = 256;
/** The largest `max`: every device number the kernel's loop minor space allows. */
export const MAX_MAX = 1 << 20;

function checkMax(max: number): number {
  if (max > MAX_MAX) throw new LoopError("EINVAL", `max is at most ${MAX_MAX}`);
  return max;
}

export const tenants = new Hono<AppEnv>();

tenants.put("/", async (c) => {
  // A wrong token is a 401; only the tenant's own token, when it is mounted, earns EPERM.
  const { tenant, stub } = await operatorRoute(c);
  const body = await readBody(c.req.raw, { max: { type: "u53" } });
  const answer = await stub.mount(tenant, checkMax(body.max ?? DEFAULT_MAX));
  return c.json(answer, 201);
});

tenants.patch("/", async (c) => {
  const { stub } = await operatorRoute(c);
  const body = await readBody(c.req.raw, { max: { type: "u53", required: true } });
  return c.json(await stub.remount(checkMax(body.max!)));
});

tenants.get("/", async (c) => {
  const { stub, caller } = await tenantRoute(c);
  return c.json(await stub.usage(caller));
});

tenants.delete("/", async (c) => {
  const { stub } = await operatorRoute(c);
  return c.json(await stub.unmount());
});

tenants.post("/gc", async (c) => {
  const { stub } = await operatorRoute(c);
  return c.json({ deletedChunks: await stub.collect() });
});

tenants.post("/loop-control", async (c) => {
  const { stub, caller } = await tenantRoute(c);
  const body = await readBody(c.req.raw, {
    op: { type: "string", required: true, oneOf: ["get-free", "add", "remove"] },
    number: { type: "u53" },
  });
  const op = body.op as "get-free" | "add" | "remove";
  if (op === "get-free" && body.number !== undefined) {
    throw new LoopError("EINVAL", '"get-free" takes no "number"');
  }
  if (body.number !== undefined && body.number > (1 << 20) - 1) {
    throw new LoopError("EINVAL", "device numbers run 0..1048575");
  }
  const answer = await stub.loopControl(caller, op, body.number);
  const status = op === "add" ? 201 : 200;
  return c.json({ device: `loop${answer.number}`, number: answer.number }, status);
});
