/**
 * Credentials. The operator holds the Worker secret OPERATOR_TOKEN; each tenant holds the token
 * shown once at mount. Both come as `Authorization: Bearer TOKEN`, or as HTTP Basic
 * (`tenant:TOKEN`, any user name for the operator) for clients that speak only Basic.
 */
import type { Env } from "../env";
import { LoopError } from "../errors";
import type { Caller } from "../tenant/types";
import { hashToken, sameSecret } from "../tokens";

export interface Presented {
  token: string;
  /** The user name of Basic credentials, when they came that way. */
  user: string | null;
}

export function presentedCredentials(header: string | undefined): Presented | null {
  if (!header) return null;
  const parts = header.trim().split(/\s+/);
  if (parts.length !== 2) return null; // "Bearer TOKEN" exactly: nothing dropped silently
  const [scheme, value] = parts;
  if (/^bearer$/i.test(scheme) && value) return { token: value, user: null };
  if (/^basic$/i.test(scheme)) {
    let decoded: string;
    try {
      decoded = atob(value);
    } catch {
      return null;
    }
    const colon = decoded.indexOf(":");
    if (colon < 0) return null;
    return { token: decoded.slice(colon + 1), user: decoded.slice(0, colon) };
  }
  return null;
}

export function isOperator(env: Env, presented: Presented | null): boolean {
  const secret = env.OPERATOR_TOKEN;
  return Boolean(secret && presented && sameSecret(presented.token, secret));
}

export function unauthenticated(): LoopError {
  return new LoopError("EUNAUTH", "missing or bad credentials");
}

/**
 * The caller of a tenant route: the operator, or a tenant token whose hash the tenant's Durable
 * Object will check. Basic credentials must name the tenant they are sent to.
 */
export async function tenantCaller(
  env: Env,
  header: string | undefined,
  tenant: string,
): Promise<Caller> {
  const presented = presentedCredentials(header);
  if (!presented) throw unauthenticated();
  if (isOperator(env, presented)) return { kind: "operator" };
  if (presented.user !== null && presented.user !== tenant) throw unauthenticated();
  return { kind: "tenant", tokenHash: await hashToken(presented.token) };
}
