/**
 * Problem details (RFC 9457): every failure leaves the Worker as one of these, built here and
 * nowhere else, with the errno of the kernel situation it corresponds to.
 */
import type { Context } from "hono";
import { LoopError, type Errno } from "../errors";
import { unsatisfiedHeader } from "./content-range";

const TITLES: Record<Errno, string> = {
  EINVAL: "Invalid argument",
  EOVERFLOW: "Value too large",
  EUNAUTH: "Authentication required",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  ENOENT: "No such file or directory",
  ENODEV: "No such device",
  EEXIST: "File exists",
  EBUSY: "Device or resource busy",
  ENXIO: "No such device or address",
  EROFS: "Read-only file system",
  ERANGE: "Range not satisfiable",
  ENOSPC: "No space left on device",
  EAGAIN: "Resource temporarily unavailable",
  EIO: "Input/output error",
};

/** Maps any thrown value to a LoopError; what is not one is an internal fault (EIO). */
export function asLoopError(err: unknown): LoopError {
  if (err instanceof LoopError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new LoopError("EIO", `internal error: ${message}`);
}

export function problemResponse(err: LoopError, instance: string): Response {
  const body = {
    type: `https://loopfs.dev/errno/${err.errno}`,
    title: TITLES[err.errno],
    status: err.status,
    detail: err.message,
    errno: err.errno === "EUNAUTH" ? undefined : err.errno,
    instance,
    ...err.extra,
  };
  const headers = new Headers({ "Content-Type": "application/problem+json" });
  if (err.errno === "ERANGE" && typeof err.extra.size === "number") {
    headers.set("Content-Range", unsatisfiedHeader(err.extra.size));
  }
  if (err.errno === "EUNAUTH") {
    headers.append("WWW-Authenticate", 'Bearer realm="loopfs"');
    headers.append("WWW-Authenticate", 'Basic realm="loopfs"');
  }
  return new Response(JSON.stringify(body), { status: err.status, headers });
}

/** Hono error handler: the one place errors become responses, and get logged. */
export function onError(err: unknown, c: Context): Response {
  const error = asLoopError(err);
  const path = new URL(c.req.url).pathname;
  console.log(
    JSON.stringify({
      level: "error",
      errno: error.errno,
      status: error.status,
      path,
      detail: error.message,
    }),
  );
  return problemResponse(error, path);
}
