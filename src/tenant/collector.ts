/**
 * Garbage collection of one instance. A chunk object is deleted only when no map references it
 * and its grace period is over (readers that resolved it before may still be streaming it);
 * chunk ids of writes that never committed, and uploads that never finished, expire into garbage
 * the same way. Expired autoclear leases are cleared here too.
 */
import type { InstanceContext } from "./context";
import type { Devices } from "./devices";
import type { ImageRow, Images } from "./images";

/** R2 deletes at most this many keys in one call. */
const R2_DELETE_BATCH = 1000;

export class Collector {
  constructor(
    private readonly ctx: InstanceContext,
    private readonly images: Images,
    private readonly devices: Devices,
    private readonly bucket: R2Bucket,
  ) {}

  /** Runs every sweep that is due; answers how many chunk objects were deleted. */
  async sweep(): Promise<number> {
    const now = this.ctx.now();
    this.devices.sweepExpiredLeases();
    const uploads = this.ctx.sql
      .exec<ImageRow>("SELECT * FROM images WHERE state = 'uploading' AND expires <= ?", now)
      .toArray();
    for (const upload of uploads) this.images.destroy(upload, 0);

    const pending = this.ctx.sql
      .exec<{ first: number; count: number }>(
        "SELECT first, count FROM pending WHERE expires <= ?",
        now,
      )
      .toArray();
    this.ctx.transaction(() => {
      for (const range of pending) {
        const ids = Array.from({ length: range.count }, (_, i) => range.first + i);
        this.images.queueGarbage(ids, 0);
      }
      this.images.release(pending);
    });
    // Read the clock again: what this sweep just queued with no grace period is due too.
    return this.deleteDue(this.ctx.now());
  }

  private async deleteDue(now: number): Promise<number> {
    const prefix = this.ctx.prefix;
    let deleted = 0;
    for (;;) {
      const due = this.ctx.sql
        .exec<{ chunk_id: number }>(
          "SELECT chunk_id FROM garbage WHERE delete_after <= ? LIMIT ?",
          now,
          R2_DELETE_BATCH,
        )
        .toArray()
        .map((r) => r.chunk_id);
      if (!due.length) return deleted;
      await this.bucket.delete(due.map((id) => prefix + id));
      this.ctx.transaction(() => {
        for (const id of due) this.ctx.sql.exec("DELETE FROM garbage WHERE chunk_id = ?", id);
      });
      deleted += due.length;
    }
  }

  /** When the next sweep falls due, or null when nothing waits. */
  nextDeadline(): number | null {
    const rows = this.ctx.sql
      .exec<{ t: number | null }>(
        `SELECT MIN(t) AS t FROM (
           SELECT MIN(delete_after) AS t FROM garbage
           UNION ALL SELECT MIN(expires) FROM pending
           UNION ALL SELECT MIN(expires) FROM images WHERE state = 'uploading')`,
      )
      .toArray();
    const candidates = [rows[0]?.t ?? null, this.devices.nextLeaseExpiry()].filter(
      (t): t is number => t !== null,
    );
    return candidates.length ? Math.min(...candidates) : null;
  }

  /** Deletes every object under a key prefix (all mounts of a tenant, on unmount). */
  async deletePrefix(prefix: string): Promise<number> {
    let deleted = 0;
    for (;;) {
      const listing = await this.bucket.list({ prefix, limit: R2_DELETE_BATCH });
      if (!listing.objects.length) return deleted;
      await this.bucket.delete(listing.objects.map((o) => o.key));
      deleted += listing.objects.length;
    }
  }
}
