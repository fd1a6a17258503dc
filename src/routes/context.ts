/** What tenant routes share: the tenant's name, its Durable Object, and who is calling. */
import type { Context } from "hono";
import type { Env } from "../env";
import { LoopError } from "../errors";
import { isOperator, presentedCredentials, tenantCaller, unauthenticated } from "../http/auth";
import { parseDevice, parseTenant } from "../http/names";
import { tenantClient, type TenantClient } from "../tenant/client";
import type { Caller } from "../tenant/types";
import { hashToken } from "../tokens";

export type AppEnv = {
  Bindings: Env;
  /** Set by routes that stream a body: resolves to the bytes sent, for the request log. */
  Variables: { sent?: Promise<number> };
};
export type AppContext = Context<AppEnv>;

export function tenantName(c: AppContext): string {
  return parseTenant(c.req.param("tenant") ?? "");
}

export function tenantStub(c: AppContext, tenant = tenantName(c)): TenantClient {
  return tenantClient(c.env.TENANTS.get(c.env.TENANTS.idFromName(tenant)));
}

/** A tenant route: the tenant, its object, and the caller (tenant token or operator). */
export async function tenantRoute(c: AppContext) {
  const tenant = tenantName(c);
  const caller: Caller = await tenantCaller(c.env, c.req.header("Authorization"), tenant);
  return { tenant, stub: tenantStub(c, tenant), caller };
}

/**
 * An operator route. A valid tenant token is refused with EPERM (it is a credential, just not
 * a privileged one); anything else is a 401.
 */
export async function operatorRoute(c: AppContext) {
  const tenant = tenantName(c);
  const stub = tenantStub(c, tenant);
  const presented = presentedCredentials(c.req.header("Authorization"));
  if (!presented) throw unauthenticated();
  if (!isOperator(c.env, presented)) {
    if (await stub.isTenantToken(await hashToken(presented.token))) {
      throw new LoopError("EPERM", "only the operator may do this");
    }
    throw unauthenticated();
  }
  return { tenant, stub };
}

export function deviceParam(c: AppContext) {
  return parseDevice(c.req.param("dev") ?? "");
}

/** The device of a route that does not accept partitions (`loopNpM`). */
export function wholeDevice(c: AppContext): number {
  const device = deviceParam(c);
  if (device.partition !== null) {
    throw new LoopError("EINVAL", "this operation applies to a whole device, not a partition");
  }
  return device.number;
}
