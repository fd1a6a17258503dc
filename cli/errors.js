/**
 * Failures of the command line, and the exit code each one gives.
 *
 * The server names every failure with a kernel errno (problem JSON, DESIGN.md); the CLI keeps
 * that name and maps it to an exit code through the one table below, so scripts can branch on
 * the kind of failure without parsing messages.
 */

/** Exit codes a script can rely on; `loopfs --help` prints the same list. */
export const EXIT = Object.freeze({
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  NO_SPACE: 5,
  AUTH: 6,
  RANGE: 7,
});

/** errno (or pseudo-errno for HTTP authentication) → exit code. Anything else is FAILURE. */
export const EXIT_BY_ERRNO = Object.freeze({
  EUSAGE: EXIT.USAGE,
  EINVAL: EXIT.USAGE,
  EOVERFLOW: EXIT.USAGE,
  ENOENT: EXIT.NOT_FOUND,
  ENODEV: EXIT.NOT_FOUND,
  EBUSY: EXIT.CONFLICT,
  EEXIST: EXIT.CONFLICT,
  ENXIO: EXIT.CONFLICT,
  EROFS: EXIT.CONFLICT,
  ENOSPC: EXIT.NO_SPACE,
  EUNAUTH: EXIT.AUTH,
  EACCES: EXIT.AUTH,
  EPERM: EXIT.AUTH,
  ERANGE: EXIT.RANGE,
});

/** errno the server's HTTP status implies when its body is not problem JSON. */
const ERRNO_BY_STATUS = {
  400: "EINVAL",
  401: "EUNAUTH",
  403: "EACCES",
  404: "ENOENT",
  409: "EBUSY",
  416: "ERANGE",
  507: "ENOSPC",
};

/**
 * @param {number} status
 * @returns {string}
 */
export function errnoForStatus(status) {
  return ERRNO_BY_STATUS[status] ?? (status >= 500 ? "EIO" : "EPROTO");
}

/** A failure with an errno; `status` is set when the server answered it. */
export class CliError extends Error {
  /**
   * @param {string} errno e.g. "ENOENT", or "EUSAGE" for a mistake on the command line
   * @param {string} message
   * @param {{ status?: number, title?: string, extra?: Record<string, unknown> }} [details]
   */
  constructor(errno, message, details = {}) {
    super(message);
    this.name = "CliError";
    this.errno = errno;
    this.status = details.status;
    this.title = details.title;
    this.extra = details.extra ?? {};
  }
}

/** A mistake on the command line: exit 2, printed with a pointer to --help. */
export function usageError(message) {
  return new CliError("EUSAGE", message);
}

/**
 * @param {unknown} err
 * @returns {number}
 */
export function exitCodeFor(err) {
  if (!(err instanceof CliError)) return EXIT.FAILURE;
  if (err.status === 401 || err.status === 403) return EXIT.AUTH;
  return EXIT_BY_ERRNO[err.errno] ?? EXIT.FAILURE;
}

/**
 * The line printed on stderr for a failure: `loopfs: <detail> (<errno>)`.
 * @param {unknown} err
 * @returns {string}
 */
export function formatError(err) {
  if (err instanceof CliError) {
    if (err.errno === "EUSAGE") return `loopfs: ${err.message}\nTry 'loopfs --help'.`;
    return `loopfs: ${err.message} (${err.errno})`;
  }
  if (err instanceof Error) return `loopfs: ${err.message}`;
  return `loopfs: ${String(err)}`;
}
