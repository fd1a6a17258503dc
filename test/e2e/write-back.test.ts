/**
 * The write path on a real file system: files changed in a local copy with `debugfs -w`, only
 * the 4 KiB blocks that changed sent through the device with `loopfs write --offset`, and the
 * device read back is that copy, byte for byte, with a clean e2fsck and the new file contents.
 */

import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  changedRanges,
  knownFiles,
  makeExt4,
  MiB,
  sha256,
  workDir,
  type KnownFiles,
} from "./images";
import { sharedServer } from "./shared-server";
import { createTenant, mustLoopfs, type Tenant } from "./tenant";
import { missingTools, mustRun, runTool } from "./tools";

const skip = missingTools("mke2fs", "e2fsck", "debugfs");

const ADDED = "a new file, written by debugfs and sent block by block\n";
const OVERWRITTEN = "known.txt after the edit: different length, different bytes\n".repeat(90);

describe.skipIf(skip)("writing only the changed blocks of an ext4 image", () => {
  let tenant: Tenant;
  let work: Awaited<ReturnType<typeof workDir>>;
  let files: KnownFiles;
  let image: string;
  let device: string;

  beforeAll(async () => {
    work = await workDir();
    files = knownFiles();
    image = await makeExt4(work.dir, "disk.img", files);
    tenant = await createTenant(sharedServer());
    await mustLoopfs(tenant.env, ["image", "push", image, "base"]);
    device = await mustLoopfs(tenant.env, ["--find", "--show", "base"]);
  });

  afterAll(async () => {
    await work?.cleanup();
  });

  it("leaves the device equal to the edited copy, a clean fs with the new contents", async () => {
    const edited = join(work.dir, "edited.img");
    await copyFile(image, edited);
    await writeFile(join(work.dir, "added.txt"), ADDED);
    await writeFile(join(work.dir, "overwritten.txt"), OVERWRITTEN);
    await writeFile(
      join(work.dir, "edits"),
      [
        `write ${join(work.dir, "added.txt")} /notes/added.txt`,
        "rm /known.txt",
        `write ${join(work.dir, "overwritten.txt")} /known.txt`,
        "",
      ].join("\n"),
    );
    mustRun("debugfs", ["-w", "-f", join(work.dir, "edits"), edited]);

    const before = await readFile(image);
    const after = await readFile(edited);
    const ranges = changedRanges(before, after);
    const sent = ranges.reduce((sum, range) => sum + range.length, 0);
    expect(ranges.length).toBeGreaterThan(0);
    // Metadata and two small files: a few blocks, not the image.
    expect(sent).toBeLessThan(MiB);

    for (const [index, range] of ranges.entries()) {
      const piece = join(work.dir, `piece-${index}`);
      await writeFile(piece, after.subarray(range.offset, range.offset + range.length));
      await mustLoopfs(tenant.env, ["write", device, "--offset", String(range.offset), piece]);
    }

    const readBack = join(work.dir, "read-back.img");
    await mustLoopfs(tenant.env, ["read", device], readBack);
    expect(sha256(await readFile(readBack))).toBe(sha256(after));

    const fsck = runTool("e2fsck", ["-fn", readBack]);
    expect(fsck.status).toBe(0);
    expect(runTool("debugfs", ["-R", "cat /known.txt", readBack]).stdout).toBe(OVERWRITTEN);
    expect(runTool("debugfs", ["-R", "cat /notes/added.txt", readBack]).stdout).toBe(ADDED);
    const untouched = join(work.dir, "random.bin");
    mustRun("debugfs", ["-R", `dump /random.bin ${untouched}`, readBack]);
    expect(sha256(await readFile(untouched))).toBe(sha256(files["/random.bin"]));
  });
});
