import { describe, expect, it } from "vitest";
import {
  contentRangeHeader,
  parseContentRange,
  unsatisfiedHeader,
} from "../../src/http/content-range";
import { MAX, loopErrorOf } from "./range-helpers";

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
