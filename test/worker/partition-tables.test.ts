import { describe, expect, it } from "vitest";
import { crc32 } from "../../src/store/crc32";
import { MAX_EBRS, MAX_SCAN_BYTES } from "../../src/store/disk-reader";
import { readPartitionTable } from "../../src/store/partitions";
import { GPT_LAYOUT, MBR_LAYOUT, fixtureImage, imagesSkipped } from "./partition-images";

const skipped = imagesSkipped();
if (skipped) console.warn(`sfdisk image tests skip: ${skipped}`);
const withImages = it.skipIf(skipped !== null);

/** Scans an in-memory image and counts the bytes the scan read. */
async function scan(image: Uint8Array, blockSize = 512, size = image.length) {
  let bytesRead = 0;
  const partitions = await readPartitionTable(size, blockSize, async (offset, length) => {
    expect(offset + length).toBeLessThanOrEqual(size);
    bytesRead += length;
    return image.slice(offset, offset + length);
  });
  return { partitions, bytesRead };
}

function putU32(bytes: Uint8Array, at: number, value: number) {
  new DataView(bytes.buffer).setUint32(at, value, true);
}

function putU64(bytes: Uint8Array, at: number, value: number) {
  new DataView(bytes.buffer).setBigUint64(at, BigInt(value), true);
}

/** Writes one 16-byte MBR/EBR entry and the boot signature of the sector at `sector`. */
function mbrEntry(
  image: Uint8Array,
  sector: number,
  slot: number,
  type: number,
  lba: number,
  n: number,
) {
  const at = sector + 0x1be + 16 * slot;
  image[at + 4] = type;
  putU32(image, at + 8, lba);
  putU32(image, at + 12, n);
  image[sector + 510] = 0x55;
  image[sector + 511] = 0xaa;
}

/** A GPT for `blockSize`: protective MBR, header at LBA 1, 128 entries from LBA 2. */
function buildGpt(blocks: number, blockSize: number, entries: [number, number, number][]) {
  const image = new Uint8Array(blocks * blockSize);
  mbrEntry(image, 0, 0, 0xee, 1, blocks - 1);
  const array = new Uint8Array(128 * 128);
  for (const [index, first, last] of entries) {
    array.set([0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47], index * 128); // Linux data
    array.set([0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4], index * 128 + 8);
    putU64(array, index * 128 + 32, first);
    putU64(array, index * 128 + 40, last);
  }
  image.set(array, 2 * blockSize);
  const header = image.subarray(blockSize, blockSize + 92);
  header.set(new TextEncoder().encode("EFI PART"));
  const view = new DataView(image.buffer, blockSize);
  view.setUint32(8, 0x10000, true);
  view.setUint32(12, 92, true);
  view.setBigUint64(24, 1n, true);
  view.setBigUint64(40, BigInt(2 + Math.ceil(array.length / blockSize)), true);
  view.setBigUint64(48, BigInt(blocks - 2), true);
  view.setBigUint64(72, 2n, true);
  view.setUint32(80, 128, true);
  view.setUint32(84, 128, true);
  view.setUint32(88, crc32(array), true);
  view.setUint32(16, crc32(header), true);
  return image;
}

describe("crc32", () => {
  it("matches the IEEE check value for the ASCII digits 1 to 9", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });
});

describe("MBR partition tables", () => {
  withImages("finds sfdisk's primaries, its extended partition and both logicals", async () => {
    const { partitions } = await scan(fixtureImage("mbr"));
    expect(partitions).toEqual(MBR_LAYOUT);
  });

  withImages(
    "truncates a partition that reaches past the device and drops one past it",
    async () => {
      const size = 9 * 512 * 1024; // 4.5 MiB: p5 (4..5 MiB) is cut, p6 (6..7 MiB) is gone
      const { partitions } = await scan(fixtureImage("mbr"), 512, size);
      expect(partitions.map((p) => [p.number, p.size])).toEqual([
        [1, 1 << 20],
        [2, 512 << 10],
        [3, 1024],
        [5, 512 << 10],
      ]);
    },
  );

  it("finds nothing in a sector without the 55 AA signature", async () => {
    const image = new Uint8Array(2 << 20);
    mbrEntry(image, 0, 0, 0x83, 2048, 100);
    expect((await scan(image)).partitions).toHaveLength(1);
    image[511] = 0;
    expect((await scan(image)).partitions).toEqual([]);
  });

  it("takes a boot sector whose boot flag is neither 0 nor 0x80 for a filesystem", async () => {
    const image = new Uint8Array(2 << 20);
    mbrEntry(image, 0, 0, 0x83, 2048, 100);
    image[0x1be] = 0x12;
    expect((await scan(image)).partitions).toEqual([]);
    image[0x1be] = 0x80;
    expect((await scan(image)).partitions).toEqual([
      { number: 1, start: 2048 * 512, size: 100 * 512, type: "0x83" },
    ]);
  });

  it("counts addresses in logical blocks of the device", async () => {
    const image = new Uint8Array(1 << 20);
    mbrEntry(image, 0, 1, 0x83, 16, 32);
    expect((await scan(image, 4096)).partitions).toEqual([
      { number: 2, start: 16 * 4096, size: 32 * 4096, type: "0x83" },
    ]);
  });

  it("stops an EBR chain that links back to itself after one pass", async () => {
    const image = new Uint8Array(1 << 20);
    mbrEntry(image, 0, 0, 0x0f, 100, 1000);
    mbrEntry(image, 100 * 512, 0, 0x83, 1, 10);
    mbrEntry(image, 100 * 512, 1, 0x05, 0, 1000);
    expect((await scan(image)).partitions).toEqual([
      { number: 1, start: 100 * 512, size: 1024, type: "0x0f" },
      { number: 5, start: 101 * 512, size: 10 * 512, type: "0x83" },
    ]);
  });

  it(`follows at most ${MAX_EBRS} EBRs of an endless chain`, async () => {
    const image = new Uint8Array(4 << 20);
    mbrEntry(image, 0, 0, 0x85, 64, 6000);
    for (let k = 0; k < 1000; k++) {
      const ebr = (64 + 4 * k) * 512;
      if (ebr + 512 > image.length) break;
      mbrEntry(image, ebr, 0, 0x83, 1, 2);
      mbrEntry(image, ebr, 1, 0x05, 4 * (k + 1), 4);
    }
    const { partitions, bytesRead } = await scan(image);
    const logicals = partitions.filter((p) => p.number >= 5);
    expect(logicals).toHaveLength(MAX_EBRS);
    expect(logicals.at(-1)!.number).toBe(4 + MAX_EBRS);
    expect(logicals.at(-1)!.start).toBe((64 + 4 * (MAX_EBRS - 1) + 1) * 512);
    expect(bytesRead).toBe(512 * (1 + MAX_EBRS));
  });
});

describe("GPT partition tables", () => {
  withImages("finds sfdisk's entries 1, 2 and 4 and leaves the empty entry 3 out", async () => {
    const { partitions, bytesRead } = await scan(fixtureImage("gpt"));
    expect(partitions).toEqual(GPT_LAYOUT);
    expect(bytesRead).toBe(512 + 512 + 128 * 128);
  });

  withImages("finds nothing when the header CRC does not match", async () => {
    const image = fixtureImage("gpt");
    image[512 + 56] ^= 0xff; // the disk GUID, covered by the header CRC
    expect((await scan(image)).partitions).toEqual([]);
  });

  withImages("finds nothing when the entry array CRC does not match", async () => {
    const image = fixtureImage("gpt");
    image[1024 + 32] ^= 1; // first LBA of entry 1
    expect((await scan(image)).partitions).toEqual([]);
  });

  withImages("finds nothing without a protective entry starting at LBA 1", async () => {
    const image = fixtureImage("gpt");
    putU32(image, 0x1be + 8, 2);
    expect((await scan(image)).partitions).toEqual([]);
  });

  withImages("finds nothing when the usable area reaches past a shrunken device", async () => {
    const { partitions } = await scan(fixtureImage("gpt"), 512, 6 << 20);
    expect(partitions).toEqual([]);
  });

  it("reads a 4 KiB-sector GPT with block size 4096 and only then", async () => {
    const image = buildGpt(1024, 4096, [
      [0, 256, 511],
      [2, 512, 1000],
    ]);
    expect((await scan(image, 4096)).partitions).toEqual([
      { number: 1, start: 256 * 4096, size: 256 * 4096, type: GPT_LAYOUT[0].type },
      { number: 3, start: 512 * 4096, size: 489 * 4096, type: GPT_LAYOUT[0].type },
    ]);
    expect((await scan(image, 512)).partitions).toEqual([]);
  });

  it("skips entries that end past the last block or end before they start", async () => {
    const image = buildGpt(2048, 512, [
      [0, 100, 199],
      [1, 300, 2048],
      [2, 500, 400],
    ]);
    expect((await scan(image)).partitions.map((p) => p.number)).toEqual([1]);
  });

  it("refuses an entry array larger than the scan budget without reading it", async () => {
    const image = buildGpt(2048, 512, [[0, 100, 199]]);
    const header = new DataView(image.buffer, 512);
    header.setUint32(80, MAX_SCAN_BYTES / 128 + 1, true);
    header.setUint32(16, 0, true);
    header.setUint32(16, crc32(image.subarray(512, 512 + 92)), true);
    const { partitions, bytesRead } = await scan(image);
    expect(partitions).toEqual([]);
    expect(bytesRead).toBe(1024);
  });
});
