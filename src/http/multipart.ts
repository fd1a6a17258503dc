/**
 * `multipart/byteranges` bodies (RFC 9110 §14.6) for reads that ask for several ranges.
 *
 * The body is laid out as RFC 2046 §5.1.1 frames it; the CRLF before each later delimiter
 * belongs to the delimiter, not to the part's bytes:
 *
 *   --BOUNDARY CRLF
 *   Content-Type: TYPE CRLF
 *   Content-Range: bytes START-END/SIZE CRLF
 *   CRLF
 *   ...bytes START..END...
 *   CRLF --BOUNDARY CRLF            (next part, same headers)
 *   ...
 *   CRLF --BOUNDARY-- CRLF
 *
 * Every byte but the parts' own is known up front, so the Content-Length is exact before the
 * first part is read. Parts are read one after another, chunk by chunk, as the client pulls.
 */

import { LoopError } from "../errors";
import { contentRangeHeader } from "./content-range";
import type { ByteRange } from "./ranges";

/** Opens the bytes start..end (inclusive) of the representation. */
export type PartSource = (start: number, end: number) => Promise<ReadableStream<Uint8Array>>;

export interface MultipartByteranges {
  /** Goes into `Content-Type: multipart/byteranges; boundary=...`. */
  boundary: string;
  contentLength: number;
  stream: ReadableStream<Uint8Array>;
}

// 128 random bits: a client cannot predict the boundary, so stored bytes cannot forge a part
const BOUNDARY_RANDOM_BYTES = 16;

const encoder = new TextEncoder();

export function multipartByteranges(
  parts: ByteRange[],
  size: number,
  contentType: string,
  body: PartSource,
): MultipartByteranges {
  checkParts(parts, size, contentType);
  const boundary = randomBoundary();
  const heads = parts.map((part, index) =>
    encoder.encode(partHead(boundary, index === 0, contentType, part, size)),
  );
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);

  // Partial sums are exact up to 2^53-1 and, growing, never fall back once past it, so the
  // check below catches any sum a double cannot hold.
  let contentLength = tail.byteLength;
  for (let i = 0; i < parts.length; i++) {
    contentLength += heads[i].byteLength + (parts[i].end - parts[i].start + 1);
  }
  if (!Number.isSafeInteger(contentLength)) {
    // several ranges of a huge representation; only the whole of it, or fewer ranges, can go
    throw new LoopError("ERANGE", "the ranges asked for add up to more than 2^53-1 bytes", {
      size,
    });
  }

  let index = 0;
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  let remaining = 0;

  const stream = new ReadableStream<Uint8Array>(
    {
      // Each pull enqueues exactly one chunk (or closes), so no part is read ahead of demand.
      async pull(controller) {
        for (;;) {
          if (reader === null) {
            if (index === parts.length) {
              controller.enqueue(tail);
              controller.close();
              return;
            }
            const part = parts[index];
            reader = (await body(part.start, part.end)).getReader();
            remaining = part.end - part.start + 1;
            controller.enqueue(heads[index]);
            return;
          }

          const { done, value } = await reader.read();
          if (done) {
            if (remaining !== 0) throw shortPart(parts[index], remaining);
            reader = null;
            index++;
            continue;
          }
          if (value.byteLength > remaining) {
            await reader.cancel();
            throw longPart(parts[index]);
          }
          if (value.byteLength === 0) continue;
          remaining -= value.byteLength;
          controller.enqueue(value);
          return;
        }
      },
      async cancel(reason) {
        await reader?.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );

  return { boundary, contentLength, stream };
}

function partHead(
  boundary: string,
  first: boolean,
  contentType: string,
  part: ByteRange,
  size: number,
): string {
  return (
    `${first ? "" : "\r\n"}--${boundary}\r\n` +
    `Content-Type: ${contentType}\r\n` +
    `Content-Range: ${contentRangeHeader(part.start, part.end, size)}\r\n\r\n`
  );
}

function randomBoundary(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(BOUNDARY_RANDOM_BYTES));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function checkParts(parts: ByteRange[], size: number, contentType: string): void {
  // RFC 2046 §5.1.1: a multipart body has at least one part
  if (parts.length === 0) {
    throw new LoopError("EINVAL", "multipart/byteranges needs at least one part");
  }
  for (const { start, end } of parts) {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0) {
      throw new LoopError("EINVAL", `part ${start}-${end} is not a byte range`);
    }
    if (end < start || end >= size) {
      throw new LoopError("EINVAL", `part ${start}-${end} lies outside ${size} bytes`);
    }
  }
  // a line break would end the part header early and let the type forge headers
  if (/[\r\n]/.test(contentType)) {
    throw new LoopError("EINVAL", "part Content-Type contains a line break");
  }
}

// The store answered a different length than asked: the Content-Length already sent is
// now wrong, so the stream must fail rather than end looking complete.
function shortPart(part: ByteRange, missing: number): LoopError {
  return new LoopError("EIO", `part ${part.start}-${part.end} ended ${missing} bytes early`);
}

function longPart(part: ByteRange): LoopError {
  return new LoopError("EIO", `part ${part.start}-${part.end} delivered more bytes than asked`);
}
