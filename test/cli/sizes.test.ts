import { describe, expect, it } from "vitest";
import { formatBytes, parseCount, parseSize } from "../../cli/sizes.js";

describe("parseSize", () => {
  it("reads plain bytes and hex", () => {
    expect(parseSize("0")).toBe(0);
    expect(parseSize("4096")).toBe(4096);
    expect(parseSize("0x200")).toBe(512);
  });

  it("reads K M G T and the iB forms as powers of 1024", () => {
    expect(parseSize("64K")).toBe(65536);
    expect(parseSize("64KiB")).toBe(65536);
    expect(parseSize("1M")).toBe(1048576);
    expect(parseSize("1MiB")).toBe(1048576);
    expect(parseSize("10GiB")).toBe(10 * 2 ** 30);
    expect(parseSize("2T")).toBe(2 * 2 ** 40);
    expect(parseSize("3tib")).toBe(3 * 2 ** 40);
  });

  it("reads KB MB GB TB as powers of 1000", () => {
    expect(parseSize("1KB")).toBe(1000);
    expect(parseSize("5MB")).toBe(5_000_000);
    expect(parseSize("10GB")).toBe(10_000_000_000);
    expect(parseSize("1TB")).toBe(1e12);
  });

  it("rejects garbage with EINVAL naming the option", () => {
    for (const text of ["", "abc", "1.5G", "-1", "12X", "1 GiB extra", "1iB"]) {
      expect(() => parseSize(text, "offset")).toThrow(expect.objectContaining({ errno: "EINVAL" }));
    }
    expect(() => parseSize("x", "offset")).toThrow(/invalid offset: 'x'/);
  });

  it("rejects sizes past 2^53 - 1 with EOVERFLOW", () => {
    expect(parseSize(String(2 ** 53 - 1))).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => parseSize(String(2 ** 53))).toThrow(
      expect.objectContaining({ errno: "EOVERFLOW" }),
    );
    expect(() => parseSize("8P")).toThrow(expect.objectContaining({ errno: "EOVERFLOW" }));
  });
});

describe("parseCount", () => {
  it("takes digits only", () => {
    expect(parseCount("300", "lease")).toBe(300);
    expect(() => parseCount("5m", "lease")).toThrow(/invalid lease: '5m'/);
  });
});

describe("formatBytes", () => {
  it("prints bytes below 1 KiB as they are and larger sizes with one decimal", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1024)).toBe("1.0 KiB");
    expect(formatBytes(1536 * 1024)).toBe("1.5 MiB");
    expect(formatBytes(10 * 2 ** 30)).toBe("10.0 GiB");
  });
});
