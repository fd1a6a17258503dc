/**
 * The real disk-image tools the end-to-end tests drive (e2fsprogs, sfdisk, qemu-img), how to
 * run them, and why a test skips when one is missing. CI installs them (see .ci/run).
 */

import { spawnSync } from "node:child_process";

export interface ToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Debian package that brings each tool, for the skip message. */
const PACKAGES: Record<string, string> = {
  mke2fs: "e2fsprogs",
  e2fsck: "e2fsprogs",
  debugfs: "e2fsprogs",
  sfdisk: "fdisk",
  "qemu-img": "qemu-utils",
};

function installed(tool: string): boolean {
  return spawnSync(tool, ["-V"], { stdio: "ignore" }).error === undefined;
}

/**
 * qemu-img reads http URLs only through its curl block driver, a loadable module that Debian
 * ships apart (qemu-block-extra). Asking it to open a closed local port tells the two apart:
 * with the module the error comes from curl, without it the driver is unknown.
 */
function qemuReadsHttp(): boolean {
  const probe = spawnSync(
    "qemu-img",
    ["info", 'json:{"file.driver":"http","file.url":"http://127.0.0.1:1/probe"}'],
    { encoding: "utf8", timeout: 10_000 },
  );
  return /CURL/i.test(probe.stderr ?? "");
}

/**
 * Why the tests that need `tools` cannot run here, or undefined when they can. The reason is
 * printed once, so a skipped run says what to install.
 */
export function missingTools(...tools: string[]): string | undefined {
  const missing = tools.filter((tool) => !installed(tool));
  let reason: string | undefined;
  if (missing.length) {
    const packages = [...new Set(missing.map((tool) => PACKAGES[tool] ?? tool))];
    reason = `${missing.join(", ")} not installed (apt-get install ${packages.join(" ")})`;
  } else if (tools.includes("qemu-img") && !qemuReadsHttp()) {
    reason = "qemu-img has no curl (http) block driver (apt-get install qemu-block-extra)";
  }
  if (reason) console.warn(`skipping: ${reason}`);
  return reason;
}

/** Runs a tool and answers what it printed, whatever its exit status. */
export function runTool(tool: string, args: string[], input?: string): ToolResult {
  const result = spawnSync(tool, args, { encoding: "utf8", input, timeout: 60_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs a tool that must succeed; its output is in the error when it does not. */
export function mustRun(tool: string, args: string[], input?: string): string {
  const result = runTool(tool, args, input);
  if (result.status !== 0) {
    throw new Error(
      `${tool} ${args.join(" ")} exited ${result.status}:\n${result.stdout}${result.stderr}`,
    );
  }
  return result.stdout;
}
