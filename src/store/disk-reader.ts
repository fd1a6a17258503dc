/**
 * The device as a partition-table parser sees it: its size, its logical block size, and a
 * reader that refuses anything past the device's end or past one scan's byte budget, so a
 * hostile table can neither make a scan read outside the device nor read without bound.
 */

/** Bytes one scan may read. A standard GPT needs 16.5 KiB, an MBR one sector per logical. */
export const MAX_SCAN_BYTES = 1 << 20;
/** The kernel gives a disk at most 256 minors (DISK_MAX_PARTS), one of them the whole disk. */
export const MAX_PARTITIONS = 255;
/** Extended boot records followed in one chain, so a chain that loops back ends. */
export const MAX_EBRS = 128;

/** Reads `length` bytes at byte `offset` of the device; never asked past the device's end. */
export type ReadBytes = (offset: number, length: number) => Promise<Uint8Array>;

export class DiskReader {
  private spent = 0;

  constructor(
    readonly size: number,
    readonly blockSize: number,
    private readonly read: ReadBytes,
  ) {}

  /** The bytes, or null when they lie past the device's end or past the scan's byte budget. */
  async bytes(offset: number, length: number): Promise<Uint8Array | null> {
    if (!Number.isSafeInteger(offset) || offset + length > this.size) return null;
    if (this.spent + length > MAX_SCAN_BYTES) return null;
    this.spent += length;
    return this.read(offset, length);
  }
}
