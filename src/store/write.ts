/**
 * The write path. The tenant object says where a byte range lands and which chunks it covers
 * only in part; this reads those chunks, patches them, stores every non-zero chunk as a new
 * object, and commits all of them in one call. The commit is compare-and-swap on the chunks
 * that were patched: when another writer got there first, those chunks are re-read, re-patched
 * and stored again, so concurrent writers to one chunk never lose an update.
 */
import type { Env } from "../env";
import { LoopError } from "../errors";
import type { TenantObject } from "../tenant/object";
import type { Caller, ChunkUpdate, Target } from "../tenant/types";
import { BodyReader } from "./body-reader";
import { core, loadChunk } from "./chunks";
import { ChunkUploads } from "./uploads";

/** Commit attempts before a write gives up on a chunk that other writers keep changing. */
export const MAX_COMMIT_ATTEMPTS = 100;

export interface WriteRequest {
  env: Env;
  stub: DurableObjectStub<TenantObject>;
  caller: Caller;
  target: Target;
  start: number;
  length: number;
  /** The bytes to write; null writes zeros (discard). */
  body: ReadableStream<Uint8Array> | null;
}

/** A chunk the write covers in part: what it puts where, kept for a retry after a conflict. */
interface Patch {
  update: ChunkUpdate;
  at: number;
  bytes: Uint8Array | null;
  length: number;
}

export async function writeRange(request: WriteRequest): Promise<void> {
  const { env, stub, caller } = request;
  const plan = await stub.beginWrite(caller, request.target, request.start, request.length);
  const cs = plan.chunkSize;
  const uploads = new ChunkUploads(stub, caller, env.CHUNKS, plan.prefix, plan.reservation);
  const reader = request.body ? new BodyReader(request.body) : null;
  const bases = new Map(
    plan.partial.map((p) => {
      const base = loadChunk(env.CHUNKS, plan.prefix, p.chunkId, cs);
      base.catch(() => {});
      return [p.chunkIndex, { expect: p.chunkId, base }] as const;
    }),
  );
  const updates: ChunkUpdate[] = [];
  const patches: Patch[] = [];

  const storeOrHole = async (bytes: Uint8Array, update: ChunkUpdate) => {
    if (core().isZero(bytes)) return;
    Object.assign(update, await uploads.store(bytes));
  };

  try {
    const imageEnd = plan.imageStart + request.length;
    for (let index = Math.floor(plan.imageStart / cs); index * cs < imageEnd; index++) {
      const chunkStart = index * cs;
      const at = Math.max(plan.imageStart, chunkStart) - chunkStart;
      const length = Math.min(imageEnd, chunkStart + cs) - chunkStart - at;
      const piece = reader ? await reader.readExact(length, request.length) : null;
      const partial = bases.get(index);
      const update: ChunkUpdate = {
        chunkIndex: index,
        expectChunkId: partial ? partial.expect : null,
        chunkId: 0,
        sha256: null,
      };
      updates.push(update);
      if (partial) {
        const chunk = new Uint8Array(await partial.base);
        chunk.fill(0, at, at + length);
        if (piece) chunk.set(piece, at);
        patches.push({ update, at, bytes: piece, length });
        await storeOrHole(chunk, update);
      } else if (piece) {
        const chunk = piece.byteLength === cs ? piece : new Uint8Array(cs);
        if (chunk !== piece) chunk.set(piece, at);
        await storeOrHole(chunk, update);
      }
    }
    if (reader) await reader.expectEnd(request.length);
    await uploads.settle();
    await commit(request, plan.imageId, cs, plan.prefix, updates, patches, uploads);
  } catch (err) {
    await reader?.cancel();
    await uploads.abandon();
    throw err;
  }
}

async function commit(
  request: WriteRequest,
  imageId: number,
  chunkSize: number,
  prefix: string,
  updates: ChunkUpdate[],
  patches: Patch[],
  uploads: ChunkUploads,
): Promise<void> {
  const { env, stub, caller } = request;
  for (let attempt = 1; ; attempt++) {
    const referenced = new Set(updates.map((u) => u.chunkId));
    const discarded = uploads.uploaded.filter((id) => !referenced.has(id));
    const answer = await stub.commitWrite(
      caller,
      imageId,
      updates,
      uploads.reservations,
      discarded,
    );
    if (answer.ok) return;
    if (attempt >= MAX_COMMIT_ATTEMPTS) {
      throw new LoopError("EAGAIN", "other writers kept changing the same chunks; try again");
    }
    for (const conflict of answer.conflicts) {
      const patch = patches.find((p) => p.update.chunkIndex === conflict.chunkIndex);
      if (!patch) throw new LoopError("EIO", `unexpected conflict on chunk ${conflict.chunkIndex}`);
      const chunk = await loadChunk(env.CHUNKS, prefix, conflict.chunkId, chunkSize);
      chunk.fill(0, patch.at, patch.at + patch.length);
      if (patch.bytes) chunk.set(patch.bytes, patch.at);
      Object.assign(patch.update, { expectChunkId: conflict.chunkId, chunkId: 0, sha256: null });
      if (!core().isZero(chunk)) Object.assign(patch.update, await uploads.store(chunk));
    }
    await uploads.settle();
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(attempt, 20)));
  }
}
