/**
 * Real disk images for the end-to-end tests: an ext4 file system made by mke2fs from a
 * directory of known files, an MBR disk with that file system in its first partition, and the
 * blocks where two copies of an image differ.
 */

import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mustRun } from "./tools";

/** The file system block size; also the unit in which changes are found and sent. */
export const BLOCK = 4096;
export const MiB = 1 << 20;

/** The files the ext4 image is made from, by path inside it. */
export interface KnownFiles {
  "/known.txt": string;
  "/notes/todo.txt": string;
  "/notes/deeper/leaf.txt": string;
  "/random.bin": Buffer;
}

export function knownFiles(): KnownFiles {
  return {
    "/known.txt": "loopfs end-to-end: these exact bytes must come back through a device\n",
    // A few KiB of text, so the file spans blocks.
    "/notes/todo.txt": Array.from({ length: 200 }, (_, i) => `line ${i}: keep me\n`).join(""),
    "/notes/deeper/leaf.txt": "a file two directories down\n",
    "/random.bin": randomBytes(MiB),
  };
}

/** A temporary directory that `cleanup` removes. */
export async function workDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "loopfs-e2e-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Writes `files` under `dir/files` and makes `dir/NAME` with `mke2fs -t ext4 -d`, `size`
 * bytes big, 4 KiB blocks.
 */
export async function makeExt4(
  dir: string,
  name: string,
  files: KnownFiles,
  size = 8 * MiB,
): Promise<string> {
  const root = join(dir, `${name}.files`);
  for (const [path, content] of Object.entries(files)) {
    const local = join(root, path);
    await mkdir(join(local, ".."), { recursive: true });
    await writeFile(local, content);
  }
  const image = join(dir, name);
  mustRun("mke2fs", [
    "-q",
    "-F",
    "-t",
    "ext4",
    "-b",
    String(BLOCK),
    "-d",
    root,
    image,
    `${size / 1024}k`,
  ]);
  return image;
}

/**
 * Makes `dir/NAME`: an MBR disk of `diskSize` bytes whose partition 1 (type Linux) starts at
 * 1 MiB and holds the bytes of `filesystem`. Answers the partition's offset and size.
 */
export async function makeMbrDisk(
  dir: string,
  name: string,
  filesystem: string,
  diskSize: number,
): Promise<{ disk: string; offset: number; size: number }> {
  const fs = await readFile(filesystem);
  const disk = join(dir, name);
  await writeFile(disk, Buffer.alloc(diskSize));
  const sectors = fs.length / 512;
  mustRun(
    "sfdisk",
    ["--quiet", "--no-reread", "--no-tell-kernel", disk],
    ["label: dos", `start=2048, size=${sectors}, type=83`, ""].join("\n"),
  );
  const bytes = await readFile(disk);
  fs.copy(bytes, MiB);
  await writeFile(disk, bytes);
  return { disk, offset: MiB, size: fs.length };
}

/** The `BLOCK`-sized ranges where two equal-sized images differ, neighbours joined. */
export function changedRanges(before: Buffer, after: Buffer): { offset: number; length: number }[] {
  if (before.length !== after.length) throw new Error("images differ in size");
  const ranges: { offset: number; length: number }[] = [];
  for (let at = 0; at < after.length; at += BLOCK) {
    if (before.subarray(at, at + BLOCK).equals(after.subarray(at, at + BLOCK))) continue;
    const length = Math.min(BLOCK, after.length - at);
    const last = ranges.at(-1);
    if (last && last.offset + last.length === at) last.length += length;
    else ranges.push({ offset: at, length });
  }
  return ranges;
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
