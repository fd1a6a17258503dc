/**
 * Shared fixtures of the Worker tests: requests as the operator or a tenant, fresh instances.
 *
 * Requests go straight to the Worker's fetch handler rather than through SELF: in this pool each
 * SELF.fetch costs more than the one before (6 ms growing to over 1 s within 500 requests), which
 * tests of hundreds of requests cannot afford. The handler, its bindings and the Durable Object
 * are the same either way.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import type { Env } from "../../src/env";
import worker from "../../src/index";

export const OPERATOR = "test-operator-token";
export const BASE = "http://loopfs.test/v1/tenants";

let counter = 0;

export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

export async function api(
  path: string,
  token: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${token}`);
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers.set("Content-Type", "application/json");
  }
  const ctx = createExecutionContext();
  const request = new Request(`${BASE}${path}`, { ...init, headers, body });
  const res = await worker.fetch(request, env as unknown as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

export interface Tenant {
  name: string;
  token: string;
  /** A request on this tenant's routes with its token. */
  call(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
}

export async function mountTenant(max = 16): Promise<Tenant> {
  const name = `t${Date.now().toString(36)}-${counter++}`;
  const res = await api(`/${name}`, OPERATOR, { method: "PUT", json: { max } });
  if (res.status !== 201) throw new Error(`mount failed: ${res.status} ${await res.text()}`);
  const { token } = (await res.json()) as { token: string };
  return {
    name,
    token,
    call: (path, init) => api(`/${name}${path}`, token, init),
  };
}

/** Deterministic bytes, different at every position and for every seed. */
export function pattern(length: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = (x >>> 16) & 0xff;
  }
  return bytes;
}

export async function bytesOf(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

/** Creates an image from bytes with a whole upload. */
export async function putImage(
  tenant: Tenant,
  name: string,
  bytes: Uint8Array,
  chunkSize = 4096,
): Promise<Response> {
  return tenant.call(`/images/${name}?chunkSize=${chunkSize}`, {
    method: "PUT",
    // A client on the network sends it by itself; a Request built in the test must say it.
    headers: { "Content-Length": String(bytes.byteLength) },
    body: bytes,
  });
}

/** Attaches an image to a fresh device and answers the device name. */
export async function attach(
  tenant: Tenant,
  image: string,
  options: Record<string, unknown> = {},
): Promise<string> {
  const free = await tenant.call("/loop-control", { method: "POST", json: { op: "get-free" } });
  const { device } = (await free.json()) as { device: string };
  const res = await tenant.call(`/devices/${device}/backing`, {
    method: "PUT",
    json: { image, ...options },
  });
  if (res.status !== 200) throw new Error(`attach failed: ${res.status} ${await res.text()}`);
  return device;
}
