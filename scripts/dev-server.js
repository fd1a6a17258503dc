/**
 * What `npm start`, `npm run demo` and the CLI's end-to-end test share to run the Worker
 * locally: the operator token in `.dev.vars`, the Wasm build, and `wrangler dev` started and
 * waited for.
 */

import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** How long wrangler dev may take to answer its first request (first runs bundle and boot). */
const START_TIMEOUT_MS = 90_000;
/** How long wrangler dev gets to shut workerd down before it is killed. */
const STOP_GRACE_MS = 3000;

/**
 * The operator token in `.dev.vars`, which wrangler dev reads as the Worker's secrets.
 * @param {string} [root]
 * @returns {string | undefined}
 */
export function readOperatorToken(root = ROOT) {
  const file = join(root, ".dev.vars");
  if (!existsSync(file)) return undefined;
  return /^OPERATOR_TOKEN\s*=\s*"?([^"\n]+)"?\s*$/m.exec(readFileSync(file, "utf8"))?.[1];
}

/**
 * The operator token from `.dev.vars`, after writing a fresh random one (32 bytes, hex) into
 * the file when it has none.
 * @param {string} [root]
 * @returns {{ token: string, created: boolean }}
 */
export function ensureOperatorToken(root = ROOT) {
  const existing = readOperatorToken(root);
  if (existing) return { token: existing, created: false };

  const file = join(root, ".dev.vars");
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  const token = randomBytes(32).toString("hex");
  const separator = text === "" || text.endsWith("\n") ? "" : "\n";
  writeFileSync(file, `${text}${separator}OPERATOR_TOKEN=${token}\n`, { mode: 0o600 });
  return { token, created: true };
}

/** Runs `npm run build` when build/core.wasm is missing; the Worker imports it. */
export function ensureBuild(root = ROOT) {
  if (existsSync(join(root, "build", "core.wasm"))) return;
  console.error("build/core.wasm is missing: running npm run build");
  const result = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) throw new Error("npm run build failed");
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function findFreePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * True when something answers HTTP at `url` within `timeoutMs` (any status counts).
 * @param {string} url
 */
export async function answers(url, timeoutMs = 2000) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/**
 * The arguments of `wrangler dev` on 127.0.0.1.
 * @param {{ port: number, persistTo: string }} options
 */
export function wranglerArgs({ port, persistTo }) {
  return [
    "wrangler",
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--persist-to",
    persistTo,
  ];
}

/**
 * The environment of a throw-away `wrangler dev`: nothing sent to or asked of Cloudflare, and a
 * dev registry of its own (dev servers sharing one restart each other's Workers).
 * @param {string} persistTo
 */
export function wranglerEnv(persistTo) {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_HIDE_BANNER: "true", // the banner asks the registry for updates
    CLOUDFLARE_CF_FETCH_ENABLED: "false", // no request.cf lookup on the internet
    WRANGLER_REGISTRY_PATH: `${persistTo}/dev-registry`,
  };
}

/**
 * Starts `wrangler dev` and waits until it answers. Its output is kept and shown if it fails
 * to start. `stop()` ends it (and its workerd children, which share its process group).
 * An `operatorToken` is passed with `--var`, which wins over `.dev.vars`, so a throw-away server
 * needs no file written.
 * @param {{ port: number, persistTo: string, operatorToken?: string, root?: string }} options
 */
export async function startWrangler({ port, persistTo, operatorToken, root = ROOT }) {
  const args = wranglerArgs({ port, persistTo });
  if (operatorToken) args.push("--var", `OPERATOR_TOKEN:${operatorToken}`);
  const child = spawn("npx", args, {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    env: { ...wranglerEnv(persistTo), CI: "true" },
  });
  let output = "";
  child.stdout.on("data", (part) => (output += part));
  child.stderr.on("data", (part) => (output += part));
  let exited = false;
  child.once("exit", () => (exited = true));
  // npx exits before the wrangler process under it; signals go to the whole group instead.

  /** SIGTERM to the whole group, then SIGKILL for whatever is still there after a grace time. */
  const stop = async () => {
    const group = -(/** @type {number} */ (child.pid));
    const signal = (name) => {
      try {
        process.kill(group, name);
      } catch {
        // The group is gone already.
      }
    };
    signal("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS));
    signal("SIGKILL");
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(url, 1000))) {
    if (exited || Date.now() > deadline) {
      await stop();
      const why = exited ? "exited" : `did not answer within ${START_TIMEOUT_MS / 1000} s`;
      throw new Error(`wrangler dev ${why}:\n${output.slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return { url, stop, output: () => output };
}
