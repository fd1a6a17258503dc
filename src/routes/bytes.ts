/**
 * Reading and writing the bytes of a device or an image over HTTP: RFC 9110 ranges on GET and
 * HEAD (single, open-ended, suffix, several as multipart/byteranges, If-Range), and partial PUT
 * with Content-Range. Both stream; neither holds a whole request in memory.
 */
import { LoopError } from "../errors";
import { parseContentRange, contentRangeHeader } from "../http/content-range";
import { fixedLength } from "../http/fixed-length";
import { multipartByteranges } from "../http/multipart";
import { ifRangeMatches, parseRange } from "../http/ranges";
import { readStream } from "../store/read-stream";
import { writeRange } from "../store/write";
import type { Target } from "../tenant/types";
import { tenantRoute, type AppContext } from "./context";

const OCTETS = "application/octet-stream";

export async function serveBytes(c: AppContext, target: Target): Promise<Response> {
  const { stub, caller } = await tenantRoute(c);
  const plan = await stub.resolve(caller, target, 0, 0);
  const headers = new Headers({
    "Accept-Ranges": "bytes",
    ETag: plan.etag,
    "Content-Type": OCTETS,
    "Loopfs-Block-Size": String(plan.blockSize),
  });
  const head = c.req.method === "HEAD";
  const stream = (start: number, end: number) =>
    readStream({ env: c.env, stub, caller, target, start, end });

  const rangeHeader = c.req.header("Range") ?? null;
  const selection =
    rangeHeader !== null && ifRangeMatches(c.req.header("If-Range") ?? null, plan.etag)
      ? parseRange(rangeHeader, plan.size)
      : { kind: "full" as const };

  if (selection.kind === "full") {
    headers.set("Content-Length", String(plan.size));
    const body = head || plan.size === 0 ? null : fixedLength(stream(0, plan.size), plan.size);
    return new Response(body, { status: 200, headers });
  }
  const ranges = selection.ranges;
  if (ranges.length === 1) {
    const { start, end } = ranges[0];
    headers.set("Content-Range", contentRangeHeader(start, end, plan.size));
    headers.set("Content-Length", String(end - start + 1));
    const body = head ? null : fixedLength(stream(start, end + 1), end - start + 1);
    return new Response(body, { status: 206, headers });
  }
  const multipart = multipartByteranges(ranges, plan.size, OCTETS, async (start, end) =>
    stream(start, end + 1),
  );
  headers.set("Content-Type", `multipart/byteranges; boundary=${multipart.boundary}`);
  headers.set("Content-Length", String(multipart.contentLength));
  const body = head ? null : fixedLength(multipart.stream, multipart.contentLength);
  if (head) await multipart.stream.cancel();
  return new Response(body, { status: 206, headers });
}

/** Partial PUT: the body must be exactly the Content-Range's length. */
export async function acceptWrite(c: AppContext, target: Target): Promise<Response> {
  const { stub, caller } = await tenantRoute(c);
  const range = parseContentRange(c.req.header("Content-Range") ?? null);
  const length = range.end - range.start + 1;
  const declared = c.req.header("Content-Length");
  if (declared !== undefined && Number(declared) !== length) {
    throw new LoopError(
      "EINVAL",
      `Content-Length ${declared} does not match the ${length} bytes of Content-Range`,
    );
  }
  const body = c.req.raw.body;
  if (!body) throw new LoopError("EINVAL", "a write needs a body");
  await writeRange({ env: c.env, stub, caller, target, start: range.start, length, body });
  return c.body(null, 204);
}
