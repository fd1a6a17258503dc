/**
 * Chunk uploads in flight for one write, bounded so memory stays at a few chunks, with the ids
 * they used so a failed write can hand them back for deletion.
 */
import type { Caller, Reservation } from "../tenant/types";
import type { TenantObject } from "../tenant/object";
import { sha256, storeChunk } from "./chunks";

/** Chunk uploads one write keeps in flight: enough to overlap R2 latency, few enough for memory. */
export const UPLOADS_IN_FLIGHT = 4;

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
    while (this.inFlight.size >= UPLOADS_IN_FLIGHT) await Promise.race(this.inFlight);
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
