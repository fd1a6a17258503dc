/**
 * LO_FLAGS_PARTSCAN on the Worker's side: reads the partition table of a bound device through
 * the ordinary read path (a bounded number of bytes, see MAX_SCAN_BYTES) and hands what it
 * finds to the tenant object, which serves each partition as `loopNpM` from then on.
 */
import type { Env } from "../env";
import { LoopError } from "../errors";
import type { TenantObject } from "../tenant/object";
import type { Caller, DeviceStatus } from "../tenant/types";
import { readPartitionTable } from "./partitions";
import { readStream } from "./read-stream";

export interface ScanRequest {
  env: Env;
  stub: DurableObjectStub<TenantObject>;
  caller: Caller;
  /** Status of the bound device as attach or set-status answered it. */
  status: DeviceStatus;
}

/**
 * Rescans the device and answers its status with the partitions found. Like the kernel, which
 * only warns when a rescan fails, a failed read leaves the device bound and the partitions
 * unset; setting `partscan` again retries.
 */
export async function scanPartitions(request: ScanRequest): Promise<DeviceStatus> {
  const { env, stub, caller, status } = request;
  const target = { device: status.number };
  const read = (offset: number, length: number) =>
    collect(readStream({ env, stub, caller, target, start: offset, end: offset + length }), length);
  try {
    const partitions = await readPartitionTable(status.size, status.blockSize, read);
    const stored = await stub.setPartitions(caller, status.number, partitions, status);
    return stored ? { ...status, partitions } : status;
  } catch (thrown) {
    const errno = thrown instanceof LoopError ? thrown.errno : "EIO";
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    console.log(JSON.stringify({ event: "partscan", device: status.name, errno, message }));
    return status;
  }
}

async function collect(stream: ReadableStream<Uint8Array>, length: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let filled = 0;
  for await (const piece of stream) {
    bytes.set(piece, filled);
    filled += piece.length;
  }
  return bytes;
}
