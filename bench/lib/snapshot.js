/**
 * The Worker the bench measures is a copy taken when the run starts: `wrangler dev` rebuilds and
 * restarts on every source change, and a restart in the middle of a workload spoils it. The copy
 * is the working tree (src/, build/, wrangler.toml), or with BENCH_REF a committed revision
 * built afresh. node_modules is linked, not copied.
 */

import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";

const git = (root, ...args) =>
  execFileSync("git", ["-C", root, ...args], { encoding: "utf8" }).trim();

export function snapshotWorker(root, dir, ref) {
  mkdirSync(dir, { recursive: true });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  const commit = git(root, "rev-parse", ref ?? "HEAD");
  if (ref) {
    const archive = execFileSync("git", [
      "-C",
      root,
      "archive",
      commit,
      "src",
      "assembly",
      "wrangler.toml",
      "package.json",
    ]);
    execFileSync("tar", ["-x", "-C", dir], { input: archive });
    const build = spawnSync("npm", ["run", "build"], { cwd: dir, encoding: "utf8" });
    if (build.status !== 0) throw new Error(`building ${ref} failed:\n${build.stderr}`);
    return { source: `git ${commit}`, commit, dirty: false };
  }
  for (const part of ["src", "build", "wrangler.toml", "package.json"]) {
    cpSync(join(root, part), join(dir, part), { recursive: true });
  }
  const dirty = git(root, "status", "--porcelain", "--", "src", "assembly") !== "";
  return {
    source: `working tree at ${commit}${dirty ? " with uncommitted changes" : ""}`,
    commit,
    dirty,
  };
}
