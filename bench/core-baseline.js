/**
 * Straightforward JavaScript versions of the core's operations, as one would write them without
 * Wasm. bench/core.js runs them beside core.wasm; an operation stays in Wasm only if it wins.
 */

export function isZeroBytes(bytes) {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Word loop: bytes up to 4-byte alignment, then Uint32 words ORed in blocks of 8. */
export function isZeroWords32(bytes) {
  let i = 0;
  const end = bytes.length;
  while (i < end && (bytes.byteOffset + i) % 4 !== 0) if (bytes[i++] !== 0) return false;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, (end - i) >>> 2);
  let w = 0;
  for (; w + 8 <= words.length; w += 8) {
    const acc =
      words[w] |
      words[w + 1] |
      words[w + 2] |
      words[w + 3] |
      words[w + 4] |
      words[w + 5] |
      words[w + 6] |
      words[w + 7];
    if (acc !== 0) return false;
  }
  for (; w < words.length; w++) if (words[w] !== 0) return false;
  for (i += words.length * 4; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

export function isZeroWords64(bytes) {
  let i = 0;
  const end = bytes.length;
  while (i < end && (bytes.byteOffset + i) % 8 !== 0) if (bytes[i++] !== 0) return false;
  const words = new BigUint64Array(bytes.buffer, bytes.byteOffset + i, (end - i) >>> 3);
  for (let w = 0; w < words.length; w++) if (words[w] !== 0n) return false;
  for (i += words.length * 8; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Device numbers in two Uint32Array bitsets, scanned word by word. */
export class AllocatorBaseline {
  exists = new Uint32Array(1 << 15);
  bound = new Uint32Array(1 << 15);
  count = 0;

  getFree(max) {
    for (let w = 0; w < this.exists.length; w++) {
      const avail = this.exists[w] & ~this.bound[w];
      if (avail !== 0)
        return { number: w * 32 + (31 - Math.clz32(avail & -avail)), created: false };
    }
    if (this.count >= max) throw new Error("ENOSPC");
    for (let w = 0; w < this.exists.length; w++) {
      const free = ~this.exists[w];
      if (free !== 0) {
        const n = w * 32 + (31 - Math.clz32(free & -free));
        this.add(n);
        return { number: n, created: true };
      }
    }
    throw new Error("ENOSPC");
  }

  add(n) {
    this.exists[n >>> 5] |= 1 << (n & 31);
    this.count++;
  }

  remove(n) {
    this.exists[n >>> 5] &= ~(1 << (n & 31));
    this.count--;
  }

  setBound(n) {
    this.bound[n >>> 5] |= 1 << (n & 31);
  }
}

const PAGE_ENTRIES = 1024;
const KINDS = ["hole", "stored", "parent"];

/** Block map pages in a JS Map: chunk ids in a Float64Array (-1 parent), digests beside. */
export class BlockMapBaseline {
  pages = new Map();

  page(image, page) {
    const key = `${image}/${page}`;
    let p = this.pages.get(key);
    if (!p) {
      p = { ids: new Float64Array(PAGE_ENTRIES), shas: new Uint8Array(PAGE_ENTRIES * 32) };
      this.pages.set(key, p);
    }
    return p;
  }

  compareAndSwap(image, updates) {
    const conflicts = [];
    for (const u of updates) {
      if (u.expectChunkId === null) continue;
      const id = this.page(image, Math.floor(u.chunkIndex / PAGE_ENTRIES)).ids[
        u.chunkIndex % PAGE_ENTRIES
      ];
      if ((id < 0 ? 0 : id) !== u.expectChunkId) conflicts.push(u.chunkIndex);
    }
    if (conflicts.length > 0) return { ok: false, conflicts };
    const replaced = [];
    for (const u of updates) {
      const p = this.page(image, Math.floor(u.chunkIndex / PAGE_ENTRIES));
      const i = u.chunkIndex % PAGE_ENTRIES;
      const old = p.ids[i];
      replaced.push(
        old === 0
          ? { kind: "hole", chunkId: 0, sha256: null }
          : old < 0
            ? { kind: "parent", chunkId: 0, sha256: null }
            : { kind: "stored", chunkId: old, sha256: p.shas.slice(i * 32, i * 32 + 32) },
      );
      const e = u.entry;
      p.ids[i] = e.kind === "stored" ? e.chunkId : e.kind === "parent" ? -1 : 0;
      if (e.sha256) p.shas.set(e.sha256, i * 32);
      else p.shas.fill(0, i * 32, i * 32 + 32);
    }
    return { ok: true, replaced };
  }

  kindAt(image, chunk) {
    const id = this.page(image, Math.floor(chunk / PAGE_ENTRIES)).ids[chunk % PAGE_ENTRIES];
    return id === 0 ? 0 : id < 0 ? 2 : 1;
  }

  translate(image, chunkSize, g, start, length) {
    const size = Math.max(0, g.imageSize - g.offset);
    const limited = g.sizelimit > 0 ? Math.min(size, g.sizelimit) : size;
    const end = Math.min(start + length, limited - (limited % 512));
    const segments = [];
    for (let pos = start; pos < end;) {
      const img = g.offset + pos;
      const chunkIndex = Math.floor(img / chunkSize);
      const chunkOffset = img - chunkIndex * chunkSize;
      const len = Math.min(chunkSize - chunkOffset, end - pos);
      const p = this.page(image, Math.floor(chunkIndex / PAGE_ENTRIES));
      const id = p.ids[chunkIndex % PAGE_ENTRIES];
      const kind = KINDS[id === 0 ? 0 : id < 0 ? 2 : 1];
      const last = segments[segments.length - 1];
      if (kind === "hole" && last !== undefined && last.kind === "hole") last.length += len;
      else
        segments.push({
          deviceOffset: pos,
          chunkIndex,
          chunkOffset,
          length: len,
          kind,
          chunkId: id > 0 ? id : 0,
        });
      pos += len;
    }
    return segments;
  }

  extents(image, chunkSize, imageSize, start, length) {
    const end = Math.min(start + length, imageSize);
    const extents = [];
    for (let pos = start; pos < end;) {
      const chunk = Math.floor(pos / chunkSize);
      const len = Math.min((chunk + 1) * chunkSize, end) - pos;
      const kind = KINDS[this.kindAt(image, chunk)];
      const last = extents[extents.length - 1];
      if (last !== undefined && last.kind === kind) last.length += len;
      else extents.push({ offset: pos, length: len, kind });
      pos += len;
    }
    return extents;
  }
}

/** The same two-level search as core.wasm (a summary bit per word), written in JavaScript. */
export class AllocatorSummaryBaseline extends AllocatorBaseline {
  availSummary = new Uint32Array(1 << 10);
  freeSummary = new Uint32Array(1 << 10).fill(0xffffffff);

  refresh(w) {
    const bit = 1 << (w & 31);
    const s = w >>> 5;
    if (this.exists[w] & ~this.bound[w]) this.availSummary[s] |= bit;
    else this.availSummary[s] &= ~bit;
    if (~this.exists[w]) this.freeSummary[s] |= bit;
    else this.freeSummary[s] &= ~bit;
  }

  lowest(summary, word) {
    for (let s = 0; s < summary.length; s++) {
      const sw = summary[s];
      if (sw === 0) continue;
      const w = s * 32 + (31 - Math.clz32(sw & -sw));
      const bits = word(w);
      return w * 32 + (31 - Math.clz32(bits & -bits));
    }
    return -1;
  }

  getFree(max) {
    const unbound = this.lowest(this.availSummary, (w) => this.exists[w] & ~this.bound[w]);
    if (unbound >= 0) return { number: unbound, created: false };
    if (this.count >= max) throw new Error("ENOSPC");
    const n = this.lowest(this.freeSummary, (w) => ~this.exists[w]);
    if (n < 0) throw new Error("ENOSPC");
    this.add(n);
    return { number: n, created: true };
  }

  add(n) {
    super.add(n);
    this.refresh(n >>> 5);
  }

  remove(n) {
    super.remove(n);
    this.refresh(n >>> 5);
  }

  setBound(n) {
    super.setBound(n);
    this.refresh(n >>> 5);
  }
}
