/** Block map entries as the face shows them, and their kind codes inside core.wasm. */
import { LoopError } from "../errors";
import { checkCount } from "./numbers";

export type EntryKind = "hole" | "stored" | "parent";

/** stored: chunkId in 1..2^53-1 and a 32-byte sha256; hole and parent: chunkId 0, sha256 null. */
export interface MapEntry {
  kind: EntryKind;
  chunkId: number;
  sha256: Uint8Array | null;
}

/** Kind codes of assembly/maps.ts, indexed by code. */
export const KINDS: readonly EntryKind[] = ["hole", "stored", "parent"];
export const KIND_CODE: Record<EntryKind, number> = { hole: 0, stored: 1, parent: 2 };

export const SHA256_BYTES = 32;

export function checkEntry(entry: MapEntry): void {
  if (entry === null || typeof entry !== "object" || !(entry.kind in KIND_CODE)) {
    throw new LoopError("EINVAL", `map entry kind must be hole, stored or parent`);
  }
  checkCount(entry.chunkId, "chunkId");
  if (entry.kind === "stored") {
    if (entry.chunkId === 0) throw new LoopError("EINVAL", "a stored entry needs a chunkId");
    if (!(entry.sha256 instanceof Uint8Array) || entry.sha256.length !== SHA256_BYTES) {
      throw new LoopError("EINVAL", "a stored entry needs a 32-byte sha256");
    }
  } else if (entry.chunkId !== 0 || entry.sha256 !== null) {
    throw new LoopError("EINVAL", `a ${entry.kind} entry has chunkId 0 and sha256 null`);
  }
}

/** Entry from its kind code, chunk id and the 32 digest bytes at `at` (copied). */
export function readEntry(kind: number, chunkId: number, bytes: Uint8Array, at: number): MapEntry {
  if (kind !== 1) return { kind: KINDS[kind], chunkId: 0, sha256: null };
  return { kind: "stored", chunkId, sha256: bytes.slice(at, at + SHA256_BYTES) };
}

/** Entry from its kind code and chunk id, keeping `digest` itself (not copied) if stored. */
export function viewEntry(kind: number, chunkId: number, digest: Uint8Array): MapEntry {
  if (kind !== 1) return { kind: KINDS[kind], chunkId: 0, sha256: null };
  return { kind: "stored", chunkId, sha256: digest };
}
