/**
 * Progress of a transfer on stderr: a bar redrawn in place on a terminal, a plain line now and
 * then otherwise (CI logs, pipes), so logs stay readable and results on stdout stay clean.
 */

import { formatBytes } from "./sizes.js";

const BAR_WIDTH = 24;
/** Redraws on a terminal at most this often; the eye sees no more. */
const TTY_INTERVAL_MS = 100;
/** Plain lines at most this often, so a long push does not flood a log. */
const LOG_INTERVAL_MS = 5000;

/**
 * One progress line, e.g. `push disk.img [#########...............]  38%  12.0 MiB / 32.0 MiB
 * 4.0 MiB/s`. The bar is left out when `bar` is false.
 * @param {{ label: string, done: number, total: number, elapsedMs: number, bar?: boolean }} state
 * @returns {string}
 */
export function formatProgress({ label, done, total, elapsedMs, bar = true }) {
  const fraction = total > 0 ? Math.min(done / total, 1) : 1;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const rate = elapsedMs > 0 ? (done / elapsedMs) * 1000 : 0;
  const amounts = `${formatBytes(done)} / ${formatBytes(total)}  ${formatBytes(Math.round(rate))}/s`;
  if (!bar) return `${label} ${percent}  ${amounts}`;
  const filled = Math.round(fraction * BAR_WIDTH);
  return `${label} [${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${percent}  ${amounts}`;
}

/**
 * @typedef {object} Progress
 * @property {(bytes: number) => void} advance  count bytes as done
 * @property {(message: string) => void} note   print a line without breaking the bar
 * @property {() => void} finish                draw the final state and end the line
 */

/**
 * @param {{ label: string, total: number, stream: NodeJS.WritableStream & { isTTY?: boolean }, now?: () => number }} options
 * @returns {Progress}
 */
export function createProgress({ label, total, stream, now = Date.now }) {
  const tty = Boolean(stream.isTTY);
  const started = now();
  let done = 0;
  let lastDraw = -Infinity;
  let drawn = false;
  /** Bytes done at the last plain line, so finish does not repeat an identical one. */
  let loggedDone = -1;

  function line() {
    return formatProgress({ label, done, total, elapsedMs: now() - started, bar: tty });
  }

  function draw(force) {
    const t = now();
    if (!force && t - lastDraw < (tty ? TTY_INTERVAL_MS : LOG_INTERVAL_MS)) return;
    lastDraw = t;
    if (tty) {
      stream.write(`\r${line()}\x1b[K`);
      drawn = true;
    } else if (done !== loggedDone) {
      loggedDone = done;
      stream.write(`${line()}\n`);
    }
  }

  return {
    advance(bytes) {
      done += bytes;
      draw(false);
    },
    note(message) {
      if (tty && drawn) stream.write("\r\x1b[K");
      stream.write(`${message}\n`);
      if (tty && drawn) draw(true);
    },
    finish() {
      draw(true);
      if (tty) stream.write("\n");
    },
  };
}
