/**
 * One error class for the whole product. Each failure carries the kernel errno that names the
 * situation; the HTTP layer turns it into problem JSON (RFC 9457) in one place.
 */

export type Errno =
  | "EINVAL"
  | "EOVERFLOW"
  | "EACCES"
  | "EPERM"
  | "ENOENT"
  | "ENODEV"
  | "EEXIST"
  | "EBUSY"
  | "ENXIO"
  | "EROFS"
  | "ERANGE"
  | "ENOSPC"
  | "EAGAIN"
  | "EIO"
  | "EUNAUTH";

/** HTTP status for each errno, as DESIGN.md's table settles it. */
export const ERRNO_STATUS: Record<Errno, number> = {
  EINVAL: 400,
  EOVERFLOW: 400,
  EUNAUTH: 401,
  EACCES: 403,
  EPERM: 403,
  ENOENT: 404,
  ENODEV: 404,
  EEXIST: 409,
  EBUSY: 409,
  ENXIO: 409,
  EROFS: 409,
  ERANGE: 416,
  ENOSPC: 507,
  EAGAIN: 503,
  EIO: 500,
};

export class LoopError extends Error {
  readonly errno: Errno;
  /** Extra problem members, e.g. the device size behind an ERANGE. */
  readonly extra: Record<string, unknown>;

  constructor(errno: Errno, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = "LoopError";
    this.errno = errno;
    this.extra = extra;
  }

  get status(): number {
    return ERRNO_STATUS[this.errno];
  }
}

/**
 * Errors crossing the Durable Object RPC boundary lose their class; this carries the errno
 * over in the message so the Worker can rebuild the LoopError.
 */
export function encodeForRpc(err: LoopError): Error {
  return new Error(`loopfs:${err.errno}:${JSON.stringify(err.extra)}:${err.message}`);
}

export function decodeFromRpc(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const match = /^loopfs:([A-Z]+):(\{.*?\}):([\s\S]*)$/.exec(err.message);
  if (!match || !(match[1] in ERRNO_STATUS)) return err;
  return new LoopError(match[1] as Errno, match[3], JSON.parse(match[2]));
}
