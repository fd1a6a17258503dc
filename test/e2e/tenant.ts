/**
 * A tenant of a running dev server as the end-to-end tests use it: mounted by the operator
 * through the `loopfs` command, then driven through the command (as a user would) or plain HTTP
 * (where the command has no word for the check).
 */

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { ROOT } from "../../scripts/dev-server.js";
import type { DevServer } from "./server";

const CLI = join(ROOT, "cli", "loopfs.js");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `loopfs ARGS` with `env` (LOOPFS_URL and the tokens). With `stdoutFile` its stdout
 * goes to that file, as `loopfs read loop0 > FILE` would.
 */
export async function loopfs(
  env: Record<string, string>,
  args: string[],
  stdoutFile?: string,
): Promise<CliResult> {
  const file = stdoutFile ? await open(stdoutFile, "w") : null;
  try {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", file ? file.fd : "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (part) => (stdout += part));
    child.stderr!.on("data", (part) => (stderr += part));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", resolve);
    });
    return { code, stdout, stderr };
  } finally {
    await file?.close();
  }
}

/** Like `loopfs`, but a non-zero exit fails with what the command said. */
export async function mustLoopfs(
  env: Record<string, string>,
  args: string[],
  stdoutFile?: string,
): Promise<string> {
  const result = await loopfs(env, args, stdoutFile);
  if (result.code !== 0) {
    throw new Error(`loopfs ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  }
  return result.stdout.trim();
}

export interface Tenant {
  name: string;
  token: string;
  /** LOOPFS_URL, LOOPFS_TENANT, LOOPFS_TOKEN and the operator token, for `loopfs`. */
  env: Record<string, string>;
  /** `http://TENANT:TOKEN@host/v1/tenants/TENANT/PATH`, the form qemu's curl driver takes. */
  urlWithCredentials(path: string): string;
  /** `http://host/v1/tenants/TENANT/PATH` without credentials. */
  url(path: string): string;
  /** A request on this tenant's routes with HTTP Basic credentials. */
  call(path: string, init?: RequestInit): Promise<Response>;
}

/** Mounts a new tenant with `loopfs tenant create`; its token comes back on stdout. */
export async function createTenant(
  server: Pick<DevServer, "url" | "operatorToken">,
  prefix = "e2e",
): Promise<Tenant> {
  const name = `${prefix}-${randomBytes(4).toString("hex")}`;
  const operatorEnv = { LOOPFS_URL: server.url, LOOPFS_OPERATOR_TOKEN: server.operatorToken };
  const token = await mustLoopfs(operatorEnv, ["tenant", "create", name, "--max", "8"]);
  const env = { ...operatorEnv, LOOPFS_TENANT: name, LOOPFS_TOKEN: token };
  const url = (path: string) => `${server.url}/v1/tenants/${name}/${path}`.replace(/\/$/, "");
  const basic = `Basic ${Buffer.from(`${name}:${token}`).toString("base64")}`;
  return {
    name,
    token,
    env,
    url,
    urlWithCredentials: (path) => url(path).replace("http://", `http://${name}:${token}@`),
    call: (path, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set("Authorization", basic);
      return fetch(url(path), { ...init, headers });
    },
  };
}
