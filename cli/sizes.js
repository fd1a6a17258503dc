/**
 * Byte counts as people type them and as the CLI prints them.
 *
 * Parsing follows util-linux (the parser behind `losetup --offset 1MiB`): a number, then an
 * optional unit letter K M G T P, where the bare letter and the `iB` form are powers of 1024 and
 * the `B` form (KB, MB, ...) is a power of 1000. Numbers may be written in hex with `0x`.
 */

import { CliError } from "./errors.js";

/** Largest byte count the API carries: JSON numbers are exact up to 2^53 - 1. */
export const MAX_BYTES = Number.MAX_SAFE_INTEGER;

const UNIT_EXPONENT = { K: 1, M: 2, G: 3, T: 4, P: 5 };
const SIZE_PATTERN = /^(0x[0-9a-f]+|\d+)(?:([kmgtp])(ib|b)?)?$/i;

/**
 * Parses a byte count such as `4096`, `64KiB`, `1M`, `10GB` or `0x200`.
 * @param {string} text
 * @param {string} [what] names the option in the error message
 * @returns {number}
 */
export function parseSize(text, what = "size") {
  const match = SIZE_PATTERN.exec(String(text).trim());
  if (!match) throw new CliError("EINVAL", `invalid ${what}: '${text}'`);

  const [, digits, unit, form] = match;
  let value = BigInt(digits);
  if (unit) {
    const base = form && form.toLowerCase() === "b" ? 1000n : 1024n;
    value *= base ** BigInt(UNIT_EXPONENT[unit.toUpperCase()]);
  }
  if (value > BigInt(MAX_BYTES)) {
    throw new CliError("EOVERFLOW", `${what} '${text}' is larger than 2^53 - 1 bytes`);
  }
  return Number(value);
}

/**
 * Parses a plain non-negative integer (a count or a number of seconds, no units).
 * @param {string} text
 * @param {string} what
 * @returns {number}
 */
export function parseCount(text, what) {
  if (!/^\d+$/.test(String(text).trim()))
    throw new CliError("EINVAL", `invalid ${what}: '${text}'`);
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    throw new CliError("EOVERFLOW", `${what} '${text}' is too large`);
  return value;
}

const BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/**
 * Formats a byte count for people: `512 B`, `1.5 MiB`, `10.0 GiB`.
 * @param {number} bytes
 * @returns {string}
 */
export function formatBytes(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${bytes} B`;
  return `${value.toFixed(1)} ${BINARY_UNITS[unit]}`;
}
