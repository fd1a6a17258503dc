import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, OPERATOR, pattern, putImage } from "./helpers";
import { bindings, chunkKeys, mount, tenantStub } from "./data-helpers";

describe("unmount while a writer is still streaming", () => {
  it("sweeps the old mount's prefix again once late writers must have given up", async () => {
    const t = await mount();
    expect((await putImage(t, "disk", pattern(8192, 1))).status).toBe(201);
    const [key] = await chunkKeys(t);
    const oldPrefix = key.slice(0, key.lastIndexOf("/") + 1);

    expect((await api(`/${t.name}`, OPERATOR, { method: "DELETE" })).status).toBe(200);
    expect(await chunkKeys(t)).toEqual([]);
    // A writer that resolved its chunk ids before the unmount stores its chunk afterwards.
    await bindings.CHUNKS.put(`${oldPrefix}999`, pattern(4096, 2));
    expect(await chunkKeys(t)).toEqual([`${oldPrefix}999`]);

    const stub = tenantStub(t);
    await runInDurableObject(stub, (_, state) => {
      state.storage.sql.exec("UPDATE meta SET value = 0 WHERE key = 'retired_after'");
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await chunkKeys(t)).toEqual([]);
    // Nothing of the unmounted tenant is left in its storage either.
    const tables = await runInDurableObject(stub, (_, state) =>
      state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'").toArray(),
    );
    expect(tables.filter((row) => !String(row.name).startsWith("_cf"))).toEqual([]);
  });
});
