import { Hono } from "hono";
import { DurableObject } from "cloudflare:workers";
import coreModule from "../build/core.wasm";

export class TenantObject extends DurableObject {
  async ping(): Promise<number> {
    const inst = new WebAssembly.Instance(coreModule, {});
    return (inst.exports.add as (a: number, b: number) => number)(2, 3);
  }
}

const app = new Hono<{ Bindings: { TENANTS: DurableObjectNamespace<TenantObject> } }>();
app.get("/ping", async (c) => {
  const stub = c.env.TENANTS.get(c.env.TENANTS.idFromName("x"));
  return c.json({ v: await stub.ping() });
});
export default app;
