import { describe, expect, it } from "vitest";
import { LoopError } from "../../src/errors";
import { MAX_RANGES, ifRangeMatches, parseRange } from "../../src/http/ranges";
import {
  contentRangeHeader,
  parseContentRange,
  unsatisfiedHeader,
} from "../../src/http/content-range";
import { multipartByteranges } from "../../src/http/multipart";

const MAX = Number.MAX_SAFE_INTEGER; // 2^53-1

/** Runs `fn` and returns the LoopError it throws, failing the test if it throws nothing. */
function loopErrorOf(fn: () => unknown): LoopError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LoopError);
    return err as LoopError;
  }
  throw new Error("expected a LoopError, nothing was thrown");
}

describe("parseRange", () => {
  it("answers the whole representation when there is no Range header", () => {
    expect(parseRange(null, 512)).toEqual({ kind: "full" });
  });

  it("selects first-last, first- and -suffix forms", () => {
    expect(parseRange("bytes=0-0", 512)).toEqual({
      kind: "ranges",
      ranges: [{ start: 0, end: 0 }],
    });
    expect(parseRange("bytes=100-199", 512)).toEqual({
      kind: "ranges",
      ranges: [{ start: 100, end: 199 }],
    });
    expect(parseRange("bytes=500-", 512)).toEqual({
      kind: "ranges",
      ranges: [{ start: 500, end: 511 }],
    });
    expect(parseRange("bytes=-100", 512)).toEqual({
      kind: "ranges",
      ranges: [{ start: 412, end: 511 }],
    });
  });

  it("clips a last-pos past the end and takes the whole for a suffix longer than the size", () => {
    expect(parseRange("bytes=10-100000", 512)).toEqual({
      kind: "ranges",
      ranges: [{ start: 10, end: 511 }],
    });
    expect(parseRange("bytes=-1000", 512)).toEqual({
      kind: "ranges",
      ranges: [{ start: 0, end: 511 }],
    });
  });

  it("reads the unit case-insensitively and numbers with leading zeros", () => {
    expect(parseRange("BYTES=0005-0010", 512)).toEqual({
      kind: "ranges",
      ranges: [{ start: 5, end: 10 }],
    });
    expect(parseRange("Bytes=-0001", 512)).toEqual({
      kind: "ranges",
      ranges: [{ start: 511, end: 511 }],
    });
  });

  it("answers several ranges as asked, in order, overlapping or not, around OWS and empty elements", () => {
    expect(parseRange("bytes=10-20 ,\t0-15,, 10-20,-2", 512)).toEqual({
      kind: "ranges",
      ranges: [
        { start: 10, end: 20 },
        { start: 0, end: 15 },
        { start: 10, end: 20 },
        { start: 510, end: 511 },
      ],
    });
  });

  it("drops unsatisfiable ranges when at least one is satisfiable", () => {
    expect(parseRange("bytes=600-700, 0-1, -0", 512)).toEqual({
      kind: "ranges",
      ranges: [{ start: 0, end: 1 }],
    });
  });

  it("ignores other units and syntactically invalid headers", () => {
    for (const header of [
      "items=0-1",
      "bytes=5-2",
      "bytes=010-9",
      "bytes=",
      "bytes=,",
      "bytes",
      "bytes=abc",
      "bytes=1-2-3",
      "bytes = 0-1",
      "bytes=0 -1",
      "bytes=-",
      "bytes=0-1;x",
      "bytes=+1-2",
      "bytes=0x10-",
      "bytes=0-1, 5-2",
      "bytes=0-1, bytes=2-3",
      "=0-1",
    ]) {
      expect([header, parseRange(header, 512)]).toEqual([header, { kind: "full" }]);
    }
  });

  it("ignores a 100,000-space header in linear time", () => {
    const began = Date.now();
    expect(parseRange(`bytes=0${" ".repeat(100_000)}x`, 512)).toEqual({ kind: "full" });
    expect(parseRange(`bytes=0-1${" ".repeat(100_000)},2-3`, 512)).toEqual({
      kind: "ranges",
      ranges: [
        { start: 0, end: 1 },
        { start: 2, end: 3 },
      ],
    });
    // a backtracking separator took about 10 s here
    expect(Date.now() - began).toBeLessThan(1000);
  });

  it("rejects a range that starts at or past the end with ERANGE carrying the size", () => {
    const err = loopErrorOf(() => parseRange("bytes=512-", 512));
    expect(err.errno).toBe("ERANGE");
    expect(err.status).toBe(416);
    expect(err.extra).toEqual({ size: 512 });
    expect(loopErrorOf(() => parseRange("bytes=600-700,1000-", 512)).errno).toBe("ERANGE");
  });

  it("rejects a zero-length suffix with ERANGE", () => {
    expect(loopErrorOf(() => parseRange("bytes=-0", 512)).errno).toBe("ERANGE");
  });

  it("rejects every byte range of an empty representation, and still ignores other headers", () => {
    for (const header of ["bytes=0-", "bytes=0-0", "bytes=-5"]) {
      const err = loopErrorOf(() => parseRange(header, 0));
      expect([header, err.errno, err.extra]).toEqual([header, "ERANGE", { size: 0 }]);
    }
    expect(parseRange(null, 0)).toEqual({ kind: "full" });
    expect(parseRange("items=0-1", 0)).toEqual({ kind: "full" });
  });

  it("selects the single byte of a one-byte representation", () => {
    const only = { kind: "ranges", ranges: [{ start: 0, end: 0 }] };
    expect(parseRange("bytes=0-", 1)).toEqual(only);
    expect(parseRange("bytes=0-5", 1)).toEqual(only);
    expect(parseRange("bytes=-1", 1)).toEqual(only);
    expect(parseRange("bytes=-9", 1)).toEqual(only);
    expect(loopErrorOf(() => parseRange("bytes=1-", 1)).extra).toEqual({ size: 1 });
  });

  it("handles a representation of 2^53-1 bytes at its last byte", () => {
    const last = { kind: "ranges", ranges: [{ start: MAX - 1, end: MAX - 1 }] };
    expect(parseRange(`bytes=${MAX - 1}-`, MAX)).toEqual(last);
    expect(parseRange("bytes=-1", MAX)).toEqual(last);
    expect(loopErrorOf(() => parseRange(`bytes=${MAX}-`, MAX)).errno).toBe("ERANGE");
  });

  it("clips a last-pos or suffix past 2^53-1 and treats such a first-pos as unsatisfiable", () => {
    const huge = "99999999999999999999999999";
    expect(parseRange(`bytes=0-${huge}`, MAX)).toEqual({
      kind: "ranges",
      ranges: [{ start: 0, end: MAX - 1 }],
    });
    expect(parseRange(`bytes=-${huge}`, 512)).toEqual({
      kind: "ranges",
      ranges: [{ start: 0, end: 511 }],
    });
    expect(loopErrorOf(() => parseRange(`bytes=${huge}-`, MAX)).errno).toBe("ERANGE");
    expect(loopErrorOf(() => parseRange("bytes=9007199254740992-", MAX)).errno).toBe("ERANGE");
    expect(parseRange(`bytes=${huge}-, 0-0`, 512)).toEqual({
      kind: "ranges",
      ranges: [{ start: 0, end: 0 }],
    });
  });

  it("compares huge first and last positions exactly (first past last is invalid, not 416)", () => {
    // both round to the same double; only an exact comparison sees 2^53+1 > 2^53
    expect(parseRange("bytes=9007199254740993-9007199254740992", MAX)).toEqual({ kind: "full" });
  });

  it("serves 16 ranges and refuses 17 with ERANGE", () => {
    expect(MAX_RANGES).toBe(16);
    const asked = (n: number) =>
      "bytes=" + Array.from({ length: n }, (_, i) => `${i * 2}-${i * 2}`).join(",");
    const sixteen = parseRange(asked(16), 512);
    expect(sixteen.kind === "ranges" && sixteen.ranges.length).toBe(16);
    const err = loopErrorOf(() => parseRange(asked(17), 512));
    expect([err.errno, err.status, err.extra]).toEqual(["ERANGE", 416, { size: 512 }]);
  });

  it("takes its range cap from the options", () => {
    expect(parseRange("bytes=0-0,1-1", 512, { maxRanges: 2 }).kind).toBe("ranges");
    expect(loopErrorOf(() => parseRange("bytes=0-0,1-1,2-2", 512, { maxRanges: 2 })).errno).toBe(
      "ERANGE",
    );
  });
});

describe("ifRangeMatches", () => {
  const etag = '"c0ffee"';

  it("lets a range through when there is no If-Range", () => {
    expect(ifRangeMatches(null, etag)).toBe(true);
  });

  it("matches an identical strong entity-tag", () => {
    expect(ifRangeMatches('"c0ffee"', etag)).toBe(true);
    expect(ifRangeMatches(' "c0ffee" ', etag)).toBe(true);
  });

  it("never matches a weak entity-tag, on either side", () => {
    expect(ifRangeMatches('W/"c0ffee"', etag)).toBe(false);
    expect(ifRangeMatches('W/"c0ffee"', 'W/"c0ffee"')).toBe(false);
    expect(ifRangeMatches('"c0ffee"', 'W/"c0ffee"')).toBe(false);
  });

  it("does not match another entity-tag, an HTTP-date or a malformed value", () => {
    expect(ifRangeMatches('"c0ffef"', etag)).toBe(false);
    expect(ifRangeMatches("Wed, 21 Oct 2015 07:28:00 GMT", etag)).toBe(false);
    expect(ifRangeMatches("", etag)).toBe(false);
    expect(ifRangeMatches("c0ffee", "c0ffee")).toBe(false);
  });
});

describe("parseContentRange", () => {
  it("reads first-last/length and first-last/*", () => {
    expect(parseContentRange("bytes 0-511/1024")).toEqual({ start: 0, end: 511, size: 1024 });
    expect(parseContentRange("bytes 512-1023/*")).toEqual({ start: 512, end: 1023, size: null });
    expect(parseContentRange("Bytes 0-0/1")).toEqual({ start: 0, end: 0, size: 1 });
  });

  it("reads positions up to 2^53-1", () => {
    expect(parseContentRange(`bytes ${MAX - 1}-${MAX - 1}/${MAX}`)).toEqual({
      start: MAX - 1,
      end: MAX - 1,
      size: MAX,
    });
  });

  it("rejects positions or lengths past 2^53-1 with EOVERFLOW", () => {
    for (const header of [
      "bytes 0-9007199254740992/*",
      "bytes 0-1/9007199254740992",
      "bytes 99999999999999999999-99999999999999999999/*",
    ]) {
      const err = loopErrorOf(() => parseContentRange(header));
      expect([header, err.errno, err.status]).toEqual([header, "EOVERFLOW", 400]);
    }
  });

  it("rejects the unsatisfied */length form in a request with EINVAL", () => {
    const err = loopErrorOf(() => parseContentRange("bytes */1024"));
    expect(err.errno).toBe("EINVAL");
    expect(err.message).toContain("416");
  });

  it("rejects a missing header, a reversed range and a range at or past its length", () => {
    expect(loopErrorOf(() => parseContentRange(null)).errno).toBe("EINVAL");
    expect(loopErrorOf(() => parseContentRange("bytes 5-2/10")).message).toContain(
      "ends before it starts",
    );
    expect(loopErrorOf(() => parseContentRange("bytes 0-10/10")).message).toContain(
      "complete length",
    );
  });

  it("rejects other units and malformed values with EINVAL", () => {
    for (const header of [
      "items 0-1/2",
      "bytes=0-1/2",
      "bytes 0-1",
      "bytes  0-1/2",
      "bytes -1/2",
      "bytes 0-/2",
      "bytes 0-1/",
      "bytes 0-1/2, 3-4/5",
      "",
    ]) {
      const err = loopErrorOf(() => parseContentRange(header));
      expect([header, err.errno]).toEqual([header, "EINVAL"]);
    }
  });

  it("cuts a long header short in its error message", () => {
    const err = loopErrorOf(() => parseContentRange("x".repeat(10_000)));
    expect(err.message.length).toBeLessThan(200);
  });
});

describe("Content-Range answers", () => {
  it("writes a part's range and the unsatisfied form", () => {
    expect(contentRangeHeader(0, 0, 1)).toBe("bytes 0-0/1");
    expect(contentRangeHeader(500, 999, 8000)).toBe("bytes 500-999/8000");
    expect(contentRangeHeader(MAX - 1, MAX - 1, MAX)).toBe(
      "bytes 9007199254740990-9007199254740990/9007199254740991",
    );
    expect(unsatisfiedHeader(512)).toBe("bytes */512");
    expect(unsatisfiedHeader(0)).toBe("bytes */0");
  });
});

// ---- multipart/byteranges ----

/** A representation whose byte i is (i * 7 + 3) mod 256, served in small chunks. */
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
