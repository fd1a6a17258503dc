/**
 * Chunk objects in R2. Each stored chunk is one object of exactly the image's chunk size (the
 * tail of an image is padded with zeros), keyed `{tenant}/{mount}/{chunkId}`, so a tenant's data
 * can be listed, counted and removed by prefix. Objects are never overwritten: a write makes a
 * new chunk id, which also keeps R2 within its one-write-per-second-per-key limit.
 */
import coreModule from "../../build/core.wasm";
import { Core } from "../core";
import { LoopError } from "../errors";
import { hex } from "../tokens";

/** The Worker needs the core only for zero detection; a small page cache is plenty. */
const WORKER_CACHE_BYTES = 1 << 20;

let workerCore: Core | null = null;

/** The per-isolate core instance of the Worker. */
export function core(): Core {
  workerCore ??= Core.instantiate(coreModule, { cacheBytes: WORKER_CACHE_BYTES });
  return workerCore;
}

export function chunkKey(prefix: string, chunkId: number): string {
  return prefix + chunkId;
}

export async function sha256(bytes: Uint8Array): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

/** Reads `length` bytes at `offset` of a stored chunk. */
export async function readChunk(
  bucket: R2Bucket,
  prefix: string,
  chunkId: number,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  const object = await bucket.get(chunkKey(prefix, chunkId), { range: { offset, length } });
  if (!object) throw new LoopError("EIO", `chunk object ${chunkId} is missing`);
  const bytes = new Uint8Array(await object.arrayBuffer());
  if (bytes.byteLength !== length) {
    throw new LoopError("EIO", `chunk object ${chunkId} is ${bytes.byteLength} bytes short`);
  }
  return bytes;
}

/** The whole content of a chunk: zeros for a hole. */
export async function loadChunk(
  bucket: R2Bucket,
  prefix: string,
  chunkId: number,
  chunkSize: number,
): Promise<Uint8Array> {
  if (chunkId === 0) return new Uint8Array(chunkSize);
  return readChunk(bucket, prefix, chunkId, 0, chunkSize);
}

/** Stores a chunk under a fresh id; R2 checks the SHA-256 on arrival. */
export async function storeChunk(
  bucket: R2Bucket,
  prefix: string,
  chunkId: number,
  bytes: Uint8Array,
  digest: string,
): Promise<void> {
  await bucket.put(chunkKey(prefix, chunkId), bytes, { sha256: digest });
}
