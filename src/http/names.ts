/** Names in paths: tenants, loop devices and their partitions, images. */
import { LoopError } from "../errors";

/** Loop device numbers run 0..2^20-1, the kernel's minor number space for loop. */
export const MAX_DEVICE_NUMBER = (1 << 20) - 1;

const TENANT = /^[a-z0-9][a-z0-9-]{0,62}$/;
const DEVICE = /^loop(0|[1-9][0-9]{0,6})(?:p([1-9][0-9]{0,2}))?$/;
const IMAGE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function parseTenant(name: string): string {
  if (!TENANT.test(name)) {
    throw new LoopError("EINVAL", `bad tenant name: lowercase letters, digits and "-", 1..63`);
  }
  return name;
}

export interface DeviceName {
  number: number;
  /** Partition number for `loopNpM`, else null. */
  partition: number | null;
}

export function parseDevice(name: string): DeviceName {
  const match = DEVICE.exec(name);
  const number = match ? Number(match[1]) : NaN;
  if (!match || number > MAX_DEVICE_NUMBER) {
    throw new LoopError("EINVAL", `bad device name "${name.slice(0, 40)}": loop0..loop1048575`);
  }
  return { number, partition: match[2] ? Number(match[2]) : null };
}

export function parseImage(name: string): string {
  if (!IMAGE.test(name)) {
    throw new LoopError(
      "EINVAL",
      "bad image name: letters, digits, '.', '_' and '-', 1..128, not starting with '.' or '-'",
    );
  }
  return name;
}
