/** Shared pieces of the HTTP range layer's tests. */
import { expect } from "vitest";
import { LoopError } from "../../src/errors";

export const MAX = Number.MAX_SAFE_INTEGER; // 2^53-1

/** Runs `fn` and returns the LoopError it throws, failing the test if it throws nothing. */
export function loopErrorOf(fn: () => unknown): LoopError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LoopError);
    return err as LoopError;
  }
  throw new Error("expected a LoopError, nothing was thrown");
}
