import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { LoopError } from "../../src/errors";
import { tenantClient } from "../../src/tenant/client";
import type { TenantObject } from "../../src/tenant/object";
import { attach, bytesOf, pattern, putImage, type Tenant } from "./helpers";
import {
  bindings,
  chunkKeys,
  expectBytes,
  mount,
  putRange,
  sweep,
  tenantStub,
} from "./data-helpers";

const CHUNK = 4096;
const OPERATOR = { kind: "operator" as const };

/** Runs `step` inside the tenant's object with its SQLite storage at hand. */
function inObject<T>(t: Tenant, step: (object: TenantObject, sql: SqlStorage) => T) {
  return runInDurableObject(tenantStub(t), (object: TenantObject, state) =>
    step(object, state.storage.sql),
  );
}

/** Sets the grace period of the running object, as LOOPFS_GC_GRACE_SECONDS would. */
function setGrace(t: Tenant, seconds: number) {
  return inObject(t, (object) => {
    const instance = (object as unknown as { instance: { options: { gcGraceSeconds: number } } })
      .instance;
    instance.options.gcGraceSeconds = seconds;
  });
}

const garbage = (t: Tenant) =>
  inObject(t, (_o, sql) =>
    sql.exec<{ chunk_id: number; delete_after: number }>("SELECT * FROM garbage").toArray(),
  );

describe("garbage collection", () => {
  it("keeps a replaced chunk for the grace period, then deletes it", async () => {
    const t = await mount();
    await putImage(t, "disk", pattern(2 * CHUNK, 51), CHUNK);
    const before = await chunkKeys(t);
    await setGrace(t, 300);
    const started = Date.now();
    expect((await putRange(t, "/images/disk", 0, pattern(CHUNK, 52))).status).toBe(204);

    const rows = await garbage(t);
    expect(rows.length).toBe(1);
    expect(before).toContain(`${before[0].replace(/\d+$/, "")}${rows[0].chunk_id}`);
    expect(rows[0].delete_after).toBeGreaterThanOrEqual(started + 300_000);
    expect(await sweep(t)).toBe(0);
    expect((await chunkKeys(t)).length).toBe(3);

    // Time passes: the grace period is over.
    await inObject(t, (_o, sql) => sql.exec("UPDATE garbage SET delete_after = 0"));
    expect(await sweep(t)).toBe(1);
    expect((await chunkKeys(t)).length).toBe(2);
    expect(await garbage(t)).toEqual([]);
  });

  it("lets a reader that resolved a chunk before a write finish with the old bytes", async () => {
    const t = await mount();
    const old = pattern(16 * CHUNK, 53);
    await putImage(t, "disk", old, CHUNK);
    const dev = `/devices/${await attach(t, "disk")}`;
    await setGrace(t, 300);
    const res = await t.call(dev);
    const reader = res.body!.getReader();
    const first = await reader.read();
    // Every chunk the read will send is rewritten, then a sweep runs, while it streams.
    expect((await putRange(t, dev, 0, pattern(16 * CHUNK, 54))).status).toBe(204);
    await sweep(t);
    const pieces = [first.value!];
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      pieces.push(next.value);
    }
    const got = new Uint8Array(await new Blob(pieces).arrayBuffer());
    expectBytes(got, old);
    expectBytes(await bytesOf(await t.call(dev)), pattern(16 * CHUNK, 54));
  });

  it("sweeps the chunks of a writer that went away once its reservation expires", async () => {
    const t = await mount();
    await putImage(t, "disk", new Uint8Array(4 * CHUNK), CHUNK);
    const stub = tenantClient(tenantStub(t));
    const plan = await stub.beginWrite(OPERATOR, { image: "disk" }, 0, CHUNK);
    const bytes = pattern(CHUNK, 55);
    await bindings.CHUNKS.put(plan.prefix + plan.reservation.first, bytes);
    expect((await chunkKeys(t)).length).toBe(1);
    expect(await sweep(t)).toBe(0);

    // The upload timeout passes without a commit: the ids are orphans.
    await inObject(t, (_o, sql) => sql.exec("UPDATE pending SET expires = 0"));
    expect(await sweep(t)).toBeGreaterThanOrEqual(1);
    expect(await chunkKeys(t)).toEqual([]);

    // A commit arriving after that is refused, and the map still reads zeros.
    const sha256 = "0".repeat(64);
    const update = { chunkIndex: 0, expectChunkId: null, chunkId: plan.reservation.first, sha256 };
    const refused = await stub
      .commitWrite(OPERATOR, plan.imageId, [update], [plan.reservation], [])
      .then(
        () => null,
        (err: LoopError) => err.errno,
      );
    expect(refused).toBe("EAGAIN");
    expectBytes(await bytesOf(await t.call("/images/disk")), new Uint8Array(4 * CHUNK));
  });
});
