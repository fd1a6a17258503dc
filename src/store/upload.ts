/**
 * Whole-image upload: the body streams in, is cut into chunks, non-zero chunks are stored, and
 * one commit at the end makes the image visible under its name. An upload that fails or is cut
 * off leaves no visible image; its chunks are handed back for deletion at once, or swept when
 * its reservation expires if the Worker itself went away.
 */
import type { Env } from "../env";
import { LoopError } from "../errors";
import type { TenantObject } from "../tenant/object";
import type { Caller, ChunkUpdate, ImageRecord } from "../tenant/types";
import { BodyReader } from "./body-reader";
import { core } from "./chunks";
import { ChunkUploads } from "./uploads";

export interface UploadRequest {
  env: Env;
  stub: DurableObjectStub<TenantObject>;
  caller: Caller;
  name: string;
  chunkSize: number;
  body: ReadableStream<Uint8Array>;
  /** Content-Length, when the client sent one: the body must match it. */
  declaredLength: number | null;
}

export async function uploadImage(request: UploadRequest): Promise<ImageRecord> {
  const { env, stub, caller } = request;
  const begun = await stub.beginUpload(caller, request.name, request.chunkSize);
  const cs = begun.chunkSize;
  const uploads = new ChunkUploads(stub, caller, env.CHUNKS, begun.prefix, begun.reservation);
  const reader = new BodyReader(request.body);
  const updates: ChunkUpdate[] = [];
  try {
    for (let index = 0; ; index++) {
      const piece = await reader.read(cs);
      if (piece.byteLength === 0) break;
      if (!core().isZero(piece)) {
        const chunk = piece.byteLength === cs ? piece : new Uint8Array(cs);
        if (chunk !== piece) chunk.set(piece);
        const stored = await uploads.store(chunk);
        updates.push({ chunkIndex: index, expectChunkId: null, ...stored });
      }
      if (piece.byteLength < cs) break;
    }
    const size = reader.consumed;
    if (request.declaredLength !== null && size !== request.declaredLength) {
      throw new LoopError(
        "EINVAL",
        `the body ended after ${size} of ${request.declaredLength} announced bytes`,
      );
    }
    await uploads.settle();
    return await stub.commitUpload(caller, begun.imageId, size, updates, uploads.reservations, []);
  } catch (err) {
    await reader.cancel();
    await uploads.abandon();
    await stub.abandonUpload(caller, begun.imageId).catch(() => {});
    throw err;
  }
}
