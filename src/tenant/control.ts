/**
 * Control operations of an instance that join devices and images: usage, listings, attach and
 * status changes that need the backing image, image removal and resizing.
 */
import { PAGE_ENTRIES, type Extent } from "../core";
import { LoopError } from "../errors";
import { hex } from "../tokens";
import type { InstanceContext } from "./context";
import type { DeviceRow, Devices } from "./devices";
import type { ImageRow, Images } from "./images";
import type {
  AttachConfig,
  DeviceStatus,
  ImageRecord,
  Partition,
  StatusPatch,
  Usage,
} from "./types";

/** Most chunk entries one listing answers, so a listing stays a small response. */
export const MAX_CHUNK_LISTING = 4096;

export class Control {
  constructor(
    private readonly ctx: InstanceContext,
    private readonly devices: Devices,
    private readonly images: Images,
  ) {}

  usage(): Usage {
    const rows = this.devices.all();
    const images = this.images.all();
    return {
      tenant: String(this.ctx.meta("tenant")),
      max: this.ctx.metaNumber("max"),
      devices: rows.length,
      boundDevices: rows.filter((r) => r.image_id !== null).length,
      images: images.length,
      storedBytes: images.reduce((sum, i) => sum + i.stored_chunks * i.chunk_size, 0),
    };
  }

  private statusOf(row: DeviceRow): DeviceStatus {
    const name = row.image_id === null ? null : this.images.byId(row.image_id).name;
    return this.devices.status(row, name);
  }

  listDevices(): DeviceStatus[] {
    return this.devices
      .all()
      .filter((r) => r.image_id !== null)
      .map((r) => this.statusOf(r));
  }

  status(number: number): DeviceStatus {
    const row = this.devices.row(number);
    this.devices.touch(row);
    return this.statusOf(row);
  }

  attach(number: number, config: AttachConfig): DeviceStatus {
    const image = this.images.byName(config.image);
    this.devices.attach(number, image.id, image.size, config);
    return this.status(number);
  }

  setStatus(number: number, patch: StatusPatch): DeviceStatus {
    const row = this.devices.bound(number);
    this.devices.setStatus(number, patch, this.images.byId(row.image_id).size);
    return this.status(number);
  }

  changeBacking(number: number, name: string): DeviceStatus {
    const row = this.devices.bound(number);
    const next = this.images.byName(name);
    const current = this.images.byId(row.image_id);
    this.devices.changeBacking(number, next.id, next.size, current.size);
    return this.status(number);
  }

  /**
   * Stores what a partition scan found, unless the binding changed while the Worker was reading
   * the table (a detach, a new attach, a new offset or size): then the scan is stale and dropped.
   */
  setPartitions(number: number, partitions: Partition[], scanned: DeviceStatus): boolean {
    const current = this.status(number);
    const same =
      current.image === scanned.image &&
      current.offset === scanned.offset &&
      current.size === scanned.size &&
      current.blockSize === scanned.blockSize;
    if (same) this.devices.setPartitions(number, partitions);
    return same;
  }

  imageRecord(row: ImageRow): ImageRecord {
    return this.images.record(row, this.devices.attachedTo(row.id));
  }

  listImages(): ImageRecord[] {
    return this.images.all().map((row) => this.imageRecord(row));
  }

  deleteImage(name: string): void {
    const row = this.images.byName(name);
    const attached = this.devices.attachedTo(row.id);
    if (attached.length) {
      throw new LoopError("EBUSY", `image ${name} is attached to ${attached.join(", ")}`);
    }
    this.images.destroy(row, this.ctx.options.gcGraceSeconds * 1000);
  }

  /** A device bound to the image keeps its size until a capacity refresh, as in the kernel. */
  resizeImage(name: string, size: number): ImageRecord {
    return this.imageRecord(this.images.resize(this.images.byName(name), size));
  }

  /** Stored chunks of an image with their SHA-256, for clients that resume or verify. */
  chunks(name: string, from: number, count: number) {
    const row = this.images.byName(name);
    if (count > MAX_CHUNK_LISTING) {
      throw new LoopError("EINVAL", `count is at most ${MAX_CHUNK_LISTING}`);
    }
    const stored = this.ctx.core.maps.storedChunks(row.id, from, from + count);
    return {
      size: row.size,
      chunkSize: row.chunk_size,
      chunks: stored.map((s) => ({
        index: s.chunkIndex,
        sha256: hex(this.ctx.core.maps.get(row.id, s.chunkIndex).sha256 ?? new Uint8Array(32)),
      })),
    };
  }

  /**
   * Runs of holes and stored chunks over a byte range of an image. Only map pages that exist in
   * storage are walked; the stretches between them are holes by definition, so a sparse image
   * of any size answers in time that follows its data.
   */
  extents(name: string, start: number, length: number) {
    const row = this.images.byName(name);
    const end = Math.min(row.size, start + length);
    const pageBytes = PAGE_ENTRIES * row.chunk_size;
    const extents: Extent[] = [];
    const push = (extent: Extent) => {
      const last = extents[extents.length - 1];
      if (last && last.kind === extent.kind && last.offset + last.length === extent.offset) {
        last.length += extent.length;
      } else if (extent.length > 0) {
        extents.push({ ...extent });
      }
    };
    let at = start;
    const pages = this.images.storedPages(
      row.id,
      Math.floor(start / row.chunk_size),
      Math.ceil(end / row.chunk_size),
    );
    for (const page of pages) {
      const pageStart = Math.max(at, page * pageBytes);
      const pageEnd = Math.min(end, (page + 1) * pageBytes);
      if (pageEnd <= pageStart) continue;
      push({ offset: at, length: pageStart - at, kind: "hole" });
      const runs = this.ctx.core.maps.extents(
        row.id,
        row.chunk_size,
        row.size,
        pageStart,
        pageEnd - pageStart,
      );
      for (const run of runs) push(run);
      at = pageEnd;
    }
    if (end > at) push({ offset: at, length: end - at, kind: "hole" });
    return { size: row.size, chunkSize: row.chunk_size, extents };
  }
}
