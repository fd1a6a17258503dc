/**
 * The tenant Durable Object: one loopfs instance (the "superblock" of a loopfs mount). It owns
 * every piece of the instance's metadata in SQLite and is the only writer of it. The Worker calls
 * it over RPC; bytes never pass through it.
 */
import { DurableObject } from "cloudflare:workers";
import coreModule from "../../build/core.wasm";
import { Core } from "../core";
import type { Env } from "../env";
import { LoopError, toRpcFailure } from "../errors";
import { hashToken, newToken, randomId, sameSecret } from "../tokens";
import { Collector } from "./collector";
import {
  DEFAULT_GC_GRACE_SECONDS,
  DEFAULT_UPLOAD_TIMEOUT_SECONDS,
  InstanceContext,
} from "./context";
import { Devices } from "./devices";
import { Images } from "./images";
import { Control } from "./control";
import { DataPath } from "./data-path";
import type {
  AttachConfig,
  DeviceStatus,
  Caller,
  ChunkUpdate,
  Partition,
  Reservation,
  StatusPatch,
  Target,
} from "./types";

function secondsSetting(value: string | undefined, fallback: number): number {
  const n = value === undefined ? NaN : Number(value);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

export class TenantObject extends DurableObject<Env> {
  private instance!: InstanceContext;
  private devices!: Devices;
  private images!: Images;
  private collector!: Collector;
  private control!: Control;
  private data!: DataPath;

  constructor(state: DurableObjectState, env: Env) {
    super(state, env);
    this.open();
  }

  /** (Re)builds the in-memory side: a fresh core over what storage holds. */
  private open(): void {
    this.instance = new InstanceContext(this.ctx.storage, Core.instantiate(coreModule), {
      gcGraceSeconds: secondsSetting(this.env.LOOPFS_GC_GRACE_SECONDS, DEFAULT_GC_GRACE_SECONDS),
      uploadTimeoutSeconds: secondsSetting(
        this.env.LOOPFS_UPLOAD_TIMEOUT_SECONDS,
        DEFAULT_UPLOAD_TIMEOUT_SECONDS,
      ),
    });
    this.devices = new Devices(this.instance);
    this.images = new Images(this.instance);
    this.collector = new Collector(this.instance, this.images, this.devices, this.env.CHUNKS);
    this.control = new Control(this.instance, this.devices, this.images);
    this.data = new DataPath(this.instance, this.devices, this.images);
  }

  /** Runs a call that only reads (or renews a lease, which the armed alarm already covers). */
  private inspect<T>(caller: Caller, step: () => T): Promise<T> {
    return this.call(caller, step, false);
  }

  /**
   * Runs one RPC call: checks the caller, answers a LoopError as a value (RpcFailure), and arms
   * the alarm for whatever the call left to collect.
   */
  private async call<T>(
    caller: Caller | null,
    step: () => T | Promise<T>,
    leavesWork = true,
  ): Promise<T> {
    try {
      if (caller) this.authorize(caller);
      const answer = await step();
      if (leavesWork) await this.armAlarm();
      return answer;
    } catch (err) {
      // Answered as a value (see RpcFailure); the Worker's tenant client throws it again, so no
      // caller ever sees it as a result of type T.
      if (err instanceof LoopError) return toRpcFailure(err) as unknown as T;
      throw err;
    }
  }

  private authorize(caller: Caller): void {
    if (caller.kind === "operator") {
      this.instance.requireMounted();
      return;
    }
    const stored = this.instance.meta("token_hash");
    if (
      !this.instance.mounted ||
      typeof stored !== "string" ||
      !sameSecret(stored, caller.tokenHash)
    ) {
      throw new LoopError("EUNAUTH", "the token does not open this tenant");
    }
  }

  private async armAlarm(): Promise<void> {
    if (!this.instance.mounted) return;
    const next = this.collector.nextDeadline();
    if (next === null) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
  }

  async alarm(): Promise<void> {
    await this.sweepRetiredMount();
    if (!this.instance.mounted) return;
    await this.collector.sweep();
    await this.armAlarm();
  }

  /** Deletes what late writers of an unmounted mount stored, when its time has come. */
  private async sweepRetiredMount(): Promise<void> {
    const prefix = this.instance.meta("retired_prefix");
    if (typeof prefix !== "string") return;
    if (this.instance.metaNumber("retired_after") > this.instance.now()) {
      await this.ctx.storage.setAlarm(this.instance.metaNumber("retired_after"));
      return;
    }
    await this.collector.deletePrefix(prefix);
    if (this.instance.mounted) {
      this.instance.sql.exec("DELETE FROM meta WHERE key IN ('retired_prefix', 'retired_after')");
    } else {
      await this.ctx.storage.deleteAll(); // nothing of the tenant is left to keep
      this.open();
    }
  }

  // Operator side: mount, remount, unmount, collect.

  mount(tenant: string, max: number) {
    return this.call(null, async () => {
      const token = newToken();
      const tokenHash = await hashToken(token);
      if (this.instance.mounted) throw new LoopError("EEXIST", `tenant ${tenant} is mounted`);
      if (this.instance.unmounting) {
        throw new LoopError("EBUSY", `tenant ${tenant} is being unmounted`);
      }
      this.instance.transaction(() => {
        this.instance.setMeta("tenant", tenant);
        this.instance.setMeta("max", max);
        this.instance.setMeta("mount_id", randomId(6));
        this.instance.setMeta("token_hash", tokenHash);
        this.instance.setMeta("mounted", 1);
      });
      return { tenant, max, token };
    });
  }

  remount(max: number) {
    return this.call({ kind: "operator" }, () => {
      this.instance.setMeta("max", max);
      return this.control.usage();
    });
  }

  /** Umount with devices still bound: detach them all, then remove every byte of the tenant. */
  unmount() {
    return this.call(null, async () => {
      this.instance.beginUnmount();
      const tenant = String(this.instance.meta("tenant"));
      const mountId = this.instance.meta("mount_id");
      this.devices.detachAll();
      const deleted = await this.collector.deletePrefix(`${tenant}/`);
      // Another unmount may have finished, and a new mount begun, while R2 was answering.
      if (this.instance.unmounting && this.instance.meta("mount_id") === mountId) {
        await this.ctx.storage.deleteAlarm();
        await this.ctx.storage.deleteAll();
        this.open();
        // A writer still streaming to the old mount may store chunks after the listing above;
        // once every such writer must have given up, its prefix is swept once more.
        const after = this.instance.now() + this.instance.options.uploadTimeoutSeconds * 1000;
        this.instance.setMeta("retired_prefix", `${tenant}/${mountId}/`);
        this.instance.setMeta("retired_after", after);
        await this.ctx.storage.setAlarm(after);
      }
      return { tenant, deletedChunks: deleted };
    });
  }

  collect() {
    return this.call({ kind: "operator" }, () => this.collector.sweep());
  }

  /** Tells a 403 (a real tenant token on an operator route) from a 401 (no valid token). */
  async isTenantToken(tokenHash: string): Promise<boolean> {
    try {
      this.authorize({ kind: "tenant", tokenHash });
      return true;
    } catch {
      return false;
    }
  }

  // Tenant side: everything below checks the caller first.

  usage(caller: Caller) {
    return this.inspect(caller, () => this.control.usage());
  }

  loopControl(caller: Caller, op: "get-free" | "add" | "remove", number?: number) {
    return this.call(caller, () => this.devices.loopControl(op, number));
  }

  listDevices(caller: Caller) {
    return this.inspect(caller, () => this.control.listDevices());
  }

  deviceStatus(caller: Caller, number: number) {
    return this.inspect(caller, () => this.control.status(number));
  }

  attach(caller: Caller, number: number, config: AttachConfig) {
    return this.call(caller, () => this.control.attach(number, config));
  }

  detach(caller: Caller, number: number) {
    return this.call(caller, () => this.devices.detach(number));
  }

  setStatus(caller: Caller, number: number, patch: StatusPatch) {
    return this.call(caller, () => this.control.setStatus(number, patch));
  }

  changeBacking(caller: Caller, number: number, image: string) {
    return this.call(caller, () => this.control.changeBacking(number, image));
  }

  setPartitions(caller: Caller, number: number, partitions: Partition[], scanned: DeviceStatus) {
    return this.call(caller, () => this.control.setPartitions(number, partitions, scanned));
  }

  removeDevice(caller: Caller, number: number) {
    return this.call(caller, () => this.devices.remove(number));
  }

  listImages(caller: Caller) {
    return this.inspect(caller, () => this.control.listImages());
  }

  imageInfo(caller: Caller, name: string) {
    return this.inspect(caller, () => this.control.imageRecord(this.images.byName(name)));
  }

  createImage(caller: Caller, name: string, size: number, chunkSize: number) {
    return this.call(caller, () =>
      this.control.imageRecord(this.images.create(name, size, chunkSize)),
    );
  }

  deleteImage(caller: Caller, name: string) {
    return this.call(caller, () => this.control.deleteImage(name));
  }

  resizeImage(caller: Caller, name: string, size: number) {
    return this.call(caller, () => this.control.resizeImage(name, size));
  }

  imageChunks(caller: Caller, name: string, from: number, count: number) {
    return this.inspect(caller, () => this.control.chunks(name, from, count));
  }

  imageExtents(caller: Caller, name: string, start: number, length: number) {
    return this.inspect(caller, () => this.control.extents(name, start, length));
  }

  resolve(caller: Caller, target: Target, start: number, length: number) {
    return this.inspect(caller, () => this.data.resolve(target, start, length));
  }

  beginWrite(caller: Caller, target: Target, start: number, length: number) {
    return this.call(caller, () => this.data.beginWrite(target, start, length));
  }

  beginWriteCheck(caller: Caller, target: Target, start: number, length: number) {
    return this.inspect(caller, () => {
      this.data.checkWrite(target, start, length);
    });
  }

  discardChunks(caller: Caller, target: Target, start: number, length: number) {
    return this.call(caller, () => this.data.discardChunks(target, start, length));
  }

  reserve(caller: Caller, count: number) {
    return this.call(caller, () => this.images.reserve(count));
  }

  commitWrite(
    caller: Caller,
    imageId: number,
    updates: ChunkUpdate[],
    reservations: Reservation[],
    discarded: number[],
  ) {
    return this.call(caller, () =>
      this.data.commitWrite(imageId, updates, reservations, discarded),
    );
  }

  abandon(caller: Caller, reservations: Reservation[], uploaded: number[]) {
    return this.call(caller, () => this.data.abandon(reservations, uploaded));
  }

  abandonUpload(caller: Caller, imageId: number) {
    return this.call(caller, () => this.data.abandonUpload(imageId));
  }

  beginUpload(caller: Caller, name: string, chunkSize: number) {
    return this.call(caller, () => this.data.beginUpload(name, chunkSize));
  }

  commitUpload(
    caller: Caller,
    imageId: number,
    size: number,
    updates: ChunkUpdate[],
    reservations: Reservation[],
    discarded: number[],
  ) {
    return this.call(caller, () =>
      this.data.commitUpload(imageId, size, updates, reservations, discarded),
    );
  }
}
