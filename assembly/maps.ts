/**
 * Block map entries: single lookups and batched compare-and-swap.
 *
 * Numbers cross the boundary as f64 (exact up to 2^53) and are u64 inside.
 */
import {
  beginOperation,
  markEntry,
  pageSlot,
  RAISE_DUPLICATE_CHUNK,
  readablePage,
  writableSlot,
} from "./cache";
import { raise } from "./env";
import { ioPtr, PAGE_ENTRIES, PAGE_SHA_OFFSET, PAGE_SHIFT, PARENT_ID, SHA_BYTES } from "./layout";

export const KIND_HOLE: u32 = 0;
export const KIND_STORED: u32 = 1;
export const KIND_PARENT: u32 = 2;

const ENTRY_MASK: u64 = <u64>PAGE_ENTRIES - 1;

function kindOf(id: u64): u32 {
  if (id == 0) return KIND_HOLE;
  return id == PARENT_ID ? KIND_PARENT : KIND_STORED;
}

function idPtr(page: usize, index: u32): usize {
  return page + ((<usize>index) << 3);
}
function shaPtr(page: usize, index: u32): usize {
  return page + PAGE_SHA_OFFSET + <usize>index * SHA_BYTES;
}

/** Entry of one chunk: returns its kind, writes chunk id (f64) and sha at io. */
export function getEntry(imageF: f64, chunkF: f64): u32 {
  beginOperation();
  const chunk = <u64>chunkF;
  const page = readablePage(pageSlot(<u64>imageF, chunk >> PAGE_SHIFT, false));
  const index = <u32>(chunk & ENTRY_MASK);
  const id = load<u64>(idPtr(page, index));
  const kind = kindOf(id);
  store<f64>(ioPtr, kind == KIND_STORED ? <f64>id : 0);
  v128.store(ioPtr, v128.load(shaPtr(page, index)), 8);
  v128.store(ioPtr, v128.load(shaPtr(page, index), 16), 24);
  return kind;
}

/*
 * Compare-and-swap record, 64 bytes, at io + 64 * i:
 *   f64 chunk index │ f64 expected id (-1: none) │ f64 kind │ f64 chunk id │ 32-byte sha
 * On success the kind, id and sha of each record are overwritten with the entry it replaced.
 */
export const CAS_RECORD_BYTES: u32 = 64;

/**
 * Applies `count` updates all or nothing. Returns count on success; on conflict returns -k and
 * writes the k conflicting chunk indexes (f64) after the records, changing no entry.
 */
export function compareAndSwap(imageF: f64, count: u32): i32 {
  beginOperation();
  const image = <u64>imageF;
  const conflicts = ioPtr + <usize>count * CAS_RECORD_BYTES;
  let k: u32 = 0;

  for (let i: u32 = 0; i < count; i++) {
    const rec = ioPtr + <usize>i * CAS_RECORD_BYTES;
    const chunk = <u64>load<f64>(rec);
    const slot = pageSlot(image, chunk >> PAGE_SHIFT, true);
    const index = <u32>(chunk & ENTRY_MASK);
    if (!markEntry(slot, index)) {
      raise(RAISE_DUPLICATE_CHUNK);
      unreachable();
    }
    const expect = load<f64>(rec, 8);
    if (expect < 0) continue;
    const id = load<u64>(idPtr(readablePage(slot), index));
    const current: u64 = id == PARENT_ID ? 0 : id;
    if (current != <u64>expect) {
      store<f64>(conflicts + ((<usize>k) << 3), <f64>chunk);
      k++;
    }
  }
  if (k > 0) return -(<i32>k);

  for (let i: u32 = 0; i < count; i++) {
    const rec = ioPtr + <usize>i * CAS_RECORD_BYTES;
    const chunk = <u64>load<f64>(rec);
    const page = writableSlot(pageSlot(image, chunk >> PAGE_SHIFT, true));
    const index = <u32>(chunk & ENTRY_MASK);

    const kind = <u32>load<f64>(rec, 16);
    const newId: u64 =
      kind == KIND_STORED ? <u64>load<f64>(rec, 24) : kind == KIND_PARENT ? PARENT_ID : 0;
    const oldId = load<u64>(idPtr(page, index));
    store<u64>(idPtr(page, index), newId);

    const digest = shaPtr(page, index);
    const old0 = v128.load(digest);
    const old1 = v128.load(digest, 16);
    if (kind == KIND_STORED) {
      v128.store(digest, v128.load(rec, 32));
      v128.store(digest, v128.load(rec, 48), 16);
    } else {
      v128.store(digest, i64x2.splat(0));
      v128.store(digest, i64x2.splat(0), 16);
    }
    v128.store(rec, old0, 32);
    v128.store(rec, old1, 48);

    const oldKind = kindOf(oldId);
    store<f64>(rec, <f64>chunk);
    store<f64>(rec, -1, 8);
    store<f64>(rec, <f64>oldKind, 16);
    store<f64>(rec, oldKind == KIND_STORED ? <f64>oldId : 0, 24);
  }
  return <i32>count;
}
