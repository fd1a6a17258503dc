/**
 * An ext4 image made by mke2fs, pushed with `loopfs image push`, attached read-only with
 * `loopfs --find`, and compared byte for byte by qemu-img reading the device over HTTP with its
 * curl driver, which only speaks HTTP Basic.
 */

import { copyFile, open, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { knownFiles, makeExt4, MiB, workDir } from "./images";
import { sharedServer } from "./shared-server";
import { createTenant, mustLoopfs, type Tenant } from "./tenant";
import { missingTools, runTool } from "./tools";

const skip = missingTools("mke2fs", "qemu-img");

/**
 * qemu's curl driver gives up on a request after 5 s by default; wrangler dev on a busy
 * two-core CI machine can take that long to answer one, which is no fault of the product.
 */
const CURL_TIMEOUT_SECONDS = 60;

describe.skipIf(skip)("qemu-img reading a device over http", () => {
  let tenant: Tenant;
  let work: Awaited<ReturnType<typeof workDir>>;
  let image: string;
  let device: string;

  beforeAll(async () => {
    work = await workDir();
    image = await makeExt4(work.dir, "disk.img", knownFiles());
    tenant = await createTenant(sharedServer());
    await mustLoopfs(tenant.env, ["image", "push", image, "base"]);
    device = await mustLoopfs(tenant.env, ["--find", "--show", "--read-only", "base"]);
  });

  afterAll(async () => {
    await work?.cleanup();
  });

  it("attaches the pushed image read-only to the first free device", async () => {
    expect(device).toBe("loop0");
    const listing = JSON.parse(await mustLoopfs(tenant.env, ["--list", "--json"]));
    expect(listing.loopdevices).toEqual([
      expect.objectContaining({ name: "loop0", ro: true, "back-file": "base", size: 8 * MiB }),
    ]);
  });

  it("finds the device identical to the local image, credentials in the URL", () => {
    const result = runTool("qemu-img", [
      "compare",
      "-f",
      "raw",
      "-F",
      "raw",
      `json:${JSON.stringify({
        "file.driver": "http",
        "file.url": tenant.urlWithCredentials(`devices/${device}`),
        "file.timeout": CURL_TIMEOUT_SECONDS,
      })}`,
      image,
    ]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("Images are identical.");
    expect(result.status).toBe(0);
  });

  it("finds one changed byte in a local copy, password given as a qemu secret", async () => {
    const changed = join(work.dir, "changed.img");
    await copyFile(image, changed);
    const at = 5 * MiB + 12_345;
    const file = await open(changed, "r+");
    const byte = Buffer.alloc(1);
    await file.read(byte, 0, 1, at);
    byte[0] ^= 0xff;
    await file.write(byte, 0, 1, at);
    await file.close();

    const secret = join(work.dir, "token");
    await writeFile(secret, tenant.token, { mode: 0o600 });
    const source = {
      "file.driver": "http",
      "file.url": tenant.url(`devices/${device}`),
      "file.username": tenant.name,
      "file.password-secret": "token",
      "file.timeout": CURL_TIMEOUT_SECONDS,
    };
    const result = runTool("qemu-img", [
      "compare",
      "--object",
      `secret,id=token,file=${secret}`,
      "-f",
      "raw",
      "-F",
      "raw",
      `json:${JSON.stringify(source)}`,
      changed,
    ]);
    // qemu-img names the 512-byte sector that holds the first difference.
    const sector = Math.floor(at / 512) * 512;
    expect(result.stdout).toContain(`Content mismatch at offset ${sector}!`);
    expect(result.status).toBe(1);
  });
});
