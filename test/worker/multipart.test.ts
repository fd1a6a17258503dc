import { describe, expect, it } from "vitest";
import { multipartByteranges } from "../../src/http/multipart";
import { MAX, loopErrorOf } from "./range-helpers";

function representation(size: number, chunkSize = 5) {
  const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 7 + 3) & 0xff);
  const opened: string[] = [];
  const cancelled: string[] = [];
  const body = async (start: number, end: number) => {
    opened.push(`${start}-${end}`);
    let at = start;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at > end) return controller.close();
        const stop = Math.min(at + chunkSize, end + 1);
        controller.enqueue(bytes.slice(at, stop));
        at = stop;
      },
      cancel() {
        cancelled.push(`${start}-${end}`);
      },
    });
  };
  return { bytes, body, opened, cancelled };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

interface ParsedPart {
  headers: Record<string, string>;
  bytes: Uint8Array;
}

/** A plain RFC 2046 reader: finds delimiters by searching, not by trusting Content-Range. */
function parseMultipart(body: Uint8Array, boundary: string): ParsedPart[] {
  const opening = ascii(`--${boundary}\r\n`);
  expect(Array.from(body.slice(0, opening.length))).toEqual(Array.from(opening));
  const delimiter = ascii(`\r\n--${boundary}`);
  const parts: ParsedPart[] = [];
  let at = opening.length;
  for (;;) {
    const headEnd = indexOf(body, ascii("\r\n\r\n"), at);
    expect(headEnd).toBeGreaterThanOrEqual(0);
    const headers: Record<string, string> = {};
    for (const line of String.fromCharCode(...body.slice(at, headEnd)).split("\r\n")) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const next = indexOf(body, delimiter, headEnd + 4);
    expect(next).toBeGreaterThanOrEqual(0);
    parts.push({ headers, bytes: body.slice(headEnd + 4, next) });
    at = next + delimiter.length;
    const rest = String.fromCharCode(...body.slice(at, at + 2));
    if (rest === "--") {
      expect(String.fromCharCode(...body.slice(at))).toBe("--\r\n");
      return parts;
    }
    expect(rest).toBe("\r\n");
    at += 2;
  }
}

describe("multipartByteranges", () => {
  it("writes the exact RFC 9110 layout for two parts", async () => {
    const { body } = representation(16);
    const result = multipartByteranges(
      [
        { start: 0, end: 1 },
        { start: 14, end: 15 },
      ],
      16,
      "application/octet-stream",
      body,
    );
    const out = await readAll(result.stream);
    const b = result.boundary;
    const expected = [
      ascii(`--${b}\r\nContent-Type: application/octet-stream\r\n`),
      ascii(`Content-Range: bytes 0-1/16\r\n\r\n`),
      Uint8Array.of(3, 10),
      ascii(`\r\n--${b}\r\nContent-Type: application/octet-stream\r\n`),
      ascii(`Content-Range: bytes 14-15/16\r\n\r\n`),
      Uint8Array.of((14 * 7 + 3) & 0xff, (15 * 7 + 3) & 0xff),
      ascii(`\r\n--${b}--\r\n`),
    ].flatMap((part) => Array.from(part));
    expect(Array.from(out)).toEqual(expected);
    expect(result.contentLength).toBe(expected.length);
  });

  it("streams parts that parse back byte for byte, with a Content-Length equal to the bytes sent", async () => {
    const size = 4096;
    const { bytes, body } = representation(size, 300);
    const parts = [
      { start: 0, end: 0 },
      { start: 100, end: 1099 },
      { start: 500, end: 700 },
      { start: 4095, end: 4095 },
      { start: 0, end: 4095 },
    ];
    const result = multipartByteranges(parts, size, "application/x-raw-disk-image", body);
    const out = await readAll(result.stream);
    expect(out.byteLength).toBe(result.contentLength);

    const parsed = parseMultipart(out, result.boundary);
    expect(parsed.map((p) => p.headers)).toEqual(
      parts.map(({ start, end }) => ({
        "content-type": "application/x-raw-disk-image",
        "content-range": `bytes ${start}-${end}/${size}`,
      })),
    );
    parsed.forEach((p, i) => {
      expect(Array.from(p.bytes)).toEqual(
        Array.from(bytes.slice(parts[i].start, parts[i].end + 1)),
      );
    });
  });

  it("frames the single byte of a one-byte representation", async () => {
    const { body } = representation(1);
    const result = multipartByteranges([{ start: 0, end: 0 }], 1, "text/plain", body);
    const out = await readAll(result.stream);
    expect(out.byteLength).toBe(result.contentLength);
    const parsed = parseMultipart(out, result.boundary);
    expect(parsed.map((p) => Array.from(p.bytes))).toEqual([[3]]);
    expect(parsed[0].headers["content-range"]).toBe("bytes 0-0/1");
  });

  it("counts Content-Length for parts near 2^53-1 without reading them", () => {
    const { body, opened } = representation(0);
    const result = multipartByteranges(
      [
        { start: 0, end: 0 },
        { start: MAX - 2, end: MAX - 1 },
      ],
      MAX,
      "application/octet-stream",
      body,
    );
    const heads =
      `--${result.boundary}\r\nContent-Type: application/octet-stream\r\n` +
      `Content-Range: bytes 0-0/${MAX}\r\n\r\n` +
      `\r\n--${result.boundary}\r\nContent-Type: application/octet-stream\r\n` +
      `Content-Range: bytes ${MAX - 2}-${MAX - 1}/${MAX}\r\n\r\n` +
      `\r\n--${result.boundary}--\r\n`;
    expect(result.contentLength).toBe(heads.length + 3);
    expect(opened).toEqual([]);
  });

  it("refuses with ERANGE ranges whose body would pass 2^53-1 bytes", () => {
    const { body } = representation(0);
    const whole = { start: 0, end: MAX - 1 };
    const err = loopErrorOf(() => multipartByteranges([whole, whole], MAX, "text/plain", body));
    expect([err.errno, err.extra]).toEqual(["ERANGE", { size: MAX }]);
  });

  it("opens each part only when the reader reaches it", async () => {
    const { body, opened } = representation(64, 4);
    const result = multipartByteranges(
      [
        { start: 0, end: 15 },
        { start: 32, end: 47 },
      ],
      64,
      "application/octet-stream",
      body,
    );
    const reader = result.stream.getReader();
    await reader.read(); // first part's header
    await reader.read(); // its first 4 bytes
    expect(opened).toEqual(["0-15"]);
    for (let i = 0; i < 4; i++) await reader.read(); // rest of part one, then part two's header
    expect(opened).toEqual(["0-15", "32-47"]);
    await reader.cancel();
  });

  it("cancels the part being read when the client goes away", async () => {
    const { body, cancelled } = representation(64, 4);
    const result = multipartByteranges([{ start: 0, end: 63 }], 64, "text/plain", body);
    const reader = result.stream.getReader();
    await reader.read();
    await reader.read();
    await reader.cancel("client closed");
    expect(cancelled).toEqual(["0-63"]);
  });

  it("uses a fresh 32-hex-digit boundary each time", () => {
    const { body } = representation(8);
    const a = multipartByteranges([{ start: 0, end: 0 }], 8, "text/plain", body).boundary;
    const b = multipartByteranges([{ start: 0, end: 0 }], 8, "text/plain", body).boundary;
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(b).toMatch(/^[0-9a-f]{32}$/);
    expect(a).not.toBe(b);
  });

  it("fails the stream with EIO when a part ends early or runs long", async () => {
    const short = multipartByteranges([{ start: 0, end: 9 }], 10, "text/plain", async () =>
      new Blob([new Uint8Array(4)]).stream(),
    );
    await expect(readAll(short.stream)).rejects.toMatchObject({
      errno: "EIO",
      message: "part 0-9 ended 6 bytes early",
    });

    const long = multipartByteranges([{ start: 0, end: 3 }], 10, "text/plain", async () =>
      new Blob([new Uint8Array(5)]).stream(),
    );
    await expect(readAll(long.stream)).rejects.toMatchObject({ errno: "EIO" });
  });

  it("refuses no parts, parts outside the size and a content type with a line break", () => {
    const { body } = representation(8);
    expect(loopErrorOf(() => multipartByteranges([], 8, "text/plain", body)).errno).toBe("EINVAL");
    expect(
      loopErrorOf(() => multipartByteranges([{ start: 0, end: 8 }], 8, "text/plain", body)).errno,
    ).toBe("EINVAL");
    expect(
      loopErrorOf(() => multipartByteranges([{ start: 3, end: 2 }], 8, "text/plain", body)).errno,
    ).toBe("EINVAL");
    expect(
      loopErrorOf(() =>
        multipartByteranges([{ start: 0, end: 0 }], 8, "text/plain\r\nX-Evil: 1", body),
      ).errno,
    ).toBe("EINVAL");
  });
});
