/**
 * The GUID Partition Table (UEFI 2.x, chapter 5), checked as the kernel checks the primary one.
 * Like the kernel without `gpt` on its command line, a damaged primary header is not replaced
 * by the backup at the disk's end: the disk then has no partitions.
 *
 *   LBA 0   protective MBR (checked by the caller)
 *   LBA 1   header: +0 "EFI PART", +12 header size, +16 header CRC32, +24 this LBA,
 *           +40 first usable LBA, +48 last usable LBA, +72 entry array LBA,
 *           +80 entry count, +84 entry size, +88 entry array CRC32
 *   LBA n   entry array: +0 type GUID, +32 first LBA, +40 last LBA (inclusive)
 */
import type { Partition } from "../tenant/types";
import { crc32 } from "./crc32";
import { MAX_PARTITIONS, type DiskReader } from "./disk-reader";

const SIGNATURE = "EFI PART";
/** The fields up to the entry array CRC; a header may be longer, never shorter. */
const MIN_HEADER_SIZE = 92;
/** The only entry size the kernel accepts. */
const ENTRY_SIZE = 128;
/** The type of an unused entry. */
const EMPTY_GUID = "00000000-0000-0000-0000-000000000000";

interface GptHeader {
  entryArrayLba: bigint;
  entryCount: number;
  entryArrayCrc: number;
}

/** The non-empty entries of a valid GPT, or [] when the header or entry array is damaged. */
export async function gptPartitions(disk: DiskReader): Promise<Partition[]> {
  const blockSize = disk.blockSize;
  const blocks = Math.floor(disk.size / blockSize);
  if (blocks < 2) return [];
  const lastLba = BigInt(blocks - 1);

  const headerBlock = await disk.bytes(blockSize, blockSize);
  const header = headerBlock && parseHeader(headerBlock, lastLba);
  if (!header || header.entryArrayLba > lastLba) return [];

  const arrayBytes = header.entryCount * ENTRY_SIZE;
  const array = await disk.bytes(Number(header.entryArrayLba) * blockSize, arrayBytes);
  if (!array || crc32(array) !== header.entryArrayCrc) return [];

  const view = new DataView(array.buffer, array.byteOffset, array.byteLength);
  const found: Partition[] = [];
  for (let index = 0; index < Math.min(header.entryCount, MAX_PARTITIONS); index++) {
    const at = index * ENTRY_SIZE;
    const type = guidString(array.subarray(at, at + 16));
    if (type === EMPTY_GUID) continue;
    const firstLba = view.getBigUint64(at + 32, true);
    const lastEntryLba = view.getBigUint64(at + 40, true);
    // The kernel skips entries that reach past the last block; reversed ones describe nothing.
    if (firstLba > lastLba || lastEntryLba > lastLba || lastEntryLba < firstLba) continue;
    found.push({
      number: index + 1,
      start: Number(firstLba) * blockSize,
      size: Number(lastEntryLba - firstLba + 1n) * blockSize,
      type,
    });
  }
  return found;
}

function parseHeader(block: Uint8Array, lastLba: bigint): GptHeader | null {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  if (new TextDecoder().decode(block.subarray(0, 8)) !== SIGNATURE) return null;

  const headerSize = view.getUint32(12, true);
  if (headerSize < MIN_HEADER_SIZE || headerSize > block.length) return null;
  // The header CRC covers `headerSize` bytes with its own field taken as zero.
  const covered = block.slice(0, headerSize);
  covered.fill(0, 16, 20);
  if (crc32(covered) !== view.getUint32(16, true)) return null;

  if (view.getBigUint64(24, true) !== 1n) return null;
  const firstUsable = view.getBigUint64(40, true);
  const lastUsable = view.getBigUint64(48, true);
  if (firstUsable > lastLba || lastUsable > lastLba || lastUsable < firstUsable) return null;

  const entryCount = view.getUint32(80, true);
  if (entryCount === 0 || view.getUint32(84, true) !== ENTRY_SIZE) return null;
  return {
    entryArrayLba: view.getBigUint64(72, true),
    entryCount,
    entryArrayCrc: view.getUint32(88, true),
  };
}

/** A GUID as text: the first three fields are stored little-endian, the last two as bytes. */
export function guidString(bytes: Uint8Array): string {
  const hex = (from: number, to: number, reversed: boolean) => {
    const part = Array.from(bytes.subarray(from, to), (b) => b.toString(16).padStart(2, "0"));
    return (reversed ? part.reverse() : part).join("");
  };
  return [
    hex(0, 4, true),
    hex(4, 6, true),
    hex(6, 8, true),
    hex(8, 10, false),
    hex(10, 16, false),
  ].join("-");
}
