/**
 * Partition tables of a disk image, read the way the kernel reads them for a loop device with
 * LO_FLAGS_PARTSCAN: a GPT behind a protective MBR, otherwise an MBR (DOS) table with its chain
 * of extended boot records. A table the kernel would reject gives no partitions, not an error.
 *
 * Numbering follows the kernel: MBR primaries keep their slot (1-4), logical partitions count
 * from 5 in chain order, and a GPT entry is its index + 1, so empty entries leave gaps.
 * Addresses in a table count logical blocks of the device; everything here answers bytes.
 *
 *   MBR / EBR sector (512 bytes)
 *   0x000 ........ boot code ........ 0x1BE  entry 1 | entry 2 | entry 3 | entry 4  0x1FE  55 AA
 *   entry (16 bytes): +0 boot flag, +4 type, +8 first LBA (u32 LE), +12 sectors (u32 LE)
 *
 * This module does no I/O of its own: the caller passes a function that reads device bytes.
 */
import type { Partition } from "../tenant/types";
import { DiskReader, MAX_EBRS, MAX_PARTITIONS, type ReadBytes } from "./disk-reader";
import { gptPartitions } from "./gpt";

const SECTOR = 512;
const ENTRY_TABLE = 0x1be;
const GPT_PROTECTIVE = 0xee;
/** DOS, Windows (LBA) and Linux extended partitions: their sectors hold a chain of EBRs. */
const EXTENDED_TYPES = new Set([0x05, 0x0f, 0x85]);

export interface MbrEntry {
  boot: number;
  type: number;
  firstLba: number;
  sectors: number;
}

/** The partitions of the device, clipped to its end; [] when it carries no table we accept. */
export async function readPartitionTable(
  size: number,
  blockSize: number,
  read: ReadBytes,
): Promise<Partition[]> {
  const disk = new DiskReader(size, blockSize, read);
  const mbr = await disk.bytes(0, SECTOR);
  if (!mbr || !hasBootSignature(mbr)) return [];
  const entries = mbrEntries(mbr);

  let found: Partition[];
  if (entries.some((entry) => entry.type === GPT_PROTECTIVE)) {
    // A GPT counts only behind a protective entry that starts at LBA 1; any 0xEE entry keeps
    // the DOS reading away, so a damaged GPT gives no partitions rather than stale MBR ones.
    const protective = entries.some((e) => e.type === GPT_PROTECTIVE && e.firstLba === 1);
    found = protective ? await gptPartitions(disk) : [];
  } else {
    found = await dosPartitions(disk, entries);
  }
  return fitToDevice(found, size);
}

export function hasBootSignature(sector: Uint8Array): boolean {
  return sector[510] === 0x55 && sector[511] === 0xaa;
}

export function mbrEntries(sector: Uint8Array): MbrEntry[] {
  const view = new DataView(sector.buffer, sector.byteOffset, SECTOR);
  return [0, 1, 2, 3].map((slot) => {
    const at = ENTRY_TABLE + 16 * slot;
    return {
      boot: sector[at],
      type: sector[at + 4],
      firstLba: view.getUint32(at + 8, true),
      sectors: view.getUint32(at + 12, true),
    };
  });
}

function dosType(type: number): string {
  return `0x${type.toString(16).padStart(2, "0")}`;
}

async function dosPartitions(disk: DiskReader, entries: MbrEntry[]): Promise<Partition[]> {
  // A sector with the signature but another boot flag than 0 or 0x80 is the boot sector of a
  // filesystem (FAT) written on the whole device, not a partition table.
  if (entries.some((entry) => entry.boot !== 0 && entry.boot !== 0x80)) return [];

  const blockSize = disk.blockSize;
  const found: Partition[] = [];
  let nextLogical = 5;
  for (const [slot, entry] of entries.entries()) {
    if (!entry.sectors) continue;
    const start = entry.firstLba * blockSize;
    const size = entry.sectors * blockSize;
    const type = dosType(entry.type);
    if (!EXTENDED_TYPES.has(entry.type)) {
      found.push({ number: slot + 1, start, size, type });
      continue;
    }
    // The kernel shows an extended partition as its first kilobyte (one block if larger), so
    // that nobody formats it whole, yet a boot loader placed there stays reachable.
    found.push({ number: slot + 1, start, size: Math.min(size, Math.max(blockSize, 1024)), type });
    const logicals = await logicalPartitions(disk, start, size, nextLogical);
    found.push(...logicals);
    nextLogical += logicals.length;
  }
  return found;
}

/**
 * Follows the chain of extended boot records inside an extended partition. Each EBR holds one
 * logical partition, addressed from the EBR itself, and a link to the next EBR, addressed from
 * the start of the extended partition.
 */
async function logicalPartitions(
  disk: DiskReader,
  extendedStart: number,
  extendedSize: number,
  firstNumber: number,
): Promise<Partition[]> {
  const blockSize = disk.blockSize;
  const extendedEnd = extendedStart + extendedSize;
  const found: Partition[] = [];
  const visited = new Set<number>();
  let ebr = extendedStart;
  let ebrSpan = extendedSize;

  while (visited.size < MAX_EBRS && !visited.has(ebr)) {
    visited.add(ebr);
    const sector = await disk.bytes(ebr, SECTOR);
    if (!sector || !hasBootSignature(sector)) break;
    const entries = mbrEntries(sector);

    for (const [slot, entry] of entries.entries()) {
      if (!entry.sectors || EXTENDED_TYPES.has(entry.type)) continue;
      const offset = entry.firstLba * blockSize;
      const size = entry.sectors * blockSize;
      const start = ebr + offset;
      // The third and fourth slots of an EBR often hold garbage: keep them only when they lie
      // within this EBR's span and within the extended partition, as the kernel does.
      if (slot >= 2 && (offset + size > ebrSpan || start + size > extendedEnd)) continue;
      const number = firstNumber + found.length;
      if (number > MAX_PARTITIONS) return found;
      found.push({ number, start, size, type: dosType(entry.type) });
    }

    const link = entries.find((entry) => entry.sectors && EXTENDED_TYPES.has(entry.type));
    if (!link) break;
    ebr = extendedStart + link.firstLba * blockSize;
    ebrSpan = link.sectors * blockSize;
  }
  return found;
}

/**
 * Drops partitions that start at or past the device's end and truncates those that reach past
 * it, as the kernel does (with a warning) when it adds them.
 */
function fitToDevice(partitions: Partition[], deviceSize: number): Partition[] {
  return partitions
    .filter((p) => p.start < deviceSize)
    .map((p) => ({ ...p, size: Math.min(p.size, deviceSize - p.start) }))
    .sort((a, b) => a.number - b.number);
}
