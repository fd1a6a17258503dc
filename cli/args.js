/**
 * The command line: one option table, the choice of command, and the configuration.
 *
 * Two grammars share one table. Without a command word the options follow losetup
 * (`loopfs --find --show IMAGE`, `loopfs --detach loop0`); with one (`loopfs image push`) the
 * word picks the command. Each command lists the options it takes, so an option that would be
 * silently ignored is a usage error instead.
 */

import { parseArgs } from "node:util";
import { usageError } from "./errors.js";

export const DEFAULT_URL = "http://127.0.0.1:8787";

/** Every option of every command; short letters are losetup's. */
export const OPTIONS = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
  url: { type: "string" },
  tenant: { type: "string" },
  token: { type: "string" },
  "operator-token": { type: "string" },

  find: { type: "boolean", short: "f" },
  show: { type: "boolean" },
  detach: { type: "boolean", short: "d" },
  "detach-all": { type: "boolean", short: "D" },
  list: { type: "boolean", short: "l" },
  json: { type: "boolean", short: "J" },
  "set-capacity": { type: "boolean", short: "c" },
  offset: { type: "string", short: "o" },
  sizelimit: { type: "string" },
  "read-only": { type: "boolean", short: "r" },
  partscan: { type: "boolean", short: "P" },
  "sector-size": { type: "string", short: "b" },
  autoclear: { type: "boolean" },
  "no-autoclear": { type: "boolean" },
  lease: { type: "string" },

  length: { type: "string" },
  ranges: { type: "string" },
  "chunk-size": { type: "string" },
  size: { type: "string" },
  max: { type: "string" },
};

/** Options every command accepts. */
const COMMON = ["help", "version", "url", "tenant", "token", "operator-token"];

/** Command words and, for groups, their sub-words. */
const COMMAND_WORDS = {
  status: null,
  "set-status": null,
  read: null,
  write: null,
  discard: null,
  device: ["add", "remove", "rm"],
  image: ["push", "pull", "ls", "rm", "create", "resize"],
  tenant: ["create", "set-max", "info", "rm"],
};

/** losetup-style mode flags and the command each selects. */
const MODE_FLAGS = {
  find: "find",
  detach: "detach",
  "detach-all": "detach-all",
  list: "list",
  "set-capacity": "set-capacity",
};

/**
 * @typedef {object} CommandLine
 * @property {string} command    e.g. "find", "attach", "image push"
 * @property {string[]} operands positionals after the command words
 * @property {Record<string, string | boolean | undefined>} values
 */

/**
 * Parses argv (without node and script) into a command, its operands and option values.
 * @param {string[]} argv
 * @returns {CommandLine}
 */
export function parseCommandLine(argv) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError(err.message.replace(/\. To specify a positional.*$/s, ""));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === "help") {
    return { command: "help", operands: [], values };
  }
  if (values.version) return { command: "version", operands: [], values };

  const word = positionals[0];
  if (word !== undefined && word in COMMAND_WORDS) {
    return parseCommandWords(word, positionals.slice(1), values);
  }
  return parseLosetupMode(positionals, values);
}

function parseCommandWords(word, rest, values) {
  const subWords = COMMAND_WORDS[word];
  if (!subWords) return { command: word, operands: rest, values };
  const sub = rest[0];
  if (sub === undefined) throw usageError(`'${word}' needs one of: ${subWords.join(", ")}`);
  if (!subWords.includes(sub)) {
    throw usageError(`unknown command '${word} ${sub}' (expected ${subWords.join(", ")})`);
  }
  return { command: `${word} ${sub}`, operands: rest.slice(1), values };
}

function parseLosetupMode(positionals, values) {
  const modes = Object.keys(MODE_FLAGS).filter((flag) => values[flag]);
  if (modes.length > 1) {
    throw usageError(`--${modes[0]} and --${modes[1]} cannot be used together`);
  }
  if (modes.length === 1) {
    return { command: MODE_FLAGS[modes[0]], operands: positionals, values };
  }
  if (positionals.length === 0) return { command: "list", operands: [], values };
  if (positionals.length === 1) return { command: "show", operands: positionals, values };
  return { command: "attach", operands: positionals, values };
}

/**
 * Refuses options the command does not take, and a wrong number of operands.
 * @param {CommandLine} line
 * @param {{ options: string[], operands: [number, number], usage: string }} spec
 */
export function checkCommandLine(line, spec) {
  const allowed = new Set([...COMMON, ...spec.options]);
  for (const [name, value] of Object.entries(line.values)) {
    if (value !== undefined && !allowed.has(name)) {
      throw usageError(`option --${name} does not apply to '${line.command}'`);
    }
  }
  const [min, max] = spec.operands;
  const count = line.operands.length;
  if (count < min || count > max) {
    const what = count < min ? "missing operand" : `unexpected operand '${line.operands[max]}'`;
    throw usageError(`${what}; usage: loopfs ${spec.usage}`);
  }
}

/**
 * Where to connect and with which credentials: flags win over the environment.
 * @param {Record<string, string | boolean | undefined>} values
 * @param {Record<string, string | undefined>} env
 */
export function resolveConfig(values, env) {
  const url = String(values.url ?? env.LOOPFS_URL ?? DEFAULT_URL).replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]+/.test(url)) throw usageError(`invalid URL '${url}'`);
  return {
    url,
    tenant: /** @type {string|undefined} */ (values.tenant ?? env.LOOPFS_TENANT) || undefined,
    token: /** @type {string|undefined} */ (values.token ?? env.LOOPFS_TOKEN) || undefined,
    operatorToken:
      /** @type {string|undefined} */ (values["operator-token"] ?? env.LOOPFS_OPERATOR_TOKEN) ||
      undefined,
  };
}

/**
 * Accepts `loop3` or `/dev/loop3` and answers `loop3`.
 * @param {string} text
 */
export function parseDeviceName(text) {
  const match = /^(?:\/dev\/)?loop(\d+)$/.exec(text);
  if (!match) throw usageError(`'${text}' is not a loop device name (expected loopN)`);
  return `loop${Number(match[1])}`;
}

/**
 * Accepts a device or one of its partitions (`loop3p1`, after --partscan), for reads and writes.
 * @param {string} text
 */
export function parseDeviceOrPartition(text) {
  const match = /^(?:\/dev\/)?loop(\d+)(?:p([1-9]\d*))?$/.exec(text);
  if (!match) throw usageError(`'${text}' is not a loop device name (expected loopN or loopNpM)`);
  return `loop${Number(match[1])}${match[2] ? `p${match[2]}` : ""}`;
}

/**
 * Accepts `3` or `loop3` and answers 3.
 * @param {string} text
 */
export function parseDeviceNumber(text) {
  const match = /^(?:(?:\/dev\/)?loop)?(\d+)$/.exec(text);
  if (!match || !Number.isSafeInteger(Number(match[1]))) {
    throw usageError(`'${text}' is not a device number`);
  }
  return Number(match[1]);
}
