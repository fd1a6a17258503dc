import { createHash } from "node:crypto";
import { mkdtemp, open, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chunksToSend } from "../../cli/image-push.js";
import { createFakeServer, runCli } from "./fake-server.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 64 * KiB;

/** 20 MiB with data in a few places and long zero runs in between. */
function sampleImage() {
  const bytes = Buffer.alloc(20 * MiB);
  bytes.fill(0x11, 0, 100 * KiB); // chunks 0-1
  bytes.fill(0x22, 9 * MiB, 9 * MiB + 10); // chunk 144
  bytes.fill(0x33, 20 * MiB - 5, 20 * MiB); // last chunk
  return bytes;
}

async function tempDir() {
  return mkdtemp(join(tmpdir(), "loopfs-push-"));
}

const rangePuts = (fake: ReturnType<typeof createFakeServer>) =>
  fake.requests
    .filter((r) => r.method === "PUT" && r.path.includes("/images/"))
    .map((r) => r.headers["content-range"]);

describe("chunksToSend", () => {
  const chunk = (byte: number) => Buffer.alloc(4, byte);
  const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

  it("skips zero chunks over holes and chunks whose hash matches, joining the rest into runs", () => {
    const bytes = Buffer.concat([chunk(0), chunk(1), chunk(2), chunk(0), chunk(3)]);
    const stored = new Map([
      [11, sha(chunk(1))], // same: skipped
      [12, sha(chunk(9))], // different: sent
      [13, sha(chunk(5))], // zero here, data there: sent as zeros
    ]);
    expect(chunksToSend(bytes, 10, 4, stored)).toEqual([{ start: 8, end: 20 }]);
  });
});

describe("image push", () => {
  it("creates the image sparse and sends only chunks that are not zeros", async () => {
    const fake = createFakeServer();
    const dir = await tempDir();
    await writeFile(join(dir, "disk.img"), sampleImage());
    const result = await runCli(fake, ["image", "push", join(dir, "disk.img"), "base"]);

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      name: "base",
      size: 20 * MiB,
      chunkSize: CHUNK,
    });
    expect(fake.requests[1]).toMatchObject({ method: "POST", path: "/v1/tenants/t1/images" });
    expect(JSON.parse(fake.requests[1].body!.toString())).toEqual({ name: "base", size: 20 * MiB });
    expect(rangePuts(fake).sort()).toEqual(
      [
        `bytes 0-${2 * CHUNK - 1}/${20 * MiB}`,
        `bytes ${144 * CHUNK}-${145 * CHUNK - 1}/${20 * MiB}`,
        `bytes ${20 * MiB - CHUNK}-${20 * MiB - 1}/${20 * MiB}`,
      ].sort(),
    );
    expect(result.stderr).toMatch(/pushed base: 256\.0 KiB sent, 19\.8 MiB skipped/);
    const stored = fake.images.get("base")!;
    expect(fake.readImage(stored, 0, 20 * MiB).equals(sampleImage())).toBe(true);
  });

  it("sends nothing when pushed again, and only the changed chunk after a local change", async () => {
    const fake = createFakeServer();
    const dir = await tempDir();
    const file = join(dir, "disk.img");
    await writeFile(file, sampleImage());
    await runCli(fake, ["image", "push", file]);
    fake.requests.length = 0;

    const again = await runCli(fake, ["image", "push", file]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/resuming push to existing image disk\.img/);
    expect(rangePuts(fake)).toEqual([]);

    const handle = await open(file, "r+");
    await handle.write(Buffer.from("changed"), 0, 7, 5 * MiB + 3);
    await handle.write(Buffer.alloc(CHUNK), 0, CHUNK, 0); // chunk 0 becomes zeros
    await handle.close();
    fake.requests.length = 0;
    await runCli(fake, ["image", "push", file]);
    expect(rangePuts(fake).sort()).toEqual([
      `bytes 0-${CHUNK - 1}/${20 * MiB}`,
      `bytes ${80 * CHUNK}-${81 * CHUNK - 1}/${20 * MiB}`,
    ]);
    const local = await readFile(file);
    expect(fake.readImage(fake.images.get("disk.img")!, 0, 20 * MiB).equals(local)).toBe(true);
  });

  it("retries pieces answered with 5xx and completes the image", async () => {
    const fake = createFakeServer();
    const dir = await tempDir();
    const file = join(dir, "disk.img");
    const bytes = Buffer.alloc(3 * MiB, 0x5a);
    await writeFile(file, bytes);
    const isPiece = (r: { method: string; path: string }) =>
      r.method === "PUT" && r.path.endsWith("/images/disk.img");
    fake.faults.push({ match: isPiece, status: 503 }, { match: isPiece, status: 502 });
    const result = await runCli(fake, ["image", "push", file]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/retrying after: injected 503/);
    expect(rangePuts(fake)).toHaveLength(1 + 2); // one piece, sent three times
    expect(fake.readImage(fake.images.get("disk.img")!, 0, 3 * MiB).equals(bytes)).toBe(true);
  });

  it("refuses to push over an image of another size with exit 4", async () => {
    const fake = createFakeServer();
    fake.images.set("disk.img", { name: "disk.img", size: 5, chunkSize: CHUNK, chunks: new Map() });
    const dir = await tempDir();
    await writeFile(join(dir, "disk.img"), Buffer.alloc(10));
    const result = await runCli(fake, ["image", "push", join(dir, "disk.img")]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/image disk\.img exists with size 5, the file has 10/);
  });

  it("creates the image with the chunk size asked for, and refuses another one on resume", async () => {
    const fake = createFakeServer();
    const dir = await tempDir();
    await writeFile(join(dir, "disk.img"), Buffer.alloc(MiB, 1));
    await runCli(fake, ["image", "push", join(dir, "disk.img"), "--chunk-size", "4KiB"]);
    expect(fake.images.get("disk.img")?.chunkSize).toBe(4096);
    const again = await runCli(fake, [
      "image",
      "push",
      join(dir, "disk.img"),
      "--chunk-size",
      "8K",
    ]);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/image disk\.img exists with chunk size 4096/);
  });

  it("exits 3 for a local file that does not exist", async () => {
    const result = await runCli(createFakeServer(), ["image", "push", "/nonexistent/disk.img"]);
    expect(result.code).toBe(3);
  });
});

describe("image pull", () => {
  it("writes a sparse file equal to the image, fetching only data extents", async () => {
    const fake = createFakeServer();
    const dir = await tempDir();
    await writeFile(join(dir, "disk.img"), sampleImage());
    await runCli(fake, ["image", "push", join(dir, "disk.img"), "base"]);
    fake.requests.length = 0;

    const out = join(dir, "pulled.img");
    const result = await runCli(fake, ["image", "pull", "base", out]);
    expect(result.code).toBe(0);
    expect((await readFile(out)).equals(sampleImage())).toBe(true);
    const gets = fake.requests.filter((r) => r.headers.range).map((r) => r.headers.range);
    expect(gets.sort()).toEqual(
      [
        `bytes=0-${2 * CHUNK - 1}`,
        `bytes=${144 * CHUNK}-${145 * CHUNK - 1}`,
        `bytes=${20 * MiB - CHUNK}-${20 * MiB - 1}`,
      ].sort(),
    );
    // Holes stay unwritten: the file takes far less disk than its length.
    expect((await stat(out)).blocks * 512).toBeLessThan(2 * MiB);
  });

  it("resumes into an existing file, fetching only chunks that differ", async () => {
    const fake = createFakeServer();
    const dir = await tempDir();
    await writeFile(join(dir, "disk.img"), sampleImage());
    await runCli(fake, ["image", "push", join(dir, "disk.img"), "base"]);

    const out = join(dir, "pulled.img");
    const damaged = sampleImage();
    damaged[5] = 0x99; // chunk 0 differs
    damaged.fill(0x44, 3 * MiB, 3 * MiB + 4); // data where the image has a hole
    await writeFile(out, damaged);
    fake.requests.length = 0;

    const result = await runCli(fake, ["image", "pull", "base", out]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/resuming pull into/);
    expect(fake.requests.filter((r) => r.headers.range).map((r) => r.headers.range)).toEqual([
      `bytes=0-${CHUNK - 1}`,
    ]);
    expect((await readFile(out)).equals(sampleImage())).toBe(true);
  });

  it("exits 3 for an image that does not exist", async () => {
    const dir = await tempDir();
    const result = await runCli(createFakeServer(), ["image", "pull", "nope", join(dir, "x")]);
    expect(result).toMatchObject({ code: 3, stderr: "loopfs: image nope not found (ENOENT)\n" });
  });
});
