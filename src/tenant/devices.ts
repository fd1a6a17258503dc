/**
 * Loop devices of one instance: loop-control, attach (LOOP_CONFIGURE), detach (LOOP_CLR_FD),
 * status (LOOP_GET_STATUS64 / LOOP_SET_STATUS64), LOOP_CHANGE_FD, removal, and autoclear leases.
 */
import { deviceSize } from "../core";
import { LoopError } from "../errors";
import type { InstanceContext } from "./context";
import type { AttachConfig, DeviceStatus, Partition, StatusPatch } from "./types";

/** Logical block sizes a loop device accepts (LOOP_SET_BLOCK_SIZE); 0 means 512. */
export const BLOCK_SIZES = [512, 1024, 2048, 4096];
/** Lease bounds for autoclear devices, in seconds. */
export const MIN_LEASE_SECONDS = 1;
export const MAX_LEASE_SECONDS = 86400;
export const DEFAULT_LEASE_SECONDS = 300;
/**
 * A lease is written back at most this often, so reads do not each cost a storage write. For a
 * short lease the slack shrinks to a tenth of it: a request must always push the expiry out.
 */
const LEASE_RENEW_SLACK_MS = 1000;

export interface DeviceRow {
  number: number;
  image_id: number | null;
  offset: number;
  sizelimit: number;
  size: number;
  read_only: number;
  autoclear: number;
  lease_seconds: number;
  lease_expires: number;
  partscan: number;
  block_size: number;
  partitions: string | null;
  [key: string]: SqlStorageValue;
}

export function deviceName(number: number): string {
  return `loop${number}`;
}

export function normaliseBlockSize(blockSize: number): number {
  const size = blockSize === 0 ? 512 : blockSize;
  if (!BLOCK_SIZES.includes(size)) {
    throw new LoopError("EINVAL", `block size ${blockSize} is not one of 512, 1024, 2048, 4096`);
  }
  return size;
}

export function checkLease(seconds: number): number {
  if (seconds < MIN_LEASE_SECONDS || seconds > MAX_LEASE_SECONDS) {
    throw new LoopError("EINVAL", `leaseSeconds must lie in 1..86400, not ${seconds}`);
  }
  return seconds;
}

export class Devices {
  constructor(private readonly ctx: InstanceContext) {}

  /** The row of an existing device, with an expired autoclear lease cleared first. */
  row(number: number): DeviceRow {
    const rows = this.ctx.sql
      .exec<DeviceRow>("SELECT * FROM devices WHERE number = ?", number)
      .toArray();
    if (!rows.length) throw new LoopError("ENODEV", `no such device: ${deviceName(number)}`);
    const row = rows[0];
    if (row.image_id !== null && row.autoclear && row.lease_expires <= this.ctx.now()) {
      this.clear(number);
      return this.row(number);
    }
    return row;
  }

  /** The row of a bound device; ENXIO when nothing is attached. */
  bound(number: number): DeviceRow & { image_id: number } {
    const row = this.row(number);
    if (row.image_id === null) {
      throw new LoopError("ENXIO", `${deviceName(number)} has no backing image`);
    }
    return row as DeviceRow & { image_id: number };
  }

  /** Renews the autoclear lease of a device that a request just used. */
  touch(row: DeviceRow): void {
    if (!row.autoclear || row.image_id === null) return;
    const leaseMs = row.lease_seconds * 1000;
    const expires = this.ctx.now() + leaseMs;
    if (expires - row.lease_expires < Math.min(LEASE_RENEW_SLACK_MS, leaseMs / 10)) return;
    this.ctx.sql.exec("UPDATE devices SET lease_expires = ? WHERE number = ?", expires, row.number);
  }

  loopControl(
    op: "get-free" | "add" | "remove",
    number?: number,
  ): { number: number; created: boolean } {
    const allocator = this.ctx.core.allocator;
    const max = this.ctx.metaNumber("max");
    // A device whose lease ran out is unbound, even if the alarm has not cleared it yet. Swept
    // before the transaction: a refusal below must not roll back SQL under the Wasm allocator.
    this.sweepExpiredLeases();
    return this.ctx.transaction(() => {
      let answer: { number: number; created: boolean };
      if (op === "get-free") {
        answer = allocator.getFree(max);
      } else if (number === undefined) {
        throw new LoopError("EINVAL", `"${op}" needs a "number"`);
      } else if (op === "add") {
        allocator.add(number, max);
        answer = { number, created: true };
      } else {
        allocator.remove(number);
        this.ctx.sql.exec("DELETE FROM devices WHERE number = ?", number);
        answer = { number, created: false };
      }
      if (op !== "remove" && answer.created) {
        this.ctx.sql.exec("INSERT INTO devices (number) VALUES (?)", answer.number);
      }
      this.ctx.saveAllocator();
      return answer;
    });
  }

  remove(number: number): void {
    this.row(number);
    this.loopControl("remove", number);
  }

  attach(number: number, imageId: number, imageSize: number, config: AttachConfig): void {
    const row = this.row(number);
    if (row.image_id !== null) throw new LoopError("EBUSY", `${deviceName(number)} is bound`);
    const blockSize = normaliseBlockSize(config.blockSize);
    const leaseSeconds = checkLease(config.leaseSeconds);
    const size = deviceSize({ imageSize, offset: config.offset, sizelimit: config.sizelimit });
    this.ctx.transaction(() => {
      this.ctx.sql.exec(
        `UPDATE devices SET image_id = ?, offset = ?, sizelimit = ?, size = ?, read_only = ?,
           autoclear = ?, lease_seconds = ?, lease_expires = ?, partscan = ?, block_size = ?,
           partitions = NULL
         WHERE number = ?`,
        imageId,
        config.offset,
        config.sizelimit,
        size,
        config.readOnly ? 1 : 0,
        config.autoclear ? 1 : 0,
        leaseSeconds,
        this.ctx.now() + leaseSeconds * 1000,
        config.partscan ? 1 : 0,
        blockSize,
        number,
      );
      this.ctx.core.allocator.setBound(number, true);
      this.ctx.saveAllocator();
    });
  }

  /** Detaches a bound device (LOOP_CLR_FD); ENXIO when it is not bound. */
  detach(number: number): void {
    this.bound(number);
    this.clear(number);
  }

  private clear(number: number): void {
    this.ctx.transaction(() => {
      this.ctx.sql.exec(
        `UPDATE devices SET image_id = NULL, offset = 0, sizelimit = 0, size = 0, read_only = 0,
           autoclear = 0, lease_expires = 0, partscan = 0, block_size = 512, partitions = NULL
         WHERE number = ?`,
        number,
      );
      this.ctx.core.allocator.setBound(number, false);
      this.ctx.saveAllocator();
    });
  }

  detachAll(): void {
    for (const row of this.ctx.sql
      .exec<{ number: number }>("SELECT number FROM devices WHERE image_id IS NOT NULL")
      .toArray()) {
      this.clear(row.number);
    }
  }

  sweepExpiredLeases(): void {
    const expired = this.ctx.sql
      .exec<{ number: number }>(
        `SELECT number FROM devices
         WHERE image_id IS NOT NULL AND autoclear = 1 AND lease_expires <= ?`,
        this.ctx.now(),
      )
      .toArray();
    for (const row of expired) this.clear(row.number);
  }

  /** Earliest time an autoclear lease runs out, or null. */
  nextLeaseExpiry(): number | null {
    const rows = this.ctx.sql
      .exec<{ t: number | null }>(
        "SELECT MIN(lease_expires) AS t FROM devices WHERE image_id IS NOT NULL AND autoclear = 1",
      )
      .toArray();
    return rows[0]?.t ?? null;
  }

  /** LOOP_SET_STATUS64, LOOP_SET_BLOCK_SIZE and LOOP_SET_CAPACITY in one patch. */
  setStatus(number: number, patch: StatusPatch, imageSize: number): void {
    const row = this.bound(number);
    if (patch.partscan === false && row.partscan) {
      throw new LoopError("EINVAL", "partscan can be set but not cleared");
    }
    const offset = patch.offset ?? row.offset;
    const sizelimit = patch.sizelimit ?? row.sizelimit;
    const blockSize =
      patch.blockSize === undefined ? row.block_size : normaliseBlockSize(patch.blockSize);
    const leaseSeconds =
      patch.leaseSeconds === undefined ? row.lease_seconds : checkLease(patch.leaseSeconds);
    const geometryChanged =
      patch.offset !== undefined || patch.sizelimit !== undefined || patch.capacity === "refresh";
    const size = geometryChanged ? deviceSize({ imageSize, offset, sizelimit }) : row.size;
    const autoclear = patch.autoclear ?? Boolean(row.autoclear);
    this.ctx.sql.exec(
      `UPDATE devices SET offset = ?, sizelimit = ?, size = ?, block_size = ?, lease_seconds = ?,
         autoclear = ?, lease_expires = ?, partscan = ?,
         partitions = CASE WHEN ? THEN NULL ELSE partitions END
       WHERE number = ?`,
      offset,
      sizelimit,
      size,
      blockSize,
      leaseSeconds,
      autoclear ? 1 : 0,
      this.ctx.now() + leaseSeconds * 1000,
      patch.partscan || row.partscan ? 1 : 0,
      geometryChanged ? 1 : 0,
      number,
    );
  }

  /** LOOP_CHANGE_FD: only under a read-only device, only for an image of the same size. */
  changeBacking(number: number, imageId: number, imageSize: number, oldImageSize: number): void {
    const row = this.bound(number);
    if (!row.read_only) throw new LoopError("EINVAL", "only a read-only device can change image");
    if (imageSize !== oldImageSize) {
      throw new LoopError("EINVAL", `the new image is ${imageSize} bytes, the old ${oldImageSize}`);
    }
    this.ctx.sql.exec(
      "UPDATE devices SET image_id = ?, partitions = NULL WHERE number = ?",
      imageId,
      number,
    );
  }

  setPartitions(number: number, partitions: Partition[]): void {
    this.ctx.sql.exec(
      "UPDATE devices SET partitions = ? WHERE number = ?",
      JSON.stringify(partitions),
      number,
    );
  }

  status(row: DeviceRow, imageName: string | null): DeviceStatus {
    const status: DeviceStatus = {
      name: deviceName(row.number),
      number: row.number,
      image: imageName,
      offset: row.offset,
      sizelimit: row.sizelimit,
      size: row.size,
      readOnly: Boolean(row.read_only),
      autoclear: Boolean(row.autoclear),
      leaseSeconds: row.lease_seconds,
      partscan: Boolean(row.partscan),
      blockSize: row.block_size,
    };
    if (row.partitions) status.partitions = JSON.parse(row.partitions);
    return status;
  }

  all(): DeviceRow[] {
    this.sweepExpiredLeases();
    return this.ctx.sql.exec<DeviceRow>("SELECT * FROM devices ORDER BY number").toArray();
  }

  attachedTo(imageId: number): string[] {
    return this.ctx.sql
      .exec<{ number: number }>(
        "SELECT number FROM devices WHERE image_id = ? ORDER BY number",
        imageId,
      )
      .toArray()
      .map((r) => deviceName(r.number));
  }
}
