/**
 * `npm run demo`: a real ext4 image through loopfs, end to end, with the CLI.
 *
 * Uses the server at LOOPFS_URL if one answers, else starts wrangler dev on a free port with a
 * throw-away state directory. Each step prints the command it runs. The image is made with
 * mke2fs from a few files; a file is read back through the device with debugfs, then changed in
 * a local copy and only the changed blocks are written back, and the device must still pass
 * e2fsck. Exits non-zero when any step fails.
 */

import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  answers,
  ensureBuild,
  findFreePort,
  readOperatorToken,
  ROOT,
  startWrangler,
} from "./dev-server.js";

const CLI = join(ROOT, "cli", "loopfs.js");
const BLOCK = 4096;
const HELLO = "hello from loopfs\n";
const CHANGED = "hello again, written through a loop device over HTTP\n";

function have(tool) {
  return spawnSync(tool, ["-V"], { stdio: "ignore" }).error === undefined;
}

/** Set by Ctrl-C: the next step stops the demo instead of running. */
let stopping = false;

function step(title) {
  if (stopping) throw new Error("interrupted");
  console.log(`\n==> ${title}`);
}

/** Runs a local tool, showing the command; fails the demo on a non-zero exit. */
function tool(command, args) {
  console.log(`$ ${command} ${args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(" ")}`);
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} exited ${result.status}:\n${result.stdout}${result.stderr}`);
  }
  return result.stdout;
}

/**
 * Runs the CLI, showing the command and its output; stdout goes to `stdoutFile` when given.
 * @returns {Promise<string>} what it printed on stdout (empty when sent to a file)
 */
async function loopfs(env, args, stdoutFile) {
  if (stopping && args[0] !== "tenant") throw new Error("interrupted");
  console.log(`$ loopfs ${args.join(" ")}${stdoutFile ? ` > ${stdoutFile}` : ""}`);
  const file = stdoutFile ? await open(stdoutFile, "w") : null;
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", file ? file.fd : "pipe", "inherit"],
  });
  let stdout = "";
  child.stdout?.on("data", (part) => (stdout += part));
  const code = await new Promise((resolve) => child.on("exit", resolve));
  await file?.close();
  if (stdout) console.log(stdout.trimEnd().replace(/^/gm, "  "));
  if (code !== 0) throw new Error(`loopfs ${args[0]} exited ${code}`);
  return stdout.trim();
}

/** Byte ranges where two equal-sized images differ, whole blocks, neighbours joined. */
function changedRanges(before, after) {
  const ranges = [];
  for (let at = 0; at < after.length; at += BLOCK) {
    const a = before.subarray(at, at + BLOCK);
    const b = after.subarray(at, at + BLOCK);
    if (a.equals(b)) continue;
    const last = ranges[ranges.length - 1];
    if (last && last.offset + last.length === at) last.length += b.length;
    else ranges.push({ offset: at, length: b.length });
  }
  return ranges;
}

async function makeImage(work) {
  const files = join(work, "files");
  await mkdir(join(files, "docs"), { recursive: true });
  await writeFile(join(files, "hello.txt"), HELLO);
  await writeFile(join(files, "docs", "readme.md"), "# loopfs demo\nAn ext4 image in R2.\n");
  await writeFile(join(files, "random.bin"), randomBytes(512 * 1024));
  const image = join(work, "disk.img");
  tool("mke2fs", ["-q", "-F", "-t", "ext4", "-b", String(BLOCK), "-d", files, image, "16M"]);
  return image;
}

async function connect(cleanups) {
  const url = (process.env.LOOPFS_URL ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
  const operatorToken = process.env.LOOPFS_OPERATOR_TOKEN;
  if (await answers(url)) {
    console.log(`using the server at ${url}`);
    if (operatorToken) return { url, operatorToken };
    const token = readOperatorToken();
    if (!token) throw new Error("set LOOPFS_OPERATOR_TOKEN to the operator token of that server");
    console.log(
      "operator token from .dev.vars (set LOOPFS_OPERATOR_TOKEN if the server has another)",
    );
    return { url, operatorToken: token };
  }
  console.log(`no server at ${url}: starting wrangler dev`);
  ensureBuild();
  const token = randomBytes(32).toString("hex");
  const state = await mkdtemp(join(tmpdir(), "loopfs-demo-state-"));
  const port = await findFreePort();
  const server = await startWrangler({ port, persistTo: state, operatorToken: token });
  cleanups.push(async () => {
    await server.stop();
    await rm(state, { recursive: true, force: true });
  });
  console.log(`wrangler dev answers at ${server.url}`);
  return { url: server.url, operatorToken: token };
}

async function demo(cleanups) {
  for (const needed of ["mke2fs", "debugfs", "e2fsck"]) {
    if (!have(needed)) {
      console.log(`skipping the demo: ${needed} is not installed (apt-get install e2fsprogs)`);
      return;
    }
  }
  const work = await mkdtemp(join(tmpdir(), "loopfs-demo-"));
  cleanups.push(() => rm(work, { recursive: true, force: true }));
  const { url, operatorToken } = await connect(cleanups);
  const tenant = `demo-${randomBytes(3).toString("hex")}`;
  const env = { LOOPFS_URL: url, LOOPFS_OPERATOR_TOKEN: operatorToken, LOOPFS_TENANT: tenant };

  step("make an ext4 image from a few files");
  const image = await makeImage(work);

  step(`mount an instance: tenant ${tenant}`);
  env.LOOPFS_TOKEN = await loopfs(env, ["tenant", "create", tenant, "--max", "8"]);
  cleanups.push(() => loopfs(env, ["tenant", "rm", tenant]).catch(() => {}));

  step("push the image (zero chunks are skipped)");
  await loopfs(env, ["image", "push", image, "base"]);

  step("attach it to the first free device, and read-only to loop7");
  const device = await loopfs(env, ["--find", "--show", "base"]);
  await loopfs(env, ["--read-only", "loop7", "base"]);
  await loopfs(env, ["--list"]);

  step(`read /hello.txt back through ${device}`);
  const deviceCopy = join(work, "device.img");
  await loopfs(env, ["read", device], deviceCopy);
  const hello = tool("debugfs", ["-R", "cat /hello.txt", deviceCopy]);
  if (hello !== HELLO)
    throw new Error(`read back ${JSON.stringify(hello)}, expected ${JSON.stringify(HELLO)}`);
  console.log(`  /hello.txt: ${hello.trim()}`);

  step(`change /hello.txt in a local copy and write only the changed blocks to ${device}`);
  const edited = join(work, "edited.img");
  await writeFile(edited, await readFile(deviceCopy));
  await writeFile(join(work, "new-hello.txt"), CHANGED);
  tool("debugfs", ["-w", "-R", "rm /hello.txt", edited]);
  tool("debugfs", ["-w", "-R", `write ${join(work, "new-hello.txt")} /hello.txt`, edited]);
  const after = await readFile(edited);
  const ranges = changedRanges(await readFile(deviceCopy), after);
  await writeFile(join(work, "ranges"), ranges.map((r) => `${r.offset} ${r.length}\n`).join(""));
  console.log(
    `  ${ranges.length} changed ranges, ${ranges.reduce((n, r) => n + r.length, 0)} bytes`,
  );
  await loopfs(env, ["write", device, edited, "--ranges", join(work, "ranges")]);

  step("read the device back and check the file system");
  const readBack = join(work, "read-back.img");
  await loopfs(env, ["read", device], readBack);
  if (!(await readFile(readBack)).equals(after))
    throw new Error("the device differs from the edited copy");
  tool("e2fsck", ["-fn", readBack]);
  const changed = tool("debugfs", ["-R", "cat /hello.txt", readBack]);
  if (changed !== CHANGED) throw new Error(`read back ${JSON.stringify(changed)} after the write`);
  console.log(`  /hello.txt: ${changed.trim()}`);
  const readOnlyView = join(work, "loop7.img");
  await loopfs(env, ["read", "loop7"], readOnlyView);
  if (!(await readFile(readOnlyView)).equals(after))
    throw new Error("loop7 does not see the write");
  console.log("  loop7 (read-only, same image) sees the write too");

  step("detach both devices");
  await loopfs(env, ["--detach", device, "loop7"]);
  await loopfs(env, ["--list"]);

  step(`unmount the instance: tenant ${tenant}`);
  cleanups.pop();
  await loopfs(env, ["tenant", "rm", tenant]);
  console.log("\ndemo passed");
}

const cleanups = [];
/** Runs the clean-ups once, newest first, however many times it is called. */
let cleaning;
function cleanUp() {
  cleaning ??= (async () => {
    while (cleanups.length > 0) await cleanups.pop()();
  })();
  return cleaning;
}
// wrangler dev runs in its own process group, so Ctrl-C does not reach it: stop it here.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    stopping = true;
    console.error(`\n${signal}: cleaning up`);
    await cleanUp();
    process.exit(130);
  });
}

let failed = false;
try {
  await demo(cleanups);
} catch (err) {
  failed = true;
  console.error(`\ndemo failed: ${err instanceof Error ? err.message : err}`);
}
await cleanUp();
process.exit(stopping ? 130 : failed ? 1 : 0);
