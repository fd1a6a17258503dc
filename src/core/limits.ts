/**
 * Sizes shared with assembly/layout.ts (the two must agree; the core tests round-trip pages).
 *
 * A map page holds PAGE_ENTRIES entries of ENTRY_BYTES: a u64 chunk id and a SHA-256 digest.
 * 1024 entries make a 40 KiB page: far below the 2,000,000-byte SQLite row cap even dense, one
 * page covers 64 MiB of image at 64 KiB chunks (so a 1 GiB read touches 16 pages), and a commit
 * that changes one chunk rewrites one small row. Pages of an image that are all holes are not
 * stored at all, and pages with few entries are stored sparse.
 */
export const PAGE_ENTRIES = 1024;
export const ENTRY_BYTES = 40;
export const PAGE_BYTES = PAGE_ENTRIES * ENTRY_BYTES;
/** Longest encoded page: 8-byte header and the dense page. */
export const PAGE_ENCODED_MAX = 8 + PAGE_BYTES;

/** Device numbers are 20 bits, as the kernel's minor numbers for loop devices. */
export const MAX_DEVICE_NUMBER = 2 ** 20 - 1;

export const DEFAULT_CACHE_BYTES = 16 * 1024 * 1024;
/** Upper bound on the page cache: the isolate has 128 MB for everything. */
export const MAX_CACHE_BYTES = 64 * 1024 * 1024;
