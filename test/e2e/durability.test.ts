/**
 * An acknowledged write survives a real restart: wrangler dev stopped (every Durable Object and
 * the R2 emulation go away) and started again on the same state directory.
 */

import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MiB, sha256, workDir } from "./images";
import { startDevServer, type DevServer } from "./server";
import { createTenant, mustLoopfs, type Tenant } from "./tenant";

describe("a write acknowledged before wrangler dev restarts", () => {
  let server: DevServer;
  let tenant: Tenant;
  let work: Awaited<ReturnType<typeof workDir>>;

  beforeAll(async () => {
    work = await workDir();
    server = await startDevServer();
    tenant = await createTenant(server);
  });

  afterAll(async () => {
    await server?.close();
    await work?.cleanup();
  });

  it("reads back after the restart, through the same device and token", async () => {
    await mustLoopfs(tenant.env, ["image", "create", "scratch", "--size", "4MiB"]);
    const device = await mustLoopfs(tenant.env, ["--find", "--show", "scratch"]);

    // Unaligned, across a chunk boundary whatever the chunk size, through the raw API.
    const offset = MiB - 1000;
    const written = randomBytes(300_000);
    const put = await tenant.call(`devices/${device}`, {
      method: "PUT",
      headers: { "Content-Range": `bytes ${offset}-${offset + written.length - 1}/*` },
      body: written,
    });
    expect(put.status).toBe(204);
    // And one through the command, at the very end of the device.
    const tail = randomBytes(4096);
    const tailFile = join(work.dir, "tail");
    await writeFile(tailFile, tail);
    const tailAt = 4 * MiB - tail.length;
    await mustLoopfs(tenant.env, ["write", device, "--offset", String(tailAt), tailFile]);

    await server.stop();
    await server.start();

    const status = JSON.parse(await mustLoopfs(tenant.env, ["status", device]));
    expect(status).toMatchObject({ image: "scratch", size: 4 * MiB, readOnly: false });
    const readBack = join(work.dir, "read-back.img");
    await mustLoopfs(tenant.env, ["read", device], readBack);
    const bytes = await readFile(readBack);
    expect(sha256(bytes.subarray(offset, offset + written.length))).toBe(sha256(written));
    expect(sha256(bytes.subarray(tailAt))).toBe(sha256(tail));
    // What was never written still reads as zeros.
    expect(bytes.subarray(0, offset).every((byte) => byte === 0)).toBe(true);
  });
});
