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
 * A LoopError on its way back from the tenant Durable Object. It travels as a value, not as a
 * thrown error: the runtime logs every error thrown out of an RPC method as the object's own
 * failure, and a client's mistake (an unknown device, a busy image) is not one. The Worker's
 * tenant client turns it back into a thrown LoopError (src/tenant/client.ts).
 */
export interface RpcFailure {
  loopfsFailure: { errno: Errno; message: string; extra: Record<string, unknown> };
}

export function toRpcFailure(err: LoopError): RpcFailure {
  return { loopfsFailure: { errno: err.errno, message: err.message, extra: err.extra } };
}

export function isRpcFailure(value: unknown): value is RpcFailure {
  return typeof value === "object" && value !== null && "loopfsFailure" in value;
}

export function fromRpcFailure(failure: RpcFailure): LoopError {
  const { errno, message, extra } = failure.loopfsFailure;
  return new LoopError(errno, message, extra);
}
