/**
 * `Content-Range` (RFC 9110 §14.4): read from a partial PUT, written on 206 and 416 answers.
 */

import { LoopError } from "../errors";
import { MAX_BYTE_POS, toBytePos } from "./ranges";

export interface ContentRange {
  start: number;
  /** Inclusive, as in the header. */
  end: number;
  /** The complete length the client states, or null for `*` (unknown). */
  size: number | null;
}

// Content-Range = range-unit SP range-resp; range-resp = incl-range "/" ( complete-length / "*" )
const RANGE_RESP = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\d+)-(\d+)\/(\d+|\*)$/;
const UNSATISFIED_RANGE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ \*\/\d+$/;

/**
 * The byte range a partial PUT writes. Anything but `bytes first-last/length` or
 * `bytes first-last/*` is EINVAL; a position or length past 2^53-1 is EOVERFLOW.
 */
export function parseContentRange(header: string | null): ContentRange {
  if (header === null) {
    throw new LoopError("EINVAL", "A partial PUT needs a Content-Range header");
  }
  const value = header.trim();
  if (UNSATISFIED_RANGE.test(value)) {
    throw new LoopError(
      "EINVAL",
      `Content-Range ${quote(value)} names no bytes; ` +
        "the */length form belongs only in a 416 answer",
    );
  }
  const resp = RANGE_RESP.exec(value);
  if (resp === null) {
    throw new LoopError(
      "EINVAL",
      `Content-Range ${quote(value)} is not of the form ` +
        '"bytes first-last/length" or "bytes first-last/*"',
    );
  }
  if (resp[1].toLowerCase() !== "bytes") {
    throw new LoopError("EINVAL", `Content-Range unit ${quote(resp[1])} is not bytes`);
  }

  const start = toBytePos(resp[2]);
  const end = toBytePos(resp[3]);
  const size = resp[4] === "*" ? null : toBytePos(resp[4]);
  if (start === Infinity || end === Infinity || size === Infinity) {
    throw new LoopError(
      "EOVERFLOW",
      `Content-Range ${quote(value)} has a position or length past ${MAX_BYTE_POS} (2^53-1)`,
    );
  }
  // invalid when last-pos < first-pos or complete-length <= last-pos (RFC 9110 §14.4)
  if (end < start) {
    throw new LoopError("EINVAL", `Content-Range ${quote(value)} ends before it starts`);
  }
  if (size !== null && size <= end) {
    throw new LoopError(
      "EINVAL",
      `Content-Range ${quote(value)} ends at or past its complete length`,
    );
  }
  return { start, end, size };
}

/** A header value for an error message, cut short so a huge header cannot bloat the answer. */
function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
}

/** The `Content-Range` of one part of a 206 answer. */
export function contentRangeHeader(start: number, end: number, size: number): string {
  return `bytes ${start}-${end}/${size}`;
}

/** The `Content-Range` of a 416 answer, telling the client the current size. */
export function unsatisfiedHeader(size: number): string {
  return `bytes */${size}`;
}
