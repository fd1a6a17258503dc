/** All-zero test with v128: ORs 64 bytes per step and looks at the result every 1 KiB. */
export function isZeroRange(ptr: usize, len: usize): bool {
  const end = ptr + len;

  while (ptr < end && (ptr & 15) != 0) {
    if (load<u8>(ptr) != 0) return false;
    ptr++;
  }

  while (ptr + 1024 <= end) {
    let acc = i64x2.splat(0);
    for (let at: usize = 0; at < 1024; at += 64) {
      acc = v128.or(acc, v128.or(v128.load(ptr + at), v128.load(ptr + at, 16)));
      acc = v128.or(acc, v128.or(v128.load(ptr + at, 32), v128.load(ptr + at, 48)));
    }
    if (v128.any_true(acc)) return false;
    ptr += 1024;
  }

  while (ptr + 16 <= end) {
    if (v128.any_true(v128.load(ptr))) return false;
    ptr += 16;
  }

  while (ptr < end) {
    if (load<u8>(ptr) != 0) return false;
    ptr++;
  }
  return true;
}

/** Index of the first non-zero u64 in words[from..to), or `to`; words must be 8-byte aligned. */
export function firstNonZeroWord(words: usize, from: u32, to: u32): u32 {
  let i = from;
  while (i < to && (i & 7) != 0) {
    if (load<u64>(words + ((<usize>i) << 3)) != 0) return i;
    i++;
  }
  while (i + 8 <= to) {
    const at = words + ((<usize>i) << 3);
    const acc = v128.or(
      v128.or(v128.load(at), v128.load(at, 16)),
      v128.or(v128.load(at, 32), v128.load(at, 48)),
    );
    if (v128.any_true(acc)) break;
    i += 8;
  }
  while (i < to) {
    if (load<u64>(words + ((<usize>i) << 3)) != 0) return i;
    i++;
  }
  return to;
}
