/**
 * Streams a byte range of a device or image: asks the tenant object for the segments of one
 * window at a time, reads stored segments from R2 a few ahead of the client, and makes holes
 * into zeros without touching R2. Memory stays at PREFETCH_BYTES, whatever the range.
 */
import type { Segment } from "../core";
import type { Env } from "../env";
import { LoopError } from "../errors";
import type { Caller, ReadPlan, Target } from "../tenant/types";
import { readChunk } from "./chunks";

/**
 * Bytes of stored segments fetched ahead of the one being sent: enough R2 reads in flight to
 * hide their latency (16 at the default chunk size; more bought nothing in `npm run bench`),
 * few enough that many reads fit in one isolate's 128 MB.
 */
export const PREFETCH_BYTES = 4 << 20;
/** Segments queued ahead (holes included), so a long run of small holes stays bounded too. */
const MAX_AHEAD = 64;
/**
 * Zeros go out in pieces of this size, so a long hole costs no more memory than a short one
 * (1 MiB measured faster than 64 KiB; larger gained nothing).
 */
const ZERO_PIECE = 1 << 20;

export interface ReadRequest {
  env: Env;
  stub: DurableObjectStub<import("../tenant/object").TenantObject>;
  caller: Caller;
  target: Target;
  /** First byte, and one past the last byte, relative to the target. */
  start: number;
  end: number;
  /**
   * The plan that answered the response headers, when it was resolved from `start`: its
   * segments are the first window, so headers and first window describe one version. Later
   * windows (past MAX_RESOLVE_CHUNKS chunks) are resolved as the read reaches them; like a kernel
   * read racing a write, a read that long is not a snapshot.
   */
  first?: ReadPlan;
}

interface Pending {
  segment: Segment;
  prefix: string;
  bytes: Promise<Uint8Array> | null;
}

async function* segments(
  request: ReadRequest,
): AsyncGenerator<{ segment: Segment; prefix: string }> {
  let position = request.start;
  let first = request.first?.segments[0]?.deviceOffset === position ? request.first : undefined;
  while (position < request.end) {
    const plan: ReadPlan =
      first ??
      (await request.stub.resolve(
        request.caller,
        request.target,
        position,
        request.end - position,
      ));
    first = undefined;
    if (!plan.segments.length) {
      throw new LoopError("EIO", `the target shrank to ${plan.size} bytes during the read`);
    }
    for (const segment of plan.segments) {
      if (segment.deviceOffset >= request.end) break;
      const length = Math.min(segment.length, request.end - segment.deviceOffset);
      yield { segment: { ...segment, length }, prefix: plan.prefix };
      position = segment.deviceOffset + length;
    }
  }
}

async function* bytes(request: ReadRequest): AsyncGenerator<Uint8Array> {
  const source = segments(request);
  const ahead: Pending[] = [];
  let exhausted = false;
  const fetching = () =>
    ahead.reduce((sum, p) => sum + (p.bytes === null ? 0 : p.segment.length), 0);

  for (;;) {
    // At least one segment is always asked for, however large, so a read always progresses.
    while (
      !exhausted &&
      (ahead.length === 0 || fetching() < PREFETCH_BYTES) &&
      ahead.length < MAX_AHEAD
    ) {
      const next = await source.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      const { segment, prefix } = next.value;
      let pending: Promise<Uint8Array> | null = null;
      if (segment.kind === "stored") {
        pending = readChunk(
          request.env.CHUNKS,
          prefix,
          segment.chunkId,
          segment.chunkOffset,
          segment.length,
        );
        // A prefetch the client never waits for (it went away) must not count as unhandled.
        pending.catch(() => {});
      }
      ahead.push({ segment, prefix, bytes: pending });
    }
    const head = ahead.shift();
    if (!head) return;
    if (head.bytes) {
      yield await head.bytes;
      continue;
    }
    for (let left = head.segment.length; left > 0; left -= ZERO_PIECE) {
      yield new Uint8Array(Math.min(left, ZERO_PIECE));
    }
  }
}

/** A stream of exactly `end - start` bytes of the target. */
export function readStream(request: ReadRequest): ReadableStream<Uint8Array> {
  const pieces = bytes(request);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await pieces.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel() {
        await pieces.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}
