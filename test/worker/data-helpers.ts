/** Fixtures of the data-path tests: partial writes, chunk objects in R2, garbage collection. */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import type { Env } from "../../src/env";
import { api, mountTenant, OPERATOR, type Tenant } from "./helpers";

export const bindings = env as unknown as Env;

/** Requests go straight to the Worker's handler (see helpers.ts). */
export const direct = api;
export const mount = mountTenant;

/** A partial PUT of `bytes` at `start` of a device or image path. */
export function putRange(
  tenant: Tenant,
  path: string,
  start: number,
  bytes: Uint8Array | ReadableStream<Uint8Array>,
  length = bytes instanceof Uint8Array ? bytes.length : 0,
): Promise<Response> {
  return tenant.call(path, {
    method: "PUT",
    headers: { "Content-Range": `bytes ${start}-${start + length - 1}/*` },
    body: bytes,
  });
}

/** Keys of every chunk object the tenant has in R2. */
export async function chunkKeys(tenant: Tenant): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bindings.CHUNKS.list({ prefix: `${tenant.name}/`, cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys;
}

/** Runs a garbage collection sweep now; answers how many objects it deleted. */
export async function sweep(tenant: Tenant): Promise<number> {
  const res = await direct(`/${tenant.name}/gc`, OPERATOR, { method: "POST" });
  if (res.status !== 200) throw new Error(`gc failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { deletedChunks: number }).deletedChunks;
}

export interface ImageListing {
  name: string;
  size: number;
  chunkSize: number;
  storedBytes: number;
}

export async function imageList(tenant: Tenant): Promise<ImageListing[]> {
  const res = await tenant.call("/images");
  return ((await res.json()) as { images: ImageListing[] }).images;
}

/** Creates a sparse image with POST images. */
export async function createImage(
  tenant: Tenant,
  name: string,
  size: number,
  chunkSize = 4096,
): Promise<void> {
  const res = await tenant.call("/images", { method: "POST", json: { name, size, chunkSize } });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
}

/** A body that delivers `pieces` one by one, then fails instead of ending. */
export function failingBody(pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next < pieces.length) controller.enqueue(pieces[next++]);
      else controller.error(new Error("the client went away"));
    },
  });
}

/** Problem JSON of a failed request. */
export async function problem(res: Response): Promise<{ errno: string; status: number }> {
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  return (await res.json()) as { errno: string; status: number };
}

/** Splits a multipart/byteranges body into its parts' Content-Range and bytes. */
export function parseByteranges(
  body: Uint8Array,
  contentType: string,
): { range: string; bytes: Uint8Array }[] {
  const boundary = /boundary=([^;]+)/.exec(contentType)![1];
  const text = new TextDecoder("latin1").decode(body);
  const parts: { range: string; bytes: Uint8Array }[] = [];
  let at = text.indexOf(`--${boundary}\r\n`);
  while (at >= 0) {
    const headEnd = text.indexOf("\r\n\r\n", at);
    const range = /Content-Range: (.*)\r\n/.exec(text.slice(at, headEnd + 2))![1];
    const [, first, last] = /bytes (\d+)-(\d+)\//.exec(range)!.map(Number);
    const start = headEnd + 4;
    parts.push({ range, bytes: body.slice(start, start + last - first + 1) });
    const next = start + last - first + 1;
    expect(text.slice(next, next + 4 + boundary.length)).toBe(`\r\n--${boundary}`);
    at = text.startsWith("--", next + 4 + boundary.length) ? -1 : next + 2;
  }
  return parts;
}

/** The stub of a tenant's Durable Object, for looking into its tables. */
export function tenantStub(tenant: Tenant) {
  return bindings.TENANTS.get(bindings.TENANTS.idFromName(tenant.name));
}

/**
 * Asserts two byte arrays are equal; fast on megabytes, where toEqual walks element by element
 * for seconds. Reports the length and the first differing offset.
 */
export function expectBytes(actual: Uint8Array, expected: Uint8Array, label = "bytes"): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  let first = -1;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      first = i;
      break;
    }
  }
  expect(first, `${label}: first differing offset`).toBe(-1);
}
