/**
 * Images of one instance and their block maps: create, list, resize, delete, and the two halves
 * of the data path that need metadata: resolving a byte range into chunk segments for readers,
 * and committing the chunks a writer uploaded, all-or-nothing with compare-and-swap per chunk.
 */
import { PAGE_ENTRIES, type MapEntry } from "../core";
import { LoopError } from "../errors";
import { toArrayBuffer, type InstanceContext } from "./context";
import type { ChunkUpdate, CommitAnswer, ImageRecord, Reservation } from "./types";

/** Chunk sizes an image may use: powers of two from one page to 1 MiB (one R2 get each). */
export const MIN_CHUNK_SIZE = 4096;
export const MAX_CHUNK_SIZE = 1 << 20;
/** Default chunk size; see the README's performance section for how it was chosen. */
export const DEFAULT_CHUNK_SIZE = 256 * 1024;

export interface ImageRow {
  id: number;
  name: string;
  size: number;
  chunk_size: number;
  stored_chunks: number;
  generation: number;
  state: string;
  expires: number;
  [key: string]: SqlStorageValue;
}

/**
 * The largest image: 2^53 - 512, the last multiple of 512 that JSON numbers hold exactly. Reads
 * address an image in whole 512-byte sectors, and the sector holding byte 2^53 - 1 would end at
 * 2^53, one past what the core (and JavaScript) can count exactly.
 */
export const MAX_IMAGE_SIZE = Number.MAX_SAFE_INTEGER - 511;

export function checkImageSize(size: number): number {
  if (size > MAX_IMAGE_SIZE) {
    throw new LoopError("EOVERFLOW", `an image is at most 2^53 - 512 bytes, not ${size}`);
  }
  return size;
}

export function checkChunkSize(chunkSize: number): number {
  const isPowerOfTwo = chunkSize > 0 && (chunkSize & (chunkSize - 1)) === 0;
  if (!isPowerOfTwo || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new LoopError("EINVAL", `chunk size ${chunkSize} is not a power of two in 4 KiB..1 MiB`);
  }
  return chunkSize;
}

export function unhex(text: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(text)) throw new LoopError("EINVAL", "sha256 must be 64 hex digits");
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/** Updates applied per call into the core, so a huge commit never fills the page cache. */
const CAS_BATCH = 512;

function toEntry(update: ChunkUpdate): MapEntry {
  return update.chunkId
    ? { kind: "stored", chunkId: update.chunkId, sha256: unhex(update.sha256 ?? "") }
    : { kind: "hole", chunkId: 0, sha256: null };
}

function chunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

export class Images {
  constructor(private readonly ctx: InstanceContext) {}

  byName(name: string): ImageRow {
    const rows = this.ctx.sql
      .exec<ImageRow>("SELECT * FROM images WHERE name = ? AND state = 'ready'", name)
      .toArray();
    if (!rows.length) throw new LoopError("ENOENT", `no such image: ${name}`);
    return rows[0];
  }

  byId(id: number): ImageRow {
    const row = this.byIdOrNull(id);
    if (!row) throw new LoopError("ENOENT", "the image was removed during the write");
    return row;
  }

  byIdOrNull(id: number): ImageRow | null {
    const rows = this.ctx.sql.exec<ImageRow>("SELECT * FROM images WHERE id = ?", id).toArray();
    return rows.length ? rows[0] : null;
  }

  all(): ImageRow[] {
    return this.ctx.sql
      .exec<ImageRow>("SELECT * FROM images WHERE state = 'ready' ORDER BY name")
      .toArray();
  }

  record(row: ImageRow, attached: string[]): ImageRecord {
    return {
      name: row.name,
      size: row.size,
      chunkSize: row.chunk_size,
      storedBytes: row.stored_chunks * row.chunk_size,
      attached,
    };
  }

  create(name: string, size: number, chunkSize: number, state = "ready"): ImageRow {
    checkChunkSize(chunkSize);
    checkImageSize(size);
    if (state === "ready" && this.exists(name)) {
      throw new LoopError("EEXIST", `image ${name} exists`);
    }
    const id = this.ctx.nextId("next_image_id");
    const expires = state === "ready" ? 0 : this.uploadDeadline();
    this.ctx.sql.exec(
      "INSERT INTO images (id, name, size, chunk_size, state, expires) VALUES (?, ?, ?, ?, ?, ?)",
      id,
      name,
      size,
      chunkSize,
      state,
      expires,
    );
    return this.byId(id);
  }

  exists(name: string): boolean {
    return (
      this.ctx.sql.exec("SELECT 1 FROM images WHERE name = ? AND state = 'ready'", name).toArray()
        .length > 0
    );
  }

  uploadDeadline(): number {
    return this.ctx.now() + this.ctx.options.uploadTimeoutSeconds * 1000;
  }

  /**
   * Stored chunks of [from, to), found by walking only the map pages that exist in storage: a
   * page never written is all holes, so the cost follows the data, not the image's nominal size
   * (a 2^53-byte sparse image has 2^41 chunk slots). The map is flushed after every commit, so
   * storage holds every page that has a stored entry. `visit` gets one page's worth at a time.
   */
  forEachStored(
    imageId: number,
    from: number,
    to: number,
    visit: (stored: { chunkIndex: number; chunkId: number }[]) => void,
  ): void {
    for (const page of this.storedPages(imageId, from, to)) {
      const start = Math.max(from, page * PAGE_ENTRIES);
      const end = Math.min(to, (page + 1) * PAGE_ENTRIES);
      const stored = this.ctx.core.maps.storedChunks(imageId, start, end);
      if (stored.length) visit(stored);
    }
  }

  /** Numbers of the map pages in storage that hold chunks [from, to), in order. */
  storedPages(imageId: number, from: number, to: number): number[] {
    if (from >= to) return [];
    return this.ctx.sql
      .exec<{ page: number }>(
        "SELECT page FROM map_pages WHERE image_id = ? AND page >= ? AND page <= ? ORDER BY page",
        imageId,
        Math.floor(from / PAGE_ENTRIES),
        Math.floor((to - 1) / PAGE_ENTRIES),
      )
      .toArray()
      .map((row) => row.page);
  }

  /** Removes an image row, its map pages, and queues every chunk it stored for deletion. */
  destroy(row: ImageRow, graceMs: number): void {
    this.ctx.transaction(() => {
      this.forEachStored(row.id, 0, chunkCount(row.size, row.chunk_size), (stored) =>
        this.queueGarbage(
          stored.map((s) => s.chunkId),
          graceMs,
        ),
      );
      this.ctx.sql.exec("DELETE FROM map_pages WHERE image_id = ?", row.id);
      this.ctx.sql.exec("DELETE FROM images WHERE id = ?", row.id);
    });
    this.ctx.core.maps.drop(row.id);
  }

  /** Makes every stored chunk of [from, to) a hole, one map page at a time. */
  punch(row: ImageRow, from: number, to: number): void {
    this.forEachStored(row.id, from, to, (stored) => {
      const updates = stored.map((s) => ({
        chunkIndex: s.chunkIndex,
        expectChunkId: null,
        chunkId: 0,
        sha256: null,
      }));
      this.apply(this.byId(row.id), updates, [], []);
    });
  }

  /** Grows or shrinks an image; chunks wholly past the new end become holes. */
  resize(row: ImageRow, size: number): ImageRow {
    checkImageSize(size);
    const keep = chunkCount(size, row.chunk_size);
    this.punch(row, keep, Math.max(keep, chunkCount(row.size, row.chunk_size)));
    this.ctx.sql.exec("UPDATE images SET size = ? WHERE id = ?", size, row.id);
    return this.byId(row.id);
  }

  entry(row: ImageRow, chunkIndex: number): MapEntry {
    return this.ctx.core.maps.get(row.id, chunkIndex);
  }

  /** Chunk ids for a writer; they stay pending (and are swept if never committed). */
  reserve(count: number): Reservation {
    const first = this.ctx.nextId("next_chunk_id", count);
    this.ctx.sql.exec(
      "INSERT INTO pending (first, count, expires) VALUES (?, ?, ?)",
      first,
      count,
      this.uploadDeadline(),
    );
    return { first, count };
  }

  /**
   * Applies a writer's chunk updates to an image's map, all or none. Every update that names the
   * entry it was computed from must still find that entry; otherwise nothing changes and the
   * conflicting chunks are answered with their current ids, so the writer can merge and retry.
   */
  commit(
    row: ImageRow,
    updates: ChunkUpdate[],
    reservations: Reservation[],
    discarded: number[],
  ): CommitAnswer {
    const conflicts: { chunkIndex: number; chunkId: number }[] = [];
    const total = chunkCount(Math.max(row.size, 1), row.chunk_size);
    for (const update of updates) {
      if (update.chunkIndex >= total) {
        throw new LoopError("ERANGE", "write reaches past the end of the image", {
          size: row.size,
        });
      }
      if (update.expectChunkId === null) continue;
      const current = this.ctx.core.maps.get(row.id, update.chunkIndex);
      if (current.chunkId !== update.expectChunkId) {
        conflicts.push({ chunkIndex: update.chunkIndex, chunkId: current.chunkId });
      }
    }
    if (conflicts.length) return { ok: false, conflicts };
    return { ok: true, generation: this.apply(row, updates, reservations, discarded) };
  }

  /**
   * Refuses a commit whose chunk ids were collected: a writer that outlived the upload timeout
   * had its reservation swept as orphans, so its chunk objects may already be deleted, and a map
   * that referenced them would lose acknowledged data.
   */
  checkReserved(reservations: Reservation[]): void {
    for (const r of reservations) {
      if (!this.isPending(r)) {
        throw new LoopError(
          "EAGAIN",
          `the write took longer than the upload timeout ` +
            `(${this.ctx.options.uploadTimeoutSeconds} s) and its chunks were collected; try again`,
        );
      }
    }
  }

  /** Of the chunk ids a writer gives back, those whose reservation is still pending. */
  stillReserved(reservations: Reservation[], chunkIds: number[]): number[] {
    const live = reservations.filter((r) => this.isPending(r));
    return chunkIds.filter((id) => live.some((r) => id >= r.first && id < r.first + r.count));
  }

  private isPending(reservation: Reservation): boolean {
    return (
      this.ctx.sql.exec("SELECT 1 FROM pending WHERE first = ?", reservation.first).toArray()
        .length > 0
    );
  }

  /** Ends reservations: their ids are committed, or handed back, and no sweep may take them. */
  release(reservations: Reservation[]): void {
    for (const r of reservations) this.ctx.sql.exec("DELETE FROM pending WHERE first = ?", r.first);
  }

  /**
   * Writes updates into the map and storage in one transaction. Replaced chunks wait out the
   * grace period before deletion, since a reader may have resolved them a moment ago.
   */
  apply(
    row: ImageRow,
    updates: ChunkUpdate[],
    reservations: Reservation[],
    discarded: number[],
  ): number {
    const maps = this.ctx.core.maps;
    this.checkReserved(reservations);
    const grace = this.ctx.options.gcGraceSeconds * 1000;
    try {
      return this.ctx.transaction(() => {
        let storedDelta = 0;
        const replaced: number[] = [];
        for (let i = 0; i < updates.length; i += CAS_BATCH) {
          const batch = updates.slice(i, i + CAS_BATCH).map((update) => ({
            chunkIndex: update.chunkIndex,
            expectChunkId: null,
            entry: toEntry(update),
          }));
          const answer = maps.compareAndSwap(row.id, batch);
          if (!answer.ok) throw new LoopError("EIO", "map update refused without expectation");
          answer.replaced.forEach((old, j) => {
            if (old.kind === "stored") {
              replaced.push(old.chunkId);
              storedDelta--;
            }
            if (batch[j].entry.kind === "stored") storedDelta++;
          });
          this.flushIfCrowded();
        }
        this.flush();
        this.queueGarbage(replaced, grace);
        this.queueGarbage(discarded, 0);
        this.release(reservations);
        this.ctx.sql.exec(
          `UPDATE images SET stored_chunks = stored_chunks + ?, generation = generation + 1
           WHERE id = ?`,
          storedDelta,
          row.id,
        );
        return row.generation + 1;
      });
    } catch (err) {
      maps.drop(row.id);
      throw err;
    }
  }

  /** Writes dirty map pages back when the cache holds many, so a huge commit stays bounded. */
  private flushIfCrowded(): void {
    const stats = this.ctx.core.maps.stats();
    if (stats.cacheBytes > stats.capacityBytes / 2) this.flush();
  }

  private flush(): void {
    for (const page of this.ctx.core.maps.takeDirty()) {
      if (page.bytes === null) {
        this.ctx.sql.exec(
          "DELETE FROM map_pages WHERE image_id = ? AND page = ?",
          page.imageId,
          page.page,
        );
      } else {
        this.ctx.sql.exec(
          "INSERT OR REPLACE INTO map_pages (image_id, page, body) VALUES (?, ?, ?)",
          page.imageId,
          page.page,
          toArrayBuffer(page.bytes),
        );
      }
    }
  }

  queueGarbage(chunkIds: number[], graceMs: number): void {
    const deleteAfter = this.ctx.now() + graceMs;
    for (const id of chunkIds) {
      this.ctx.sql.exec(
        "INSERT OR REPLACE INTO garbage (chunk_id, delete_after) VALUES (?, ?)",
        id,
        deleteAfter,
      );
    }
  }

  /** Makes a finished upload the image of its name, replacing an older one not in use. */
  publish(upload: ImageRow, size: number, replacedAttached: (id: number) => boolean): void {
    const old = this.exists(upload.name) ? this.byName(upload.name) : null;
    if (old && replacedAttached(old.id)) {
      throw new LoopError("EBUSY", `image ${upload.name} is attached`);
    }
    if (old) this.destroy(old, this.ctx.options.gcGraceSeconds * 1000);
    this.ctx.sql.exec(
      "UPDATE images SET state = 'ready', size = ?, expires = 0 WHERE id = ?",
      size,
      upload.id,
    );
  }
}
