/** Runs an operation and reports its value or its errno, so model and core compare as data. */
import { LoopError } from "../../src/errors";

export type Outcome<T> = { value: T } | { errno: string };

export function outcome<T>(fn: () => T): Outcome<T> {
  try {
    return { value: fn() };
  } catch (err) {
    if (err instanceof LoopError) return { errno: err.errno };
    throw err;
  }
}
