/**
 * The CLI as a user runs it (`node cli/loopfs.js` in a child process) against the real Worker
 * under `wrangler dev` on a free port with throw-away state. Skipped, with the reason printed,
 * when wrangler dev cannot start here.
 */

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuild, findFreePort, ROOT, startWrangler } from "../../scripts/dev-server.js";

const CLI = join(ROOT, "cli", "loopfs.js");
const MiB = 1024 * 1024;

let server: { url: string; stop: () => Promise<void> } | undefined;
let skipReason = "";
let work = "";
const operatorToken = randomBytes(16).toString("hex");
const env: Record<string, string> = { LOOPFS_OPERATOR_TOKEN: operatorToken };

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs the CLI; `onStderr` sees stderr as it comes, and may return true to send one SIGINT. */
function loopfs(args: string[], onStderr?: (text: string) => boolean): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let stderr = "";
    let interrupted = false;
    child.stdout.on("data", (part) => out.push(part));
    child.stderr.on("data", (part) => {
      stderr += part;
      if (!interrupted && onStderr?.(stderr)) {
        interrupted = true;
        child.kill("SIGINT");
      }
    });
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
  });
}

/** A 12 MiB image: data at the start, in the middle and at the end, zeros between. */
function sampleImage() {
  const bytes = Buffer.alloc(12 * MiB);
  randomBytes(300 * 1024).copy(bytes, 0);
  randomBytes(4096).copy(bytes, 7 * MiB + 123);
  randomBytes(1000).copy(bytes, 12 * MiB - 1000);
  return bytes;
}

beforeAll(async () => {
  try {
    ensureBuild();
    const persistTo = await mkdtemp(join(tmpdir(), "loopfs-cli-e2e-state-"));
    server = await startWrangler({ port: await findFreePort(), persistTo, operatorToken });
    env.LOOPFS_URL = server.url;
  } catch (err) {
    skipReason = `wrangler dev did not start: ${(err as Error).message.split("\n")[0]}`;
    console.warn(`skipping CLI end-to-end tests: ${skipReason}`);
  }
  work = await mkdtemp(join(tmpdir(), "loopfs-cli-e2e-"));
});

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("loopfs against wrangler dev", () => {
  const image = sampleImage();

  it("mounts a tenant and prints its token alone on stdout", async (ctx) => {
    if (skipReason) ctx.skip();
    const result = await loopfs(["tenant", "create", "cli-e2e", "--max", "8"]);
    expect(result.code).toBe(0);
    const token = result.stdout.toString().trim();
    expect(token).toMatch(/^\S{16,}$/);
    expect(result.stderr).toContain(`export LOOPFS_TENANT=cli-e2e LOOPFS_TOKEN=${token}`);
    Object.assign(env, { LOOPFS_TENANT: "cli-e2e", LOOPFS_TOKEN: token });
  });

  it("pushes an image, and a second push sends nothing", async (ctx) => {
    if (skipReason) ctx.skip();
    await writeFile(join(work, "disk.img"), image);
    const first = await loopfs(["image", "push", join(work, "disk.img"), "base"]);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout.toString())).toMatchObject({ name: "base", size: 12 * MiB });

    const second = await loopfs(["image", "push", join(work, "disk.img"), "base"]);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/pushed base: 0 B sent, 12\.0 MiB skipped/);
  });

  it("attaches with --find --show and by name, and lists both", async (ctx) => {
    if (skipReason) ctx.skip();
    const found = await loopfs(["--find", "--show", "base"]);
    expect(found).toMatchObject({ code: 0, stderr: "" });
    expect(found.stdout.toString()).toBe("loop0\n");
    expect((await loopfs(["-r", "-o", "1MiB", "loop3", "base"])).code).toBe(0);

    const list = JSON.parse((await loopfs(["--list", "--json"])).stdout.toString());
    expect(
      list.loopdevices.map((d: any) => [d.name, d["back-file"], d.ro, d.offset]).sort(),
    ).toEqual([
      ["loop0", "base", false, 0],
      ["loop3", "base", true, MiB],
    ]);
    expect((await loopfs(["loop3"])).stdout.toString()).toBe("loop3: (base), offset 1048576\n");
  });

  it("reads the device's bytes, whole and in part", async (ctx) => {
    if (skipReason) ctx.skip();
    const whole = await loopfs(["read", "loop0"]);
    expect(whole.code).toBe(0);
    expect(whole.stdout.equals(image)).toBe(true);
    const part = await loopfs(["read", "loop3", "--offset", String(6 * MiB), "--length", "5000"]);
    expect(part.stdout.equals(image.subarray(7 * MiB, 7 * MiB + 5000))).toBe(true);
  });

  it("writes at an offset, seen through the other device on the same image", async (ctx) => {
    if (skipReason) ctx.skip();
    await writeFile(join(work, "patch"), "patched!");
    const written = await loopfs([
      "write",
      "loop0",
      "--offset",
      String(MiB + 10),
      join(work, "patch"),
    ]);
    expect(written.code).toBe(0);
    const back = await loopfs(["read", "loop3", "--offset", "10", "--length", "8"]);
    expect(back.stdout.toString()).toBe("patched!");
    image.write("patched!", MiB + 10);
  });

  it("exits 4 for a write to a read-only device and 7 for one past the end", async (ctx) => {
    if (skipReason) ctx.skip();
    const readOnly = await loopfs(["write", "loop3", join(work, "patch")]);
    expect(readOnly.code).toBe(4);
    expect(readOnly.stderr).toMatch(/\(EROFS\)\n$/);
    const past = await loopfs([
      "write",
      "loop0",
      "--offset",
      String(12 * MiB - 4),
      join(work, "patch"),
    ]);
    expect(past.code).toBe(7);
    expect(past.stderr).toMatch(/\(ERANGE\)\n$/);
  });

  it("pulls the image into a file equal to it", async (ctx) => {
    if (skipReason) ctx.skip();
    const out = join(work, "pulled.img");
    const result = await loopfs(["image", "pull", "base", out]);
    expect(result.code).toBe(0);
    expect((await readFile(out)).equals(image)).toBe(true);
  });

  it("resumes a push stopped with Ctrl-C, sending only what is missing", async (ctx) => {
    if (skipReason) ctx.skip();
    const big = randomBytes(96 * MiB);
    await writeFile(join(work, "big.img"), big);
    const stopped = await loopfs(["image", "push", join(work, "big.img")], (text) =>
      text.includes("push big.img"),
    );
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toMatch(/run the same command again to resume/);

    const resumed = await loopfs(["image", "push", join(work, "big.img")]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/resuming push to existing image big\.img/);
    const sent = /pushed big\.img: ([\d.]+) MiB sent/.exec(resumed.stderr);
    expect(Number(sent?.[1])).toBeLessThan(96);
    expect((await loopfs(["image", "pull", "big.img", join(work, "big.out")])).code).toBe(0);
    expect((await readFile(join(work, "big.out"))).equals(big)).toBe(true);
  });

  it("detaches, after which reading the device exits 4 (ENXIO)", async (ctx) => {
    if (skipReason) ctx.skip();
    expect((await loopfs(["--detach", "loop0", "loop3"])).code).toBe(0);
    expect((await loopfs(["--list"])).stdout.toString()).toBe("");
    const read = await loopfs(["read", "loop0", "--length", "512"]);
    expect(read.code).toBe(4);
    expect(read.stderr).toMatch(/\(ENXIO\)\n$/);
  });

  it("exits 3 for an unknown image and 6 for a wrong token", async (ctx) => {
    if (skipReason) ctx.skip();
    expect((await loopfs(["--find", "no-such-image"])).code).toBe(3);
    const saved = env.LOOPFS_TOKEN;
    env.LOOPFS_TOKEN = "wrong";
    try {
      expect((await loopfs(["image", "ls"])).code).toBe(6);
    } finally {
      env.LOOPFS_TOKEN = saved;
    }
  });

  it("unmounts the tenant, after which its token opens nothing", async (ctx) => {
    if (skipReason) ctx.skip();
    expect((await loopfs(["tenant", "rm", "cli-e2e"])).code).toBe(0);
    const after = await loopfs(["image", "ls"]);
    expect([3, 6]).toContain(after.code);
  });
});
