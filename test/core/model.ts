/**
 * Reference model of the storage core in plain TypeScript: sets and maps, one chunk at a time,
 * no cache. Slow and obviously right; the property tests compare core.wasm against it.
 */
import { LoopError } from "../../src/errors";
import type { DeviceGeometry, Extent, MapEntry, Segment } from "../../src/core/index";

export const MODEL_MAX_DEVICE = 2 ** 20 - 1;
export const MODEL_PAGE_ENTRIES = 1024;

export class AllocatorModel {
  readonly exists = new Set<number>();
  readonly bound = new Set<number>();

  getFree(max: number): { number: number; created: boolean } {
    const unbound = this.list().find((n) => !this.bound.has(n));
    if (unbound !== undefined) return { number: unbound, created: false };
    if (this.exists.size >= max) throw new LoopError("ENOSPC", "full");
    let n = 0;
    while (this.exists.has(n)) n++;
    if (n > MODEL_MAX_DEVICE) throw new LoopError("ENOSPC", "no numbers");
    this.exists.add(n);
    return { number: n, created: true };
  }

  add(n: number, max: number): void {
    if (n > MODEL_MAX_DEVICE) throw new LoopError("EINVAL", "too big");
    if (this.exists.has(n)) throw new LoopError("EEXIST", "exists");
    if (this.exists.size >= max) throw new LoopError("ENOSPC", "full");
    this.exists.add(n);
  }

  remove(n: number): void {
    if (!this.exists.has(n)) throw new LoopError("ENODEV", "missing");
    if (this.bound.has(n)) throw new LoopError("EBUSY", "bound");
    this.exists.delete(n);
  }

  setBound(n: number, bound: boolean): void {
    if (!this.exists.has(n)) throw new LoopError("ENODEV", "missing");
    if (bound) this.bound.add(n);
    else this.bound.delete(n);
  }

  list(): number[] {
    return [...this.exists].sort((a, b) => a - b);
  }
}

export const HOLE: MapEntry = { kind: "hole", chunkId: 0, sha256: null };

type Entries = Map<number, MapEntry>;

/** Map entries per image, the copy the page store holds, and which pages changed since. */
export class MapModel {
  current = new Map<number, Entries>();
  persisted = new Map<number, Entries>();
  dirty = new Set<string>();

  get(image: number, chunk: number): MapEntry {
    return this.current.get(image)?.get(chunk) ?? HOLE;
  }

  compareAndSwap(
    image: number,
    updates: { chunkIndex: number; expectChunkId: number | null; entry: MapEntry }[],
  ): { ok: true; replaced: MapEntry[] } | { ok: false; conflicts: number[] } {
    const conflicts = updates
      .filter(
        (u) =>
          u.expectChunkId !== null && this.get(image, u.chunkIndex).chunkId !== u.expectChunkId,
      )
      .map((u) => u.chunkIndex);
    if (conflicts.length > 0) return { ok: false, conflicts };

    const replaced = updates.map((u) => this.get(image, u.chunkIndex));
    const entries = this.current.get(image) ?? new Map();
    this.current.set(image, entries);
    for (const u of updates) {
      if (u.entry.kind === "hole") entries.delete(u.chunkIndex);
      else entries.set(u.chunkIndex, u.entry);
      this.dirty.add(pageKey(image, Math.floor(u.chunkIndex / MODEL_PAGE_ENTRIES)));
    }
    return { ok: true, replaced };
  }

  /** Keys of the changed pages; their entries become the persisted copy. */
  takeDirty(): string[] {
    const keys = [...this.dirty].sort();
    for (const key of keys) {
      const [image, page] = key.split("/").map(Number);
      const from = this.current.get(image) ?? new Map();
      const to = this.persisted.get(image) ?? new Map();
      this.persisted.set(image, to);
      for (let i = page * MODEL_PAGE_ENTRIES; i < (page + 1) * MODEL_PAGE_ENTRIES; i++) {
        const entry = from.get(i);
        if (entry) to.set(i, entry);
        else to.delete(i);
      }
    }
    this.dirty.clear();
    return keys;
  }

  pageIsHoles(image: number, page: number): boolean {
    for (let i = page * MODEL_PAGE_ENTRIES; i < (page + 1) * MODEL_PAGE_ENTRIES; i++) {
      if (this.get(image, i).kind !== "hole") return false;
    }
    return true;
  }

  drop(image: number): void {
    this.current.set(image, new Map(this.persisted.get(image) ?? []));
    for (const key of [...this.dirty]) if (key.startsWith(`${image}/`)) this.dirty.delete(key);
  }

  translate(image: number, chunkSize: number, g: DeviceGeometry, start: number, length: number) {
    const segments: Segment[] = [];
    const end = Math.min(start + length, modelDeviceSize(g));
    for (let pos = start; pos < end;) {
      const img = g.offset + pos;
      const chunkIndex = Math.floor(img / chunkSize);
      const chunkOffset = img - chunkIndex * chunkSize;
      const len = Math.min(chunkSize - chunkOffset, end - pos);
      const entry = this.get(image, chunkIndex);
      const last = segments[segments.length - 1];
      if (entry.kind === "hole" && last?.kind === "hole") last.length += len;
      else
        segments.push({
          deviceOffset: pos,
          chunkIndex,
          chunkOffset,
          length: len,
          kind: entry.kind,
          chunkId: entry.chunkId,
        });
      pos += len;
    }
    return segments;
  }

  extents(image: number, chunkSize: number, imageSize: number, start: number, length: number) {
    const extents: Extent[] = [];
    const end = Math.min(start + length, imageSize);
    for (let pos = start; pos < end;) {
      const chunkIndex = Math.floor(pos / chunkSize);
      const len = Math.min((chunkIndex + 1) * chunkSize, end) - pos;
      const kind = this.get(image, chunkIndex).kind;
      const last = extents[extents.length - 1];
      if (last?.kind === kind) last.length += len;
      else extents.push({ offset: pos, length: len, kind });
      pos += len;
    }
    return extents;
  }

  storedChunks(image: number, from: number, to: number) {
    return [...(this.current.get(image) ?? new Map<number, MapEntry>())]
      .filter(([i, e]) => e.kind === "stored" && i >= from && i < to)
      .sort(([a], [b]) => a - b)
      .map(([chunkIndex, e]) => ({ chunkIndex, chunkId: e.chunkId }));
  }
}

export function pageKey(image: number, page: number): string {
  return `${image}/${page}`;
}

export function modelDeviceSize(g: DeviceGeometry): number {
  if (g.offset >= g.imageSize) return 0;
  const size =
    g.sizelimit === 0 ? g.imageSize - g.offset : Math.min(g.sizelimit, g.imageSize - g.offset);
  return Math.floor(size / 512) * 512;
}
