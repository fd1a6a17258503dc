import { describe, expect, it } from "vitest";
import { attach, bytesOf, mountTenant, pattern, putImage, type Tenant } from "./helpers";
import { GPT_LAYOUT, MBR_LAYOUT, fixtureImage, imagesSkipped } from "./partition-images";

const skipped = imagesSkipped();
if (skipped) console.warn(`partscan tests skip: ${skipped}`);
const withImages = it.skipIf(skipped !== null);

const CHUNK = 256 * 1024;

/**
 * An sfdisk image whose data partitions are filled with distinct bytes, so a read through the
 * wrong offset cannot pass. Extended partitions keep their bytes: they hold the EBRs.
 */
function filledImage(kind: "mbr" | "gpt"): Uint8Array {
  const image = fixtureImage(kind);
  for (const p of kind === "mbr" ? MBR_LAYOUT : GPT_LAYOUT) {
    if (p.type !== "0x05") image.set(pattern(p.size, p.number), p.start);
  }
  return image;
}

async function status(t: Tenant, device: string) {
  return (await (await t.call(`/devices/${device}/status`)).json()) as Record<string, unknown>;
}

/** Compares bytes by the first difference: toEqual walks megabytes element by element. */
function expectSameBytes(got: Uint8Array, want: Uint8Array) {
  expect(got.length).toBe(want.length);
  expect(got.findIndex((b, i) => b !== want[i])).toBe(-1);
}

async function errnoOf(res: Response): Promise<string> {
  return ((await res.json()) as { errno: string }).errno;
}

// Each test moves a few 8 MiB images through workerd; that takes seconds on a busy machine.
describe("partscan", { timeout: 60_000 }, () => {
  withImages(
    "shows the partitions of an MBR disk as loopNpM with the kernel's numbers",
    async () => {
      const t = await mountTenant();
      const image = filledImage("mbr");
      expect((await putImage(t, "disk", image, CHUNK)).status).toBe(201);
      const add = { op: "add", number: 0 };
      expect((await t.call("/loop-control", { method: "POST", json: add })).status).toBe(201);
      const res = await t.call("/devices/loop0/backing", {
        method: "PUT",
        json: { image: "disk", partscan: true },
      });
      expect(await res.json()).toMatchObject({ partscan: true, partitions: MBR_LAYOUT });
      expect(await status(t, "loop0")).toMatchObject({ partitions: MBR_LAYOUT });

      for (const p of MBR_LAYOUT) {
        const read = await t.call(`/devices/loop0p${p.number}`);
        expect(read.status).toBe(200);
        expect(read.headers.get("Content-Length")).toBe(String(p.size));
        expectSameBytes(await bytesOf(read), image.subarray(p.start, p.start + p.size));
      }
      const tail = await t.call("/devices/loop0p5", { headers: { Range: "bytes=-100" } });
      expect(tail.headers.get("Content-Range")).toBe(
        `bytes ${(1 << 20) - 100}-${(1 << 20) - 1}/${1 << 20}`,
      );
      // p5 ends at 5 MiB of the disk.
      expect(await bytesOf(tail)).toEqual(image.subarray((5 << 20) - 100, 5 << 20));
    },
  );

  withImages("shows GPT entries by index + 1 and answers ENODEV for an empty entry", async () => {
    const t = await mountTenant();
    const image = filledImage("gpt");
    await putImage(t, "disk", image, CHUNK);
    const device = await attach(t, "disk", { partscan: true, readOnly: true });
    expect(await status(t, device)).toMatchObject({ partitions: GPT_LAYOUT });

    for (const p of GPT_LAYOUT) {
      const read = await t.call(`/devices/${device}p${p.number}`);
      expectSameBytes(await bytesOf(read), image.subarray(p.start, p.start + p.size));
    }
    for (const missing of [3, 5, 128]) {
      const res = await t.call(`/devices/${device}p${missing}`);
      expect(res.status).toBe(404);
      expect(await errnoOf(res)).toBe("ENODEV");
    }
  });

  withImages("keeps a partition write inside the partition", async () => {
    const t = await mountTenant();
    const image = filledImage("mbr");
    await putImage(t, "disk", image, CHUNK);
    const device = await attach(t, "disk", { partscan: true });
    const p1 = MBR_LAYOUT[0];
    const p2 = MBR_LAYOUT[1];

    const data = pattern(1000, 99);
    const inside = await t.call(`/devices/${device}p1`, {
      method: "PUT",
      headers: { "Content-Range": `bytes ${p1.size - 1000}-${p1.size - 1}/*` },
      body: data,
    });
    expect(inside.status).toBe(204);
    const whole = await t.call(`/devices/${device}`, {
      headers: { Range: `bytes=${p1.start + p1.size - 1000}-${p1.start + p1.size + 99}` },
    });
    const got = await bytesOf(whole);
    expect(got.subarray(0, 1000)).toEqual(data);
    // p2 starts where p1 ends, and keeps its bytes.
    expect(p2.start).toBe(p1.start + p1.size);
    expect(got.subarray(1000)).toEqual(image.subarray(p2.start, p2.start + 100));

    const across = await t.call(`/devices/${device}p1`, {
      method: "PUT",
      headers: { "Content-Range": `bytes ${p1.size - 10}-${p1.size + 9}/*` },
      body: pattern(20, 5),
    });
    expect(across.status).toBe(416);
    expect(await errnoOf(across)).toBe("ERANGE");
    expect(across.headers.get("Content-Range")).toBe(`bytes */${p1.size}`);
    const after = await t.call(`/devices/${device}p1`, {
      headers: { Range: `bytes=${p1.size - 10}-${p1.size - 1}` },
    });
    expect(await bytesOf(after)).toEqual(data.subarray(990));
    const p2Head = await t.call(`/devices/${device}p2`, { headers: { Range: "bytes=0-9" } });
    expect(await bytesOf(p2Head)).toEqual(image.subarray(p2.start, p2.start + 10));
  });

  withImages("shows no partitions until partscan is set by PATCH status", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", filledImage("gpt"), CHUNK);
    const device = await attach(t, "disk");
    expect(await status(t, device)).not.toHaveProperty("partitions");
    const before = await t.call(`/devices/${device}p1`);
    expect(before.status).toBe(404);
    expect(await errnoOf(before)).toBe("ENODEV");

    const patched = await t.call(`/devices/${device}/status`, {
      method: "PATCH",
      json: { partscan: true },
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ partscan: true, partitions: GPT_LAYOUT });
    expect((await t.call(`/devices/${device}p1`)).status).toBe(200);
  });

  withImages("rescans on a capacity refresh after the table was written", async () => {
    const t = await mountTenant();
    const image = fixtureImage("mbr");
    await putImage(t, "blank", new Uint8Array(image.length), CHUNK);
    const device = await attach(t, "blank", { partscan: true });
    expect(await status(t, device)).toMatchObject({ partitions: [] });

    // Write the table sectors (MBR and EBRs) through the device, as fdisk would.
    for (let offset = 0; offset < image.length; offset += 512) {
      const sector = image.subarray(offset, offset + 512);
      if (!sector.some((b) => b !== 0)) continue;
      const put = await t.call(`/devices/${device}`, {
        method: "PUT",
        headers: { "Content-Range": `bytes ${offset}-${offset + 511}/*` },
        body: sector,
      });
      expect(put.status).toBe(204);
    }
    expect(await status(t, device)).toMatchObject({ partitions: [] });

    const refreshed = await t.call(`/devices/${device}/status`, {
      method: "PATCH",
      json: { capacity: "refresh" },
    });
    expect(await refreshed.json()).toMatchObject({ partitions: MBR_LAYOUT });
  });

  withImages("rescans when sizelimit changes: a partition past the end goes", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", filledImage("mbr"), CHUNK);
    const device = await attach(t, "disk", { partscan: true, sizelimit: 9 * 512 * 1024 });
    const numbers = async () =>
      ((await status(t, device)).partitions as { number: number; size: number }[]).map((p) => [
        p.number,
        p.size,
      ]);
    expect(await numbers()).toEqual([
      [1, 1 << 20],
      [2, 512 << 10],
      [3, 1024],
      [5, 512 << 10],
    ]);
    expect((await t.call(`/devices/${device}p6`)).status).toBe(404);

    await t.call(`/devices/${device}/status`, { method: "PATCH", json: { sizelimit: 0 } });
    expect((await numbers()).map(([n]) => n)).toEqual([1, 2, 3, 5, 6]);
    expect((await t.call(`/devices/${device}p6`)).status).toBe(200);
  });

  it("finds no partitions on a disk without a table", async () => {
    const t = await mountTenant();
    await putImage(t, "plain", pattern(256 * 1024, 3));
    const device = await attach(t, "plain", { partscan: true });
    expect(await status(t, device)).toMatchObject({ partscan: true, partitions: [] });
    expect((await t.call(`/devices/${device}p1`)).status).toBe(404);
  });

  withImages("forgets the partitions on detach", async () => {
    const t = await mountTenant();
    await putImage(t, "disk", filledImage("gpt"), CHUNK);
    const device = await attach(t, "disk", { partscan: true });
    await t.call(`/devices/${device}/backing`, { method: "DELETE" });
    const res = await t.call(`/devices/${device}/backing`, {
      method: "PUT",
      json: { image: "disk" },
    });
    expect(await res.json()).not.toHaveProperty("partitions");
    expect((await t.call(`/devices/${device}p1`)).status).toBe(404);
  });
});
