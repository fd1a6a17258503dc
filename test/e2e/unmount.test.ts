/**
 * Umount while devices are still bound: the operator's DELETE of the tenant detaches them and
 * removes every chunk of that tenant from R2, as the R2 state on disk shows, and nothing of
 * another tenant.
 */

import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MiB, sha256, workDir } from "./images";
import { sharedServer, type ServerAddress } from "./shared-server";
import { storedBlobFiles, storedChunkKeys } from "./stored-chunks";
import { createTenant, mustLoopfs, type Tenant } from "./tenant";

describe("unmounting a tenant with devices bound", () => {
  let server: ServerAddress;
  let gone: Tenant;
  let kept: Tenant;
  let work: Awaited<ReturnType<typeof workDir>>;
  let image: string;

  beforeAll(async () => {
    work = await workDir();
    image = join(work.dir, "disk.img");
    const bytes = Buffer.alloc(2 * MiB);
    randomBytes(MiB + 5000).copy(bytes, 300_000);
    await writeFile(image, bytes);
    server = sharedServer();
    gone = await createTenant(server, "gone");
    kept = await createTenant(server, "kept");
    for (const tenant of [gone, kept]) {
      await mustLoopfs(tenant.env, ["image", "push", image, "disk"]);
    }
  });

  afterAll(async () => {
    await work?.cleanup();
  });

  it("removes every chunk of the tenant and leaves the other tenant whole", async () => {
    const writable = await mustLoopfs(gone.env, ["--find", "--show", "disk"]);
    await mustLoopfs(gone.env, ["--find", "--show", "--read-only", "disk"]);
    const extra = join(work.dir, "extra");
    await writeFile(extra, randomBytes(64 * 1024));
    await mustLoopfs(gone.env, ["write", writable, "--offset", "1792KiB", extra]);
    const usage = JSON.parse(await mustLoopfs(gone.env, ["tenant", "info"]));
    expect(usage).toMatchObject({ devices: 2, boundDevices: 2, images: 1 });
    expect(usage.storedBytes).toBeGreaterThan(0);

    // The server is shared: look only at the keys of these two tenants.
    const ofBoth = (keys: string[]) =>
      keys.filter((key) => key.startsWith(`${gone.name}/`) || key.startsWith(`${kept.name}/`));
    const before = ofBoth(await storedChunkKeys(server.persistTo));
    const goneKeys = before.filter((key) => key.startsWith(`${gone.name}/`));
    const keptKeys = before.filter((key) => key.startsWith(`${kept.name}/`));
    expect(goneKeys.length).toBeGreaterThan(0);
    expect(keptKeys.length).toBeGreaterThan(0);
    const blobsBefore = await storedBlobFiles(server.persistTo);

    const unmount = await fetch(`${server.url}/v1/tenants/${gone.name}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${server.operatorToken}` },
    });
    expect(unmount.status).toBe(200);
    expect(await unmount.json()).toEqual({ tenant: gone.name, deletedChunks: goneKeys.length });

    const after = ofBoth(await storedChunkKeys(server.persistTo));
    expect(after).toEqual(keptKeys);
    // The bytes leave the disk too (garbage of other tenants may go at the same time).
    await expect
      .poll(() => storedBlobFiles(server.persistTo))
      .toBeLessThanOrEqual(blobsBefore - goneKeys.length);
  });

  it("refuses the old token afterwards, and a new mount of the name starts empty", async () => {
    for (const path of ["", "devices", "devices/loop0", "images"]) {
      const response = await gone.call(path);
      expect([401, 404], `GET ${path || "usage"} → ${response.status}`).toContain(response.status);
      await response.body?.cancel();
    }

    const token = await mustLoopfs(gone.env, ["tenant", "create", gone.name, "--max", "4"]);
    expect(token).not.toBe(gone.token);
    const env = { ...gone.env, LOOPFS_TOKEN: token };
    const usage = JSON.parse(await mustLoopfs(env, ["tenant", "info"]));
    expect(usage).toMatchObject({ max: 4, devices: 0, boundDevices: 0, images: 0 });
    expect(usage.storedBytes).toBe(0);
  });

  it("still serves the other tenant's image byte for byte", async () => {
    const device = await mustLoopfs(kept.env, ["--find", "--show", "--read-only", "disk"]);
    const readBack = join(work.dir, "kept.img");
    await mustLoopfs(kept.env, ["read", device], readBack);
    expect(sha256(await readFile(readBack))).toBe(sha256(await readFile(image)));
  });
});
