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

const MAX_BYTES = Number.MAX_SAFE_INTEGER;

/**
 * Where the bytes of a response will start, when that is known before the size: 0 without a
 * Range header, N for a single `bytes=N-` or `bytes=N-M`; null for anything else.
 */
function firstByte(range: string | null): number | null {
  if (range === null) return 0;
  const match = /^\s*bytes\s*=\s*(\d{1,15})\s*-\s*\d*\s*$/i.exec(range);
  return match ? Number(match[1]) : null;
}

export async function serveBytes(c: AppContext, target: Target): Promise<Response> {
  const { stub, caller } = await tenantRoute(c);
  // One call answers the headers and the first window of the bytes, when the Range header
  // says where the bytes start without knowing the size (not a suffix, not several ranges).
  const rangeHeader = c.req.header("Range") ?? null;
  const head = c.req.method === "HEAD";
  const from = head ? null : firstByte(rangeHeader);
  const plan = await stub.resolve(caller, target, from ?? 0, from === null ? 0 : MAX_BYTES);
  const headers = new Headers({
    "Accept-Ranges": "bytes",
    ETag: plan.etag,
    "Content-Type": OCTETS,
    "Loopfs-Block-Size": String(plan.blockSize),
  });
  const stream = (start: number, end: number) =>
    readStream({ env: c.env, stub, caller, target, start, end, first: plan });
  const send = (body: ReadableStream<Uint8Array>, length: number) => {
    const sized = fixedLength(body, length);
    c.set("sent", sized.sent);
    return sized.body;
  };

  const selection =
    rangeHeader !== null && ifRangeMatches(c.req.header("If-Range") ?? null, plan.etag)
      ? parseRange(rangeHeader, plan.size)
      : { kind: "full" as const };

  if (selection.kind === "full") {
    headers.set("Content-Length", String(plan.size));
    const body = head || plan.size === 0 ? null : send(stream(0, plan.size), plan.size);
    return new Response(body, { status: 200, headers });
  }
  const ranges = selection.ranges;
  if (ranges.length === 1) {
    const { start, end } = ranges[0];
    headers.set("Content-Range", contentRangeHeader(start, end, plan.size));
    headers.set("Content-Length", String(end - start + 1));
    const body = head ? null : send(stream(start, end + 1), end - start + 1);
    return new Response(body, { status: 206, headers });
  }
  const multipart = multipartByteranges(ranges, plan.size, OCTETS, async (start, end) =>
    stream(start, end + 1),
  );
  headers.set("Content-Type", `multipart/byteranges; boundary=${multipart.boundary}`);
  headers.set("Content-Length", String(multipart.contentLength));
  const body = head ? null : send(multipart.stream, multipart.contentLength);
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
