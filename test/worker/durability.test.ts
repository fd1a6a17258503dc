import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PAGE_ENTRIES } from "../../src/core";
import { attach, bytesOf, pattern, type Tenant } from "./helpers";
import { createImage, expectBytes, imageList, mount, putRange, tenantStub } from "./data-helpers";

const CHUNK = 4096;

/**
 * Restarts one tenant's object: the next call builds it anew from storage. Only this object,
 * since abortAllDurableObjects() would also cut the objects of tests running beside this one.
 */
async function restart(t: Tenant): Promise<void> {
  await runInDurableObject(tenantStub(t), (_object, state) => state.abort("restart")).catch(
    () => {},
  );
}

describe("an acknowledged write survives a restart of the Durable Object", () => {
  it("reads back a write after the object restarts", async () => {
    const t = await mount();
    await createImage(t, "disk", 8 * CHUNK, CHUNK);
    const dev = `/devices/${await attach(t, "disk")}`;
    const bytes = pattern(CHUNK + 300, 41);
    expect((await putRange(t, dev, CHUNK - 150, bytes)).status).toBe(204);
    const etag = (await t.call(dev, { method: "HEAD" })).headers.get("ETag");

    // A mark left on the running object; a restarted object does not carry it.
    const mark = (o: object) => runInDurableObject(tenantStub(t), (i) => Object.assign(i, o));
    expect(await mark({ restarted: false })).toMatchObject({ restarted: false });
    await restart(t);
    expect(await mark({})).not.toHaveProperty("restarted");

    const res = await t.call(dev, {
      headers: { Range: `bytes=${CHUNK - 150}-${2 * CHUNK + 149}` },
    });
    expect(res.status).toBe(206);
    expect(res.headers.get("ETag")).toBe(etag);
    expectBytes(await bytesOf(res), bytes);
  });

  it("keeps a block map that spans several pages", async () => {
    const t = await mount();
    const chunks = 3 * PAGE_ENTRIES + 10;
    await createImage(t, "wide", chunks * CHUNK, CHUNK);
    const indexes = [0, PAGE_ENTRIES - 1, PAGE_ENTRIES, 1500, 2 * PAGE_ENTRIES + 7, chunks - 1];
    for (const index of indexes) {
      const status = (await putRange(t, "/images/wide", index * CHUNK, pattern(CHUNK, index)))
        .status;
      expect(status).toBe(204);
    }
    // One write across a page boundary, in one commit.
    const seam = pattern(3 * CHUNK, 99);
    expect((await putRange(t, "/images/wide", (2 * PAGE_ENTRIES - 1) * CHUNK, seam)).status).toBe(
      204,
    );

    await restart(t);

    for (const index of indexes) {
      const res = await t.call("/images/wide", {
        headers: { Range: `bytes=${index * CHUNK}-${(index + 1) * CHUNK - 1}` },
      });
      expectBytes(await bytesOf(res), pattern(CHUNK, index), `chunk ${index}`);
    }
    const across = await t.call("/images/wide", {
      headers: {
        Range: `bytes=${(2 * PAGE_ENTRIES - 1) * CHUNK}-${(2 * PAGE_ENTRIES + 2) * CHUNK - 1}`,
      },
    });
    expectBytes(await bytesOf(across), seam, "across pages");
    const hole = await t.call("/images/wide", {
      headers: { Range: `bytes=${5 * CHUNK}-${6 * CHUNK - 1}` },
    });
    expectBytes(await bytesOf(hole), new Uint8Array(CHUNK), "hole");
    expect((await imageList(t))[0].storedBytes).toBe((indexes.length + 3) * CHUNK);
  });
});
