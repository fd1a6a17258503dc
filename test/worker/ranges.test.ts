import { describe, expect, it } from "vitest";
import { MAX_RANGES, ifRangeMatches, parseRange } from "../../src/http/ranges";
import { MAX, loopErrorOf } from "./range-helpers";

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
