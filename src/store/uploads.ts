/**
 * Chunk uploads in flight for one write, bounded so memory stays at a few chunks, with the ids
 * they used so a failed write can hand them back for deletion.
 */
import type { Caller, Reservation } from "../tenant/types";
import type { TenantObject } from "../tenant/object";
import { sha256, storeChunk } from "./chunks";

/**
 * Bytes of chunk uploads one write keeps in flight: enough puts at once to overlap R2 latency
 * (16 at the default chunk size), few enough that many writes fit in one isolate's 128 MB.
 */
export const UPLOAD_BYTES_IN_FLIGHT = 4 << 20;

export class ChunkUploads {
  readonly reservations: Reservation[] = [];
  /** Chunk ids whose objects were (or may have been) written. */
  readonly uploaded: number[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = null;
  private next = 0;
  private left = 0;

  constructor(
    private readonly stub: DurableObjectStub<TenantObject>,
    private readonly caller: Caller,
    private readonly bucket: R2Bucket,
    private readonly prefix: string,
    first: Reservation,
  ) {
    this.take(first);
  }

  private take(reservation: Reservation): void {
    this.reservations.push(reservation);
    this.next = reservation.first;
    this.left = reservation.count;
  }

  private async freshId(): Promise<number> {
    if (this.left === 0) this.take(await this.stub.reserve(this.caller, 64));
    this.left--;
    return this.next++;
  }

  /** Starts storing a chunk under a fresh id; answers the id and its SHA-256. */
  async store(bytes: Uint8Array): Promise<{ chunkId: number; sha256: string }> {
    const limit = Math.max(1, Math.floor(UPLOAD_BYTES_IN_FLIGHT / bytes.byteLength));
    while (this.inFlight.size >= limit) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
    const chunkId = await this.freshId();
    const digest = await sha256(bytes);
    this.uploaded.push(chunkId);
    const upload = storeChunk(this.bucket, this.prefix, chunkId, bytes, digest).then(
      () => {
        this.inFlight.delete(upload);
      },
      (err) => {
        this.inFlight.delete(upload);
        this.failure ??= err;
      },
    );
    this.inFlight.add(upload);
    return { chunkId, sha256: digest };
  }

  /** Waits for every upload; throws the first failure. */
  async settle(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }

  /** After a failure: waits for what is in flight, then gives every id back for deletion. */
  async abandon(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    await this.stub.abandon(this.caller, this.reservations, this.uploaded).catch(() => {});
  }
}
