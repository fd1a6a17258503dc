/**
 * A real `wrangler dev` for the end-to-end tests: on a free 127.0.0.1 port, with its state in a
 * temporary directory, its own random operator token and no GC grace period. It can be stopped
 * and started again on the same state (a real restart of every Durable Object), and it never
 * outlives the test process: wrangler and its workerd children run in their own process group,
 * which is killed as a whole on stop and, failing that, when this process exits.
 */

import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
// The CLI's scripts already know how to find a port and wait for an answer; share them.
import {
  answers,
  ensureBuild,
  findFreePort,
  ROOT,
  wranglerArgs,
  wranglerEnv,
} from "../../scripts/dev-server.js";

/** First start bundles the Worker and boots workerd; later ones take a few seconds. */
const START_TIMEOUT_MS = 90_000;
/** How long wrangler may take to shut down on SIGTERM before its group gets SIGKILL. */
const STOP_GRACE_MS = 5_000;
/** The tail of wrangler's output kept for the message when it fails. */
const OUTPUT_TAIL = 8_000;

const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");

/**
 * Process groups still running and state directories not yet removed. When the test process
 * exits without a teardown (a failed hook, Ctrl-C), `exit` kills and removes what is left.
 */
const liveGroups = new Set<number>();
const liveStateDirs = new Set<string>();
process.once("exit", () => {
  for (const group of liveGroups) killGroup(group, "SIGKILL");
  for (const dir of liveStateDirs) rmSync(dir, { recursive: true, force: true });
});

export interface DevServer {
  /** `http://127.0.0.1:PORT`, the same across restarts. */
  readonly url: string;
  readonly operatorToken: string;
  /** The `--persist-to` directory: Durable Object SQLite and R2 objects on disk. */
  readonly persistTo: string;
  /** Ends wrangler and every process of its group; the state directory stays. */
  stop(): Promise<void>;
  /** Starts wrangler again on the same port and state directory. */
  start(): Promise<void>;
  /** Stops and removes the state directory. */
  close(): Promise<void>;
  /** What wrangler printed lately, for failure messages. */
  output(): string;
}

function killGroup(group: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-group, signal);
    return true;
  } catch {
    return false; // ESRCH: no process of the group is left
  }
}

async function waitForGroupGone(group: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!killGroup(group, 0)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !killGroup(group, 0);
}

/** Starts wrangler dev with fresh state and waits until it answers HTTP. */
export async function startDevServer(): Promise<DevServer> {
  ensureBuild();
  const persistTo = await mkdtemp(join(tmpdir(), "loopfs-e2e-state-"));
  liveStateDirs.add(persistTo);
  const port: number = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  const operatorToken = randomBytes(24).toString("hex");
  let child: ChildProcess | null = null;
  let output = "";

  const stop = async () => {
    if (!child?.pid) return;
    const group = child.pid;
    child = null;
    killGroup(group, "SIGTERM");
    if (!(await waitForGroupGone(group, STOP_GRACE_MS))) {
      killGroup(group, "SIGKILL");
      await waitForGroupGone(group, STOP_GRACE_MS);
    }
    liveGroups.delete(group);
  };

  const start = async () => {
    if (child) throw new Error("wrangler dev is already running");
    // A server still answering here would pass for the new one, and a restart would prove nothing.
    if (await answers(url, 500)) throw new Error(`${url} answers before wrangler dev started`);
    output = "";
    const args = [
      ...wranglerArgs({ port, persistTo }).slice(1), // the binary is called directly
      "--var",
      `OPERATOR_TOKEN:${operatorToken}`,
      "--var",
      "LOOPFS_GC_GRACE_SECONDS:0",
      "--show-interactive-dev-session=false",
    ];
    const started = spawn(WRANGLER, args, {
      cwd: ROOT,
      detached: true, // its own process group, so stop() reaches workerd too
      stdio: ["ignore", "pipe", "pipe"],
      env: wranglerEnv(persistTo),
    });
    child = started;
    liveGroups.add(started.pid!);
    const keep = (part: Buffer) => (output = (output + part).slice(-OUTPUT_TAIL));
    started.stdout!.on("data", keep);
    started.stderr!.on("data", keep);
    let exited = false;
    started.once("exit", () => (exited = true));

    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await answers(url, 1000))) {
      if (exited || Date.now() > deadline) {
        const why = exited ? "exited" : `did not answer within ${START_TIMEOUT_MS / 1000} s`;
        await stop();
        throw new Error(`wrangler dev ${why}:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  const close = async () => {
    await stop();
    await rm(persistTo, { recursive: true, force: true });
    liveStateDirs.delete(persistTo);
  };

  try {
    await start();
  } catch (err) {
    await close();
    throw err;
  }
  return { url, operatorToken, persistTo, stop, start, close, output: () => output };
}
