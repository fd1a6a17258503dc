/**
 * A whole disk with an MBR partition table (sfdisk), ext4 in partition 1 at 1 MiB: attached
 * with that partition's --offset and --sizelimit, the device is the file system itself, which
 * e2fsck and debugfs accept. With --partscan the partition shows up as loopNp1 as well.
 */

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { knownFiles, makeExt4, makeMbrDisk, MiB, sha256, workDir, type KnownFiles } from "./images";
import { sharedServer } from "./shared-server";
import { createTenant, mustLoopfs, type Tenant } from "./tenant";
import { missingTools, runTool } from "./tools";

const skip = missingTools("mke2fs", "e2fsck", "debugfs", "sfdisk");

describe.skipIf(skip)("a partition of an MBR disk through offset and sizelimit", () => {
  let tenant: Tenant;
  let work: Awaited<ReturnType<typeof workDir>>;
  let files: KnownFiles;
  let filesystem: string;
  let partition: { disk: string; offset: number; size: number };

  beforeAll(async () => {
    work = await workDir();
    files = knownFiles();
    filesystem = await makeExt4(work.dir, "part1.img", files);
    partition = await makeMbrDisk(work.dir, "disk.img", filesystem, 12 * MiB);
    tenant = await createTenant(sharedServer());
    await mustLoopfs(tenant.env, ["image", "push", partition.disk, "disk"]);
  });

  afterAll(async () => {
    await work?.cleanup();
  });

  it("sfdisk puts partition 1 at 1 MiB, 8 MiB long", () => {
    const table = JSON.parse(runTool("sfdisk", ["--json", partition.disk]).stdout);
    expect(table.partitiontable.partitions).toEqual([
      expect.objectContaining({ start: 2048, size: (8 * MiB) / 512, type: "83" }),
    ]);
  });

  it("reads a file system that passes e2fsck with the known file inside", async () => {
    const device = await mustLoopfs(tenant.env, [
      "--find",
      "--show",
      "--read-only",
      "--offset",
      "1MiB",
      "--sizelimit",
      "8MiB",
      "disk",
    ]);
    const status = JSON.parse(await mustLoopfs(tenant.env, ["status", device]));
    expect(status).toMatchObject({ offset: MiB, sizelimit: 8 * MiB, size: 8 * MiB });

    const readBack = join(work.dir, `${device}.img`);
    await mustLoopfs(tenant.env, ["read", device], readBack);
    const bytes = await readFile(readBack);
    expect(bytes.length).toBe(partition.size);
    expect(sha256(bytes)).toBe(sha256(await readFile(filesystem)));

    const fsck = runTool("e2fsck", ["-fn", readBack]);
    expect(fsck.stdout + fsck.stderr).not.toMatch(/error|corrupt|inconsisten/i);
    expect(fsck.status).toBe(0);
    const cat = runTool("debugfs", ["-R", "cat /known.txt", readBack]);
    expect(cat.stdout).toBe(files["/known.txt"]);
    const leaf = runTool("debugfs", ["-R", "cat /notes/deeper/leaf.txt", readBack]);
    expect(leaf.stdout).toBe(files["/notes/deeper/leaf.txt"]);
  });

  it("shows partition 1 as loopNp1 with --partscan, the same bytes as the file system", async () => {
    const device = await mustLoopfs(tenant.env, [
      "--find",
      "--show",
      "--read-only",
      "--partscan",
      "disk",
    ]);
    const status = JSON.parse(await mustLoopfs(tenant.env, ["status", device]));
    expect(status.partitions).toEqual([
      expect.objectContaining({ number: 1, start: MiB, size: 8 * MiB }),
    ]);

    // The command names whole devices only, so the partition is read over plain HTTP.
    const response = await tenant.call(`devices/${device}p1`);
    expect(response.status).toBe(200);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(sha256(bytes)).toBe(sha256(await readFile(filesystem)));
  });
});
