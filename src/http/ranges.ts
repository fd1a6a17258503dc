/**
 * Byte ranges of a read request (RFC 9110 §14): the `Range` header and its `If-Range` guard.
 *
 * Pure functions. A header the server may ignore (another unit, bad syntax) means "send the
 * whole representation"; a valid header that selects no byte is ERANGE, which the HTTP layer
 * answers with 416 and `Content-Range: bytes *\/SIZE`.
 */

import { LoopError } from "../errors";

/**
 * Most range-specs one request may ask for. Each range costs a part header, a store lookup
 * and a stream of its own, and ranges may overlap, so an unbounded list would let one small
 * request cost many times the representation (RFC 9110 §14.2 lets a server refuse such sets).
 */
export const MAX_RANGES = 16;

/** Largest byte position: byte counts in loopfs stay within 0..2^53-1. */
export const MAX_BYTE_POS = Number.MAX_SAFE_INTEGER;

export interface ByteRange {
  start: number;
  /** Inclusive, as in the header. */
  end: number;
}

export type RangeSelection = { kind: "full" } | { kind: "ranges"; ranges: ByteRange[] };

export interface ParseRangeOptions {
  maxRanges?: number;
}

/** A range-spec as written, before it meets the representation's size. */
type RangeSpec =
  { form: "int"; first: string; last: string | null } | { form: "suffix"; length: string };

const FULL: RangeSelection = { kind: "full" };

// int-range = first-pos "-" [ last-pos ]; suffix-range = "-" suffix-length (RFC 9110 §14.1.2)
const INT_RANGE = /^(\d+)-(\d*)$/;
const SUFFIX_RANGE = /^-(\d+)$/;
// range-unit is a token; the unit is compared case-insensitively (RFC 9110 §14.1)
const RANGES_SPECIFIER = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)=(.*)$/s;

/**
 * Selects the bytes a `Range` header asks for out of a representation of `size` bytes.
 * Ranges are answered as asked, in order, without coalescing; unsatisfiable specs among
 * satisfiable ones are dropped (RFC 9110 §14.1.2).
 */
export function parseRange(
  header: string | null,
  size: number,
  options: ParseRangeOptions = {},
): RangeSelection {
  if (header === null) return FULL;
  const specs = parseRangesSpecifier(header.trim());
  if (specs === null) return FULL;

  const maxRanges = options.maxRanges ?? MAX_RANGES;
  if (specs.length > maxRanges) {
    throw new LoopError(
      "ERANGE",
      `Range asks for ${specs.length} ranges; at most ${maxRanges} are served per request`,
      { size },
    );
  }

  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const range = satisfy(spec, size);
    if (range !== null) ranges.push(range);
  }
  if (ranges.length === 0) {
    throw new LoopError("ERANGE", `Range selects no byte of a ${size}-byte representation`, {
      size,
    });
  }
  return { kind: "ranges", ranges };
}

/**
 * Whether a range request may be answered partially under its `If-Range` header
 * (RFC 9110 §13.1.5). Only a strong entity-tag identical to the current one matches: a weak
 * tag never does, and neither does an HTTP-date, as loopfs sends no Last-Modified to
 * compare with. The caller applies this only when a `Range` header is present.
 */
export function ifRangeMatches(ifRange: string | null, etag: string): boolean {
  if (ifRange === null) return true;
  const validator = ifRange.trim();
  return isStrongEntityTag(validator) && validator === etag;
}

// opaque-tag = DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3)
function isStrongEntityTag(value: string): boolean {
  return /^"[\x21\x23-\x7e\x80-\xff]*"$/.test(value);
}

/** The range-specs of a `bytes` ranges-specifier, or null when the header is to be ignored. */
function parseRangesSpecifier(value: string): RangeSpec[] | null {
  const specifier = RANGES_SPECIFIER.exec(value);
  if (specifier === null || specifier[1].toLowerCase() !== "bytes") return null;

  const specs: RangeSpec[] = [];
  // list elements are separated by OWS "," OWS; empty elements are ignored (RFC 9110 §5.6.1)
  for (const item of specifier[2].split(",")) {
    const element = trimOws(item);
    if (element === "") continue;
    const spec = parseRangeSpec(element);
    if (spec === null) return null;
    specs.push(spec);
  }
  return specs.length > 0 ? specs : null;
}

// A loop rather than a regular expression: /[ \t]+$/ backtracks quadratically on long runs.
function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

function parseRangeSpec(element: string): RangeSpec | null {
  const int = INT_RANGE.exec(element);
  if (int !== null) {
    const last = int[2] === "" ? null : int[2];
    // a last-pos below its first-pos makes the whole specifier invalid (RFC 9110 §14.1.1)
    if (last !== null && compareDigits(last, int[1]) < 0) return null;
    return { form: "int", first: int[1], last };
  }
  const suffix = SUFFIX_RANGE.exec(element);
  if (suffix !== null) return { form: "suffix", length: suffix[1] };
  return null;
}

/** The bytes a spec selects from `size` bytes, or null when it selects none. */
function satisfy(spec: RangeSpec, size: number): ByteRange | null {
  if (spec.form === "suffix") {
    const length = Math.min(toBytePos(spec.length), size);
    return length > 0 ? { start: size - length, end: size - 1 } : null;
  }

  // a first-pos past 2^53-1 becomes Infinity, which no size reaches: unsatisfiable
  const start = toBytePos(spec.first);
  if (start >= size) return null;
  const end = spec.last === null ? size - 1 : Math.min(toBytePos(spec.last), size - 1);
  return { start, end };
}

/** A run of digits as a number, or Infinity when it lies past 2^53-1. */
export function toBytePos(digits: string): number {
  const value = Number(digits);
  return value > MAX_BYTE_POS ? Infinity : value;
}

/** Compares two runs of digits exactly, whatever their length or leading zeros. */
function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, "");
  const y = b.replace(/^0+(?=\d)/, "");
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}
