import { describe, expect, it } from "vitest";
import { createProgress, formatProgress } from "../../cli/progress.js";
import { capture } from "./fake-server.js";

const MiB = 1024 * 1024;

describe("formatProgress", () => {
  it("shows bar, percent, amounts and rate", () => {
    expect(
      formatProgress({ label: "push a", done: 12 * MiB, total: 32 * MiB, elapsedMs: 3000 }),
    ).toBe("push a [#########...............]  37%  12.0 MiB / 32.0 MiB  4.0 MiB/s");
  });

  it("leaves the bar out for plain lines", () => {
    expect(
      formatProgress({ label: "pull b", done: 512, total: 1024, elapsedMs: 1000, bar: false }),
    ).toBe("pull b  50%  512 B / 1.0 KiB  512 B/s");
  });

  it("counts an empty transfer as complete and a zero elapsed time as no rate", () => {
    expect(formatProgress({ label: "x", done: 0, total: 0, elapsedMs: 0, bar: false })).toBe(
      "x 100%  0 B / 0 B  0 B/s",
    );
  });
});

describe("createProgress", () => {
  it("writes plain lines at most every five seconds, never the same twice, off a terminal", () => {
    const stream = capture(false);
    let now = 0;
    const progress = createProgress({ label: "push", total: 4 * MiB, stream, now: () => now });
    progress.advance(MiB);
    now = 1000;
    progress.advance(MiB);
    now = 6000;
    progress.advance(MiB);
    now = 8000;
    progress.advance(MiB);
    progress.finish();
    progress.finish();
    expect(stream.text().split("\n")).toEqual([
      "push  25%  1.0 MiB / 4.0 MiB  0 B/s",
      "push  75%  3.0 MiB / 4.0 MiB  512.0 KiB/s",
      "push 100%  4.0 MiB / 4.0 MiB  512.0 KiB/s",
      "",
    ]);
  });

  it("redraws one line in place on a terminal and ends it at finish", () => {
    const stream = capture(true);
    let now = 0;
    const progress = createProgress({ label: "pull", total: 2 * MiB, stream, now: () => now });
    progress.advance(MiB);
    now = 1000;
    progress.advance(MiB);
    progress.finish();
    const text = stream.text();
    expect(text.startsWith("\rpull [############............]  50%")).toBe(true);
    expect(text.endsWith("100%  2.0 MiB / 2.0 MiB  2.0 MiB/s\x1b[K\n")).toBe(true);
    expect(text.split("\n")).toHaveLength(2);
  });
});
