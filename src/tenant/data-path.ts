/**
 * The metadata half of reads and writes. A reader asks for the chunk segments behind a byte
 * range; a writer asks where its range lands and for fresh chunk ids, uploads the chunks itself,
 * then commits them here. Bytes never pass through the Durable Object.
 */
import type { DeviceGeometry } from "../core";
import { LoopError } from "../errors";
import type { InstanceContext } from "./context";
import type { Devices } from "./devices";
import type { ImageRow, Images } from "./images";
import type {
  ChunkUpdate,
  Partition,
  CommitAnswer,
  ReadPlan,
  Reservation,
  Target,
  WritePlan,
} from "./types";

/** Chunks one resolve call translates, so one answer stays small whatever the range. */
export const MAX_RESOLVE_CHUNKS = 4096;
/** Chunk ids handed out with a write plan; a writer asks for more as it needs them. */
export const RESERVATION_BATCH = 256;

interface Located {
  image: ImageRow;
  geometry: DeviceGeometry;
  size: number;
  readOnly: boolean;
  blockSize: number;
}

export class DataPath {
  constructor(
    private readonly ctx: InstanceContext,
    private readonly devices: Devices,
    private readonly images: Images,
  ) {}

  /**
   * The image and geometry behind a target. An image addressed directly is read whole, to the
   * byte: its geometry is rounded up to 512 bytes only because translation counts in sectors,
   * and callers never ask past `size`.
   */
  private locate(target: Target): Located {
    if ("image" in target) {
      const image = this.images.byName(target.image);
      const rounded = Math.ceil(image.size / 512) * 512;
      return {
        image,
        geometry: { imageSize: rounded, offset: 0, sizelimit: 0 },
        size: image.size,
        readOnly: false,
        blockSize: 512,
      };
    }
    const row = this.devices.bound(target.device);
    this.devices.touch(row);
    let offset = row.offset;
    let size = row.size;
    if (target.partition !== undefined) {
      const partitions: Partition[] = row.partitions ? JSON.parse(row.partitions) : [];
      const partition = partitions.find((p) => p.number === target.partition);
      if (!partition) {
        throw new LoopError("ENODEV", `no such device: loop${row.number}p${target.partition}`);
      }
      offset += partition.start;
      size = Math.max(0, Math.min(partition.size, row.size - partition.start));
    }
    return {
      image: this.images.byId(row.image_id),
      geometry: { imageSize: offset + size, offset, sizelimit: 0 },
      size,
      readOnly: Boolean(row.read_only),
      blockSize: row.block_size,
    };
  }

  private etag(located: Located): string {
    const { image, geometry, size } = located;
    const mount = this.ctx.meta("mount_id");
    return `"${mount}.${image.id}.${image.generation}.${geometry.offset}.${size}"`;
  }

  /** Segments of [start, start + length) of the target, clipped at its end and at a window. */
  resolve(target: Target, start: number, length: number): ReadPlan {
    const located = this.locate(target);
    const { image, geometry, size } = located;
    const windowEnd = Math.min(
      size,
      start + length,
      (Math.floor((geometry.offset + start) / image.chunk_size) + MAX_RESOLVE_CHUNKS) *
        image.chunk_size -
        geometry.offset,
    );
    const segments =
      windowEnd > start
        ? this.ctx.core.maps.translate(
            image.id,
            image.chunk_size,
            geometry,
            start,
            windowEnd - start,
          )
        : [];
    return {
      size,
      etag: this.etag(located),
      blockSize: located.blockSize,
      prefix: this.ctx.prefix,
      segments,
    };
  }

  /** Refuses a write to a read-only target (EROFS) or past its end (ERANGE). */
  checkWrite(target: Target, start: number, length: number): Located {
    const located = this.locate(target);
    const { image, geometry, size } = located;
    if (located.readOnly) throw new LoopError("EROFS", "the device is read-only");
    // A device keeps its size when its image shrinks (until a capacity refresh), but writes
    // cannot reach past the image's end: the writable size is the smaller of the two.
    const writable = Math.max(0, Math.min(size, image.size - geometry.offset));
    if (length <= 0 || start + length > writable) {
      throw new LoopError(
        "ERANGE",
        `the range ${start}+${length} reaches past the end (${writable})`,
        { size: writable },
      );
    }
    return located;
  }

  beginWrite(target: Target, start: number, length: number): WritePlan {
    const { image, geometry } = this.checkWrite(target, start, length);
    const imageStart = geometry.offset + start;
    const cs = image.chunk_size;
    const imageEnd = imageStart + length;
    const firstChunk = Math.floor(imageStart / cs);
    const lastChunk = Math.floor((imageEnd - 1) / cs);
    const covers = (index: number) =>
      imageStart <= index * cs && imageEnd >= Math.min((index + 1) * cs, image.size);
    const partial = [...new Set([firstChunk, lastChunk])]
      .filter((index) => !covers(index))
      .map((index) => ({ chunkIndex: index, chunkId: this.images.entry(image, index).chunkId }));
    const count = Math.min(lastChunk - firstChunk + 1, RESERVATION_BATCH);
    return {
      imageId: image.id,
      chunkSize: cs,
      prefix: this.ctx.prefix,
      imageStart,
      partial,
      reservation: this.images.reserve(count),
    };
  }

  commitWrite(
    imageId: number,
    updates: ChunkUpdate[],
    reservations: Reservation[],
    discarded: number[],
  ): CommitAnswer {
    const image = this.images.byId(imageId);
    return this.images.commit(image, updates, reservations, discarded);
  }

  /**
   * Discard: every chunk wholly inside the range becomes a hole, one stored map page at a time,
   * so time and memory follow the data in the range, not its length. Answers the device range
   * the holes cover (empty when no chunk lies wholly inside), so the caller writes zeros over
   * the partial edges itself.
   */
  discardChunks(target: Target, start: number, length: number): { start: number; end: number } {
    const { image, geometry } = this.checkWrite(target, start, length);
    const cs = image.chunk_size;
    const imageStart = geometry.offset + start;
    const imageEnd = imageStart + length;
    const first = Math.ceil(imageStart / cs);
    // The image's last chunk counts as whole when the range reaches the image's end.
    const end = imageEnd >= image.size ? Math.ceil(imageEnd / cs) : Math.floor(imageEnd / cs);
    if (first >= end) return { start: start + length, end: start + length };
    this.images.punch(image, first, end);
    this.ctx.sql.exec("UPDATE images SET generation = generation + 1 WHERE id = ?", image.id);
    return {
      start: first * cs - geometry.offset,
      end: Math.min(end * cs - geometry.offset, start + length),
    };
  }

  /**
   * A writer that failed gives back its chunk ids; whatever it stored is deleted at once. Ids of
   * a reservation no longer pending are left alone: either its commit went through (the answer
   * was lost on the way back) and the map references them, or a sweep already collected them.
   */
  abandon(reservations: Reservation[], uploaded: number[]): void {
    this.ctx.transaction(() => {
      this.images.queueGarbage(this.images.stillReserved(reservations, uploaded), 0);
      this.images.release(reservations);
    });
  }

  abandonUpload(imageId: number): void {
    const upload = this.images.byId(imageId);
    if (upload.state === "uploading") this.images.destroy(upload, 0);
  }

  /** Starts a whole-image upload into a hidden image that only its commit makes visible. */
  beginUpload(name: string, chunkSize: number) {
    if (this.images.exists(name)) {
      const attached = this.devices.attachedTo(this.images.byName(name).id);
      if (attached.length) throw new LoopError("EBUSY", `image ${name} is attached`);
    }
    const upload = this.images.create(name, 0, chunkSize, "uploading");
    return {
      imageId: upload.id,
      chunkSize,
      prefix: this.ctx.prefix,
      reservation: this.images.reserve(RESERVATION_BATCH),
    };
  }

  commitUpload(
    imageId: number,
    size: number,
    updates: ChunkUpdate[],
    reservations: Reservation[],
    discarded: number[],
  ) {
    const upload = this.images.byIdOrNull(imageId);
    if (!upload) {
      throw new LoopError(
        "EAGAIN",
        `the upload took longer than the upload timeout ` +
          `(${this.ctx.options.uploadTimeoutSeconds} s) and was collected; try again`,
      );
    }
    if (upload.state !== "uploading") throw new LoopError("EINVAL", "not an upload in progress");
    return this.ctx.transaction(() => {
      this.ctx.sql.exec("UPDATE images SET size = ? WHERE id = ?", size, imageId);
      const sized = this.images.byId(imageId);
      this.images.apply(sized, updates, reservations, discarded);
      this.images.publish(sized, size, (id) => this.devices.attachedTo(id).length > 0);
      return this.images.record(this.images.byId(imageId), []);
    });
  }
}
