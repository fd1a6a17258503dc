/**
 * Strict JSON request bodies: every field typed, unknown fields refused, numbers integers in
 * 0..2^53-1. A bad body changes nothing and answers 400 with the errno of what is wrong.
 */
import { LoopError } from "../errors";

/** Control bodies are small; anything bigger is not one of ours. */
export const MAX_JSON_BODY = 64 * 1024;

export type FieldType = "u53" | "bool" | "string";

export interface FieldSpec {
  type: FieldType;
  required?: boolean;
  /** For strings: the values allowed. */
  oneOf?: readonly string[];
}

export type BodySpec = Record<string, FieldSpec>;

type FieldValue<F extends FieldSpec> = F["type"] extends "u53"
  ? number
  : F["type"] extends "bool"
    ? boolean
    : string;

export type BodyOf<S extends BodySpec> = {
  [K in keyof S]?: FieldValue<S[K]>;
};

export function checkU53(name: string, value: unknown): number {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new LoopError("EINVAL", `"${name}" must be a number`);
  }
  if (value > Number.MAX_SAFE_INTEGER || value === Infinity) {
    throw new LoopError("EOVERFLOW", `"${name}" is larger than 2^53-1`);
  }
  if (value < 0 || !Number.isInteger(value)) {
    throw new LoopError("EINVAL", `"${name}" must be a whole number of 0 or more`);
  }
  return value;
}

function checkField(name: string, spec: FieldSpec, value: unknown): unknown {
  if (spec.type === "u53") return checkU53(name, value);
  if (spec.type === "bool") {
    if (typeof value !== "boolean")
      throw new LoopError("EINVAL", `"${name}" must be true or false`);
    return value;
  }
  if (typeof value !== "string") throw new LoopError("EINVAL", `"${name}" must be a string`);
  if (spec.oneOf && !spec.oneOf.includes(value)) {
    throw new LoopError("EINVAL", `"${name}" must be one of ${spec.oneOf.join(", ")}`);
  }
  return value;
}

export function validateBody<S extends BodySpec>(raw: unknown, spec: S): BodyOf<S> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new LoopError("EINVAL", "the body must be a JSON object");
  }
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    // Own fields only: "constructor" or "toString" must not find Object's prototype.
    const field = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!field) throw new LoopError("EINVAL", `unknown field "${name.slice(0, 40)}"`);
    body[name] = checkField(name, field, value);
  }
  for (const [name, field] of Object.entries(spec)) {
    if (field.required && !(name in body)) {
      throw new LoopError("EINVAL", `"${name}" is required`);
    }
  }
  return body as BodyOf<S>;
}

/** Reads and validates a JSON body; an empty body counts as `{}`. */
export async function readBody<S extends BodySpec>(request: Request, spec: S): Promise<BodyOf<S>> {
  const text = await readLimited(request, MAX_JSON_BODY);
  if (text.trim() === "") return validateBody({}, spec);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new LoopError("EINVAL", "the body is not valid JSON");
  }
  return validateBody(raw, spec);
}

async function readLimited(request: Request, limit: number): Promise<string> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw new LoopError("EINVAL", `a JSON body is at most ${limit} bytes`);
    }
    parts.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
