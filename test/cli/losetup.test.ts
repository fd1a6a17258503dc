import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { backingRequest, statusChange } from "../../cli/losetup.js";
import { createFakeServer, runCli } from "./fake-server.js";

const MiB = 1024 * 1024;

/** A fake server holding one image `base` of 4 MiB. */
async function withImage() {
  const fake = createFakeServer();
  fake.images.set("base", { name: "base", size: 4 * MiB, chunkSize: 65536, chunks: new Map() });
  return fake;
}

const sent = (fake: ReturnType<typeof createFakeServer>) =>
  fake.requests.map((r) => `${r.method} ${r.path}${r.body ? ` ${r.body}` : ""}`);

describe("attach options", () => {
  it("turns losetup's options into the backing request", () => {
    expect(
      backingRequest(
        { offset: "1MiB", sizelimit: "2M", "read-only": true, "sector-size": "4096" },
        "base",
      ),
    ).toEqual({
      image: "base",
      offset: MiB,
      sizelimit: 2 * MiB,
      readOnly: true,
      autoclear: false,
      partscan: false,
      blockSize: 4096,
    });
    expect(backingRequest({ autoclear: true, lease: "60" }, "b")).toMatchObject({
      autoclear: true,
      leaseSeconds: 60,
    });
    expect(() => backingRequest({ lease: "60" }, "b")).toThrow(
      "--lease applies only with --autoclear",
    );
  });

  it("sends only what set-status was given", () => {
    expect(statusChange({ sizelimit: "1M", "no-autoclear": true })).toEqual({
      sizelimit: MiB,
      autoclear: false,
    });
    expect(() => statusChange({})).toThrow("set-status: nothing to change");
  });
});

describe("losetup commands", () => {
  it("--find --show asks loop-control for a free device, attaches it and prints its name", async () => {
    const fake = await withImage();
    const result = await runCli(fake, ["--find", "--show", "-r", "-o", "512", "base"]);
    expect(result).toMatchObject({ code: 0, stdout: "loop0\n", stderr: "" });
    expect(sent(fake)).toEqual([
      'POST /v1/tenants/t1/loop-control {"op":"get-free"}',
      "PUT /v1/tenants/t1/devices/loop0/backing " +
        '{"image":"base","offset":512,"sizelimit":0,"readOnly":true,"autoclear":false,' +
        '"partscan":false,"blockSize":0}',
    ]);
  });

  it("attaching a named device that does not exist adds it first", async () => {
    const fake = await withImage();
    const result = await runCli(fake, ["--show", "/dev/loop5", "base"]);
    expect(result).toMatchObject({ code: 0, stdout: "loop5\n" });
    expect(sent(fake)).toEqual([
      expect.stringMatching(/^PUT \/v1\/tenants\/t1\/devices\/loop5\/backing /),
      'POST /v1/tenants/t1/loop-control {"op":"add","number":5}',
      expect.stringMatching(/^PUT \/v1\/tenants\/t1\/devices\/loop5\/backing /),
    ]);
    expect(fake.devices.get(5)?.backing?.image).toBe("base");
  });

  it("attaching an image that does not exist exits 3", async () => {
    const fake = await withImage();
    const result = await runCli(fake, ["--find", "nothing"]);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe("loopfs: image nothing not found (ENOENT)\n");
  });

  it("--list prints losetup's columns, --json the server's shape", async () => {
    const fake = await withImage();
    await runCli(fake, ["-f", "-o", "1MiB", "base"]);
    await runCli(fake, ["-f", "-r", "base"]);
    const table = await runCli(fake, ["--list"]);
    expect(table.stdout).toBe(
      "NAME  SIZELIMIT  OFFSET AUTOCLEAR RO BACK-FILE DIO LOG-SEC\n" +
        "loop0         0 1048576         0  0 base        0     512\n" +
        "loop1         0       0         0  1 base        0     512\n",
    );
    const asJson = await runCli(fake, ["--list", "--json"]);
    expect(JSON.parse(asJson.stdout).loopdevices.map((d: any) => d.name)).toEqual([
      "loop0",
      "loop1",
    ]);
  });

  it("loopN alone shows the binding the way losetup does", async () => {
    const fake = await withImage();
    await runCli(fake, ["-f", "-o", "1MiB", "--sizelimit", "1MiB", "base"]);
    expect((await runCli(fake, ["loop0"])).stdout).toBe(
      "loop0: (base), offset 1048576, sizelimit 1048576\n",
    );
    await runCli(fake, ["device", "add", "3"]);
    const unbound = await runCli(fake, ["loop3"]);
    expect(unbound).toMatchObject({
      code: 4,
      stderr: "loopfs: loop3: not bound to an image (ENXIO)\n",
    });
  });

  it("--detach reports each failure, detaches the rest and exits with the first failure's code", async () => {
    const fake = await withImage();
    await runCli(fake, ["-f", "base"]);
    await runCli(fake, ["device", "add", "1"]);
    const result = await runCli(fake, ["-d", "loop1", "loop0"]);
    expect(result.code).toBe(4);
    expect(result.stderr).toBe("loopfs: loop1 is not bound (ENXIO)\n");
    expect(fake.devices.get(0)?.backing).toBeNull();
  });

  it("--detach-all detaches every bound device", async () => {
    const fake = await withImage();
    await runCli(fake, ["-f", "base"]);
    await runCli(fake, ["-f", "base"]);
    expect((await runCli(fake, ["-D"])).code).toBe(0);
    expect([...fake.devices.values()].map((d) => d.backing)).toEqual([null, null]);
  });
});

describe("device reads and writes", () => {
  it("writes a file at an offset and reads it back through the device", async () => {
    const fake = await withImage();
    await runCli(fake, ["-f", "-o", "4096", "base"]);
    const dir = await mkdtemp(join(tmpdir(), "loopfs-cli-"));
    await writeFile(`${dir}/part`, "hello, device");
    expect((await runCli(fake, ["write", "loop0", "--offset", "1000", `${dir}/part`])).code).toBe(
      0,
    );
    expect(fake.requests.at(-1)?.headers["content-range"]).toBe("bytes 1000-1012/*");
    const read = await runCli(fake, ["read", "loop0", "--offset", "1000", "--length", "13"]);
    expect(read.bytes.toString()).toBe("hello, device");
    // The device starts 4096 bytes into the image.
    expect(fake.readImage(fake.images.get("base")!, 5096, 13).toString()).toBe("hello, device");
  });

  it("a read reaching past the device's end stops at the end, as a file read does", async () => {
    const fake = await withImage();
    await runCli(fake, ["-f", "base"]);
    const read = await runCli(fake, ["read", "loop0", "--offset", "3MiB", "--length", "20MiB"]);
    expect(read.code).toBe(0);
    expect(read.bytes.length).toBe(MiB);
    const ranges = fake.requests.filter((r) => r.headers.range).map((r) => r.headers.range);
    // The size comes from a one-byte read first, so no range past the end is ever asked for.
    expect(ranges).toEqual(["bytes=0-0", `bytes=${3 * MiB}-${4 * MiB - 1}`]);
  });

  it("a read starting past the device's end gives no bytes and succeeds, as a file read does", async () => {
    const fake = await withImage();
    await runCli(fake, ["-f", "base"]);
    const read = await runCli(fake, ["read", "loop0", "--offset", "64MiB", "--length", "10"]);
    expect(read.code).toBe(0);
    expect(read.bytes.length).toBe(0);
  });

  it("sends only the listed ranges of a file with --ranges", async () => {
    const fake = await withImage();
    await runCli(fake, ["-f", "base"]);
    const dir = await mkdtemp(join(tmpdir(), "loopfs-cli-"));
    const local = Buffer.alloc(64 * 1024, 7);
    await writeFile(`${dir}/copy`, local);
    await writeFile(`${dir}/ranges`, "# changed blocks\n1024 512\n8K 1K\n");
    const result = await runCli(fake, [
      "write",
      "loop0",
      `${dir}/copy`,
      "--ranges",
      `${dir}/ranges`,
    ]);
    expect(result.code).toBe(0);
    const puts = fake.requests.filter((r) => r.method === "PUT" && !r.path.endsWith("backing"));
    expect(puts.map((r) => r.headers["content-range"])).toEqual([
      "bytes 1024-1535/*",
      "bytes 8192-9215/*",
    ]);
    const image = fake.images.get("base")!;
    expect(fake.readImage(image, 1024, 512).every((b) => b === 7)).toBe(true);
    expect(fake.readImage(image, 2048, 1024).every((b) => b === 0)).toBe(true);
  });

  it("a write past the device's end exits 7", async () => {
    const fake = await withImage();
    await runCli(fake, ["-f", "--sizelimit", "1024", "base"]);
    const dir = await mkdtemp(join(tmpdir(), "loopfs-cli-"));
    await writeFile(`${dir}/big`, Buffer.alloc(2048, 1));
    const result = await runCli(fake, ["write", "loop0", `${dir}/big`]);
    expect(result).toMatchObject({ code: 7, stderr: "loopfs: past the end (ERANGE)\n" });
  });

  it("a write to a read-only device exits 4", async () => {
    const fake = await withImage();
    await runCli(fake, ["-f", "-r", "base"]);
    const dir = await mkdtemp(join(tmpdir(), "loopfs-cli-"));
    await writeFile(`${dir}/x`, "x");
    const result = await runCli(fake, ["write", "loop0", `${dir}/x`]);
    expect(result).toMatchObject({ code: 4, stderr: "loopfs: loop0 is read-only (EROFS)\n" });
  });
});
