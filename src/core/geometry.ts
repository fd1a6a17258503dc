/** Device size from its backing image, as the kernel's loop driver computes it. */
import { checkCount } from "./numbers";

export interface DeviceGeometry {
  imageSize: number;
  offset: number;
  sizelimit: number;
}

/** Sector size the kernel rounds a loop device's size down to. */
const SECTOR_BYTES = 512;

/** min(imageSize - offset, sizelimit if non-zero), rounded down to 512; 0 past the end. */
export function deviceSize(g: DeviceGeometry): number {
  const imageSize = checkCount(g.imageSize, "imageSize");
  const offset = checkCount(g.offset, "offset");
  const sizelimit = checkCount(g.sizelimit, "sizelimit");
  if (offset >= imageSize) return 0;

  let size = imageSize - offset;
  if (sizelimit > 0 && sizelimit < size) size = sizelimit;
  return size - (size % SECTOR_BYTES);
}
