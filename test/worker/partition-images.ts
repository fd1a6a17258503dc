/**
 * The sfdisk images of test/fixtures/make-partition-images.sh as the worker tests see them, and
 * the layout that script gave sfdisk, in bytes: the oracle the partition scan is checked against.
 */
import { inject } from "vitest";

/** An image as its non-zero 4 KiB blocks; everything else is zeros. */
export interface SparseImage {
  size: number;
  extents: { offset: number; base64: string }[];
}

export type PartitionImages = { mbr: SparseImage; gpt: SparseImage } | { skipped: string };

declare module "vitest" {
  export interface ProvidedContext {
    partitionImages: PartitionImages;
  }
}

const SECTOR = 512;
const part = (number: number, startSector: number, sectors: number, type: string) => ({
  number,
  start: startSector * SECTOR,
  size: sectors * SECTOR,
  type,
});

/** What the kernel shows for mbr.img: the extended partition 3 only as its first kilobyte. */
export const MBR_LAYOUT = [
  part(1, 2048, 2048, "0x83"),
  part(2, 4096, 1024, "0x82"),
  part(3, 6144, 2, "0x05"),
  part(5, 8192, 2048, "0x83"),
  part(6, 12288, 2048, "0x83"),
];

export const GPT_LAYOUT = [
  part(1, 2048, 2048, "0fc63daf-8483-4772-8e79-3d69d8477de4"),
  part(2, 4096, 4096, "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f"),
  part(4, 10240, 4096, "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"),
];

/** Why the sfdisk images are missing, or null when they were built. */
export function imagesSkipped(): string | null {
  const images = inject("partitionImages");
  return "skipped" in images ? images.skipped : null;
}

/** The whole bytes of one sfdisk image. */
export function fixtureImage(kind: "mbr" | "gpt"): Uint8Array {
  const images = inject("partitionImages");
  if ("skipped" in images) throw new Error(`no fixture images: ${images.skipped}`);
  const image = images[kind];
  const bytes = new Uint8Array(image.size);
  for (const extent of image.extents) {
    bytes.set(
      Uint8Array.from(atob(extent.base64), (c) => c.charCodeAt(0)),
      extent.offset,
    );
  }
  return bytes;
}
