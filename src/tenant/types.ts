/** Shapes that cross the RPC boundary between the Worker and the tenant Durable Object. */
import type { Segment } from "../core";

/** Who is asking: the operator (checked by the Worker against its secret), or a tenant token. */
export type Caller = { kind: "operator" } | { kind: "tenant"; tokenHash: string };

/** What a read or write addresses: a loop device of the instance, or an image directly. */
export type Target = { device: number; partition?: number } | { image: string };

export interface MountAnswer {
  tenant: string;
  max: number;
  token: string;
}

export interface Usage {
  tenant: string;
  max: number;
  devices: number;
  boundDevices: number;
  images: number;
  storedBytes: number;
}

export interface Partition {
  number: number;
  start: number;
  size: number;
  type: string;
}

export interface DeviceStatus {
  name: string;
  number: number;
  image: string | null;
  offset: number;
  sizelimit: number;
  size: number;
  readOnly: boolean;
  autoclear: boolean;
  leaseSeconds: number;
  partscan: boolean;
  blockSize: number;
  partitions?: Partition[];
}

export interface AttachConfig {
  image: string;
  offset: number;
  sizelimit: number;
  readOnly: boolean;
  autoclear: boolean;
  leaseSeconds: number;
  partscan: boolean;
  blockSize: number;
}

export interface StatusPatch {
  offset?: number;
  sizelimit?: number;
  autoclear?: boolean;
  leaseSeconds?: number;
  partscan?: boolean;
  blockSize?: number;
  capacity?: "refresh";
}

export interface ImageRecord {
  name: string;
  size: number;
  chunkSize: number;
  storedBytes: number;
  attached: string[];
}

/** Where the bytes of a target live, for one window of a read. */
export interface ReadPlan {
  /** Size of the target in bytes (device size, or image size). */
  size: number;
  etag: string;
  blockSize: number;
  /** R2 key of a chunk object: prefix + chunk id. */
  prefix: string;
  segments: Segment[];
}

/** Chunk ids handed out for one upload; unused ids expire and are swept. */
export interface Reservation {
  first: number;
  count: number;
}

export interface WritePlan {
  imageId: number;
  chunkSize: number;
  prefix: string;
  /** Byte offset in the image where the write starts. */
  imageStart: number;
  /** Current chunk ids of the chunks the write covers only in part (0 for a hole). */
  partial: { chunkIndex: number; chunkId: number }[];
  reservation: Reservation;
}

export interface ChunkUpdate {
  chunkIndex: number;
  /** The entry this update was computed from; null when the write covers the whole chunk. */
  expectChunkId: number | null;
  /** New chunk id, or 0 to make the chunk a hole. */
  chunkId: number;
  sha256: string | null;
}

export type CommitAnswer =
  | { ok: true; generation: number }
  | { ok: false; conflicts: { chunkIndex: number; chunkId: number }[] };
