/**
 * What every part of a tenant instance shares: its SQLite storage, the core (allocator and block
 * maps in Wasm), the meta row accessors and the clock.
 */
import { Core } from "../core";
import { LoopError } from "../errors";
import { SCHEMA } from "./schema";

/** Default seconds before an unreferenced chunk object is deleted (readers may still stream it). */
export const DEFAULT_GC_GRACE_SECONDS = 300;
/** Default seconds an upload may stay uncommitted before its chunks are swept as orphans. */
export const DEFAULT_UPLOAD_TIMEOUT_SECONDS = 900;

export interface ContextOptions {
  gcGraceSeconds: number;
  uploadTimeoutSeconds: number;
}

/** Values of the `mounted` meta key; absent or 0 means not mounted. */
export const MOUNTED = 1;
const UNMOUNTING = 2;

/** SQLite takes blobs as ArrayBuffers; the core hands out views on its memory. */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}

export class InstanceContext {
  readonly sql: SqlStorage;
  readonly core: Core;
  readonly options: ContextOptions;
  private readonly storage: DurableObjectStorage;
  /**
   * Tables exist only once the operator mounted this instance: a request naming a tenant that
   * was never mounted must not leave storage behind.
   */
  private hasSchema: boolean;

  constructor(storage: DurableObjectStorage, core: Core, options: ContextOptions) {
    this.storage = storage;
    this.sql = storage.sql;
    this.core = core;
    this.options = options;
    this.hasSchema =
      this.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray()
        .length > 0;
    core.maps.setPageStore({
      load: (imageId, page) => {
        const rows = this.sql
          .exec<{ body: ArrayBuffer }>(
            "SELECT body FROM map_pages WHERE image_id = ? AND page = ?",
            imageId,
            page,
          )
          .toArray();
        return rows.length ? new Uint8Array(rows[0].body) : null;
      },
    });
    core.allocator.load(this.metaBytes("allocator"));
  }

  now(): number {
    return Date.now();
  }

  transaction<T>(step: () => T): T {
    return this.storage.transactionSync(step);
  }

  meta(key: string): SqlStorageValue | undefined {
    if (!this.hasSchema) return undefined;
    const rows = this.sql.exec("SELECT value FROM meta WHERE key = ?", key).toArray();
    return rows.length ? rows[0].value : undefined;
  }

  metaNumber(key: string, fallback = 0): number {
    const value = this.meta(key);
    return typeof value === "number" ? value : fallback;
  }

  metaBytes(key: string): Uint8Array | null {
    const value = this.meta(key);
    return value instanceof ArrayBuffer ? new Uint8Array(value) : null;
  }

  setMeta(key: string, value: SqlStorageValue): void {
    if (!this.hasSchema) {
      this.sql.exec(SCHEMA);
      this.hasSchema = true;
    }
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value);
  }

  get mounted(): boolean {
    return this.meta("mounted") === MOUNTED;
  }

  /** True while an unmount removes the instance's data; a mount must wait until it is done. */
  get unmounting(): boolean {
    return this.meta("mounted") === UNMOUNTING;
  }

  /**
   * Starts an unmount: tenant tokens stop working at once. An unmount that failed half way may
   * be run again, so an instance already unmounting counts as there.
   */
  beginUnmount(): void {
    if (!this.mounted && !this.unmounting) this.requireMounted();
    this.setMeta("mounted", UNMOUNTING);
  }

  requireMounted(): void {
    if (!this.mounted) throw new LoopError("ENOENT", "no such instance: mount it first");
  }

  /** Key prefix of this mount's chunk objects in R2. */
  get prefix(): string {
    return `${this.meta("tenant")}/${this.meta("mount_id")}/`;
  }

  /** Hands out the next value of a counter kept in meta. */
  nextId(key: string, count = 1): number {
    const first = this.metaNumber(key, 1);
    this.setMeta(key, first + count);
    return first;
  }

  saveAllocator(): void {
    this.setMeta("allocator", toArrayBuffer(this.core.allocator.save()));
  }
}
