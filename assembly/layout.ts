/**
 * Linear memory of one core instance, laid out once by `init` and never freed: the core holds a
 * fixed number of structures, so it needs no allocator (the build uses the stub runtime).
 *
 *   __heap_base
 *   ├─ allocator   exists bitset, bound bitset (2^20 bits each), two summary bitsets
 *   ├─ slot table  per cache slot: image, page, LRU links, pin, state, holes flag, chain link,
 *   │              batch marks;
 *   │              hash buckets
 *   ├─ transfer    one encoded map page on its way in or out (PAGE_ENCODED_MAX bytes)
 *   ├─ holes page  PAGE_BYTES of zeros, read in place of pages the store never held
 *   ├─ pages       the cache slots, PAGE_BYTES each
 *   └─ io          arguments and results of one call; grows with memory at the end
 */

/** Device numbers are 20 bits wide, as the kernel's minor numbers for loop devices. */
export const DEVICE_COUNT: u32 = 1 << 20;
export const BITSET_WORDS: u32 = DEVICE_COUNT / 64;
export const SUMMARY_WORDS: u32 = BITSET_WORDS / 64;

/** Map page: chunk ids first (scanned for holes with v128), then the SHA-256 digests. */
export const PAGE_SHIFT: u64 = 10;
export const PAGE_ENTRIES: u32 = 1 << (<u32>PAGE_SHIFT);
export const ID_BYTES: u32 = 8;
export const SHA_BYTES: u32 = 32;
export const PAGE_SHA_OFFSET: u32 = PAGE_ENTRIES * ID_BYTES;
export const PAGE_BYTES: u32 = PAGE_ENTRIES * (ID_BYTES + SHA_BYTES);
export const PAGE_MARK_BYTES: u32 = PAGE_ENTRIES / 8;

/** Encoded page: 8-byte header, then either the dense page or sparse (index, id, sha) records. */
export const PAGE_HEADER_BYTES: u32 = 8;
export const SPARSE_RECORD_BYTES: u32 = 4 + ID_BYTES + SHA_BYTES;
export const PAGE_ENCODED_MAX: u32 = PAGE_HEADER_BYTES + PAGE_BYTES;

/** In-memory chunk id of an entry that reads "as the parent"; stored ids stop at 2^53-1. */
export const PARENT_ID: u64 = 0xffff_ffff_ffff_ffff;
export const MAX_STORED_ID: u64 = (1 << 53) - 1;

const WASM_PAGE: usize = 65536;
const INITIAL_IO_BYTES: usize = 256 * 1024;

export let existsPtr: usize = 0;
export let boundPtr: usize = 0;
/** Bit w set when exists word w has a zero bit (a free number lies there). */
export let freeSummaryPtr: usize = 0;
/** Bit w set when word w holds an existing, unbound device. */
export let availSummaryPtr: usize = 0;

export let slotCount: i32 = 0;
export let bucketMask: u32 = 0;
export let slotImagePtr: usize = 0;
export let slotPagePtr: usize = 0;
/** Clean slots form a least-recently-used list through these two links (-1 ends it). */
export let slotOlderPtr: usize = 0;
export let slotNewerPtr: usize = 0;
/** 1 while a slot holds a page never stored and not yet written: its bytes are not filled. */
export let slotHolesPtr: usize = 0;
export let slotPinPtr: usize = 0;
export let slotStatePtr: usize = 0;
export let slotNextPtr: usize = 0;
export let freeStackPtr: usize = 0;
/** Per slot, one bit per entry: touched by the current compare-and-swap (finds duplicates). */
export let slotMarksPtr: usize = 0;
export let slotMarkEpochPtr: usize = 0;
export let bucketsPtr: usize = 0;

export let transferPtr: usize = 0;
/** A page of holes that is never written: what a never-stored page reads as. */
export let holesPagePtr: usize = 0;
export let pagesPtr: usize = 0;
export let ioPtr: usize = 0;
export let ioBytes: usize = 0;

function align(n: usize): usize {
  return (n + 15) & ~(<usize>15);
}

function growTo(end: usize): bool {
  const have = <usize>memory.size() * WASM_PAGE;
  if (end <= have) return true;
  const need = <i32>((end - have + WASM_PAGE - 1) / WASM_PAGE);
  return memory.grow(need) >= 0;
}

/** Lays out memory for `slots` cache slots; returns false when memory cannot grow. */
export function layout(slots: i32): bool {
  let at = align(__heap_base);
  existsPtr = at;
  at += BITSET_WORDS * 8;
  boundPtr = at;
  at += BITSET_WORDS * 8;
  freeSummaryPtr = at;
  at += SUMMARY_WORDS * 8;
  availSummaryPtr = at;
  at += SUMMARY_WORDS * 8;

  let buckets: u32 = 16;
  while (buckets < <u32>slots * 2) buckets <<= 1;
  slotCount = slots;
  bucketMask = buckets - 1;
  slotImagePtr = at;
  at = align(at + <usize>slots * 8);
  slotPagePtr = at;
  at = align(at + <usize>slots * 8);
  slotOlderPtr = at;
  at = align(at + <usize>slots * 4);
  slotNewerPtr = at;
  at = align(at + <usize>slots * 4);
  slotHolesPtr = at;
  at = align(at + <usize>slots * 4);
  slotPinPtr = at;
  at = align(at + <usize>slots * 4);
  slotStatePtr = at;
  at = align(at + <usize>slots * 4);
  slotNextPtr = at;
  at = align(at + <usize>slots * 4);
  freeStackPtr = at;
  at = align(at + <usize>slots * 4);
  slotMarksPtr = at;
  at = align(at + <usize>slots * PAGE_MARK_BYTES);
  slotMarkEpochPtr = at;
  at = align(at + <usize>slots * 4);
  bucketsPtr = at;
  at = align(at + <usize>buckets * 4);

  transferPtr = at;
  at = align(at + PAGE_ENCODED_MAX);
  holesPagePtr = at;
  at = align(at + PAGE_BYTES);
  pagesPtr = at;
  at = align(at + <usize>slots * PAGE_BYTES);
  ioPtr = at;
  ioBytes = INITIAL_IO_BYTES;
  return growTo(ioPtr + ioBytes);
}

/** Makes the io area at least `bytes` long; returns false when memory cannot grow. */
export function ensureIo(bytes: usize): bool {
  if (bytes <= ioBytes) return true;
  if (!growTo(ioPtr + bytes)) return false;
  ioBytes = bytes;
  return true;
}
