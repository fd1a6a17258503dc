/**
 * Map pages as the page store keeps them. Every encoded page starts with an 8-byte header:
 *
 *   u8 format │ 3 bytes zero │ u32 count (sparse only)
 *
 * Dense (1): the page as it is in memory, 1024 chunk ids then 1024 digests (40,968 bytes).
 * Sparse (2): `count` records of u32 entry index, u64 chunk id, 32-byte digest, ascending,
 * holes left out; used when shorter, so a page with a few chunks costs a few hundred bytes.
 * Pages read back are checked before use: a hole or parent entry has an all-zero digest and a
 * stored chunk id is at most 2^53-1.
 */
import {
  MAX_STORED_ID,
  PAGE_BYTES,
  PAGE_ENCODED_MAX,
  PAGE_ENTRIES,
  PAGE_HEADER_BYTES,
  PAGE_SHA_OFFSET,
  PARENT_ID,
  SHA_BYTES,
  SPARSE_RECORD_BYTES,
  transferPtr,
} from "./layout";
import { firstNonZeroWord, isZeroRange } from "./zero";

const FORMAT_DENSE: u8 = 1;
const FORMAT_SPARSE: u8 = 2;

function validEntry(id: u64, sha: usize): bool {
  if (id == 0 || id == PARENT_ID) return isZeroRange(sha, SHA_BYTES);
  return id <= MAX_STORED_ID;
}

/** Checks the encoded page of `len` bytes at transfer. */
export function validEncoding(len: i32): bool {
  if (len < <i32>PAGE_HEADER_BYTES || len > <i32>PAGE_ENCODED_MAX) return false;
  const format = load<u8>(transferPtr);
  const body = transferPtr + PAGE_HEADER_BYTES;
  if (format == FORMAT_DENSE) {
    if (len != <i32>PAGE_ENCODED_MAX) return false;
    for (let i: u32 = 0; i < PAGE_ENTRIES; i++) {
      const id = load<u64>(body + ((<usize>i) << 3));
      if (!validEntry(id, body + PAGE_SHA_OFFSET + <usize>i * SHA_BYTES)) return false;
    }
    return true;
  }
  if (format != FORMAT_SPARSE) return false;
  const count = load<u32>(transferPtr, 4);
  if (count > PAGE_ENTRIES || <u32>len != PAGE_HEADER_BYTES + count * SPARSE_RECORD_BYTES) {
    return false;
  }
  let previous: i64 = -1;
  for (let k: u32 = 0; k < count; k++) {
    const rec = body + <usize>k * SPARSE_RECORD_BYTES;
    const index = load<u32>(rec);
    const id = load<u64>(rec, 4);
    if (<i64>index <= previous || index >= PAGE_ENTRIES || id == 0) return false;
    if (!validEntry(id, rec + 12)) return false;
    previous = index;
  }
  return true;
}

/** Fills the page at `page` from the checked encoding of `len` bytes at transfer. */
export function decodePage(page: usize, len: i32): void {
  const body = transferPtr + PAGE_HEADER_BYTES;
  if (load<u8>(transferPtr) == FORMAT_DENSE) {
    memory.copy(page, body, PAGE_BYTES);
    return;
  }
  memory.fill(page, 0, PAGE_BYTES);
  const count = load<u32>(transferPtr, 4);
  for (let k: u32 = 0; k < count; k++) {
    const rec = body + <usize>k * SPARSE_RECORD_BYTES;
    const index = load<u32>(rec);
    store<u64>(page + ((<usize>index) << 3), load<u64>(rec, 4));
    memory.copy(page + PAGE_SHA_OFFSET + <usize>index * SHA_BYTES, rec + 12, SHA_BYTES);
  }
}

/** Encodes the page at `page` at transfer; returns the length, or 0 when it is all holes. */
export function encodePage(page: usize): i32 {
  let count: u32 = 0;
  let i = firstNonZeroWord(page, 0, PAGE_ENTRIES);
  while (i < PAGE_ENTRIES) {
    count++;
    i = firstNonZeroWord(page, i + 1, PAGE_ENTRIES);
  }
  if (count == 0) return 0;

  store<u64>(transferPtr, 0);
  const body = transferPtr + PAGE_HEADER_BYTES;
  const sparseLen = PAGE_HEADER_BYTES + count * SPARSE_RECORD_BYTES;
  if (sparseLen >= PAGE_ENCODED_MAX) {
    store<u8>(transferPtr, FORMAT_DENSE);
    memory.copy(body, page, PAGE_BYTES);
    return <i32>PAGE_ENCODED_MAX;
  }

  store<u8>(transferPtr, FORMAT_SPARSE);
  store<u32>(transferPtr, count, 4);
  let k: u32 = 0;
  i = firstNonZeroWord(page, 0, PAGE_ENTRIES);
  while (i < PAGE_ENTRIES) {
    const rec = body + <usize>k * SPARSE_RECORD_BYTES;
    store<u32>(rec, i);
    store<u64>(rec, load<u64>(page + ((<usize>i) << 3)), 4);
    memory.copy(rec + 12, page + PAGE_SHA_OFFSET + <usize>i * SHA_BYTES, SHA_BYTES);
    k++;
    i = firstNonZeroWord(page, i + 1, PAGE_ENTRIES);
  }
  return <i32>sparseLen;
}
