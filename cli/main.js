/**
 * One run of the command line: picks the command, builds its context, runs it, and turns any
 * failure into one line on stderr and an exit code. Streams, environment and fetch can be passed
 * in, so tests run it in-process.
 */

import { checkCommandLine, parseCommandLine, resolveConfig } from "./args.js";
import { createClient } from "./client.js";
import { COMMANDS } from "./commands.js";
import { exitCodeFor, formatError } from "./errors.js";
import { USAGE, VERSION } from "./usage.js";

/**
 * Runs one command line and answers its exit code.
 * @param {string[]} argv  arguments after the script name
 * @param {{ env?: Record<string, string | undefined>, stdout?: any, stderr?: any,
 *   fetch?: typeof fetch, trapInterrupt?: () => () => boolean }} [io]
 * @returns {Promise<number>}
 */
export async function main(argv, io = {}) {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  try {
    const line = parseCommandLine(argv);
    if (line.command === "help") {
      stdout.write(USAGE);
      return 0;
    }
    if (line.command === "version") {
      stdout.write(`loopfs ${VERSION}\n`);
      return 0;
    }
    const spec = COMMANDS[line.command];
    checkCommandLine(line, spec);
    const config = resolveConfig(line.values, io.env ?? process.env);
    const client = createClient(config, { fetch: io.fetch });
    return await spec.run({
      client,
      values: line.values,
      operands: line.operands,
      stdout,
      stderr,
      trapInterrupt: io.trapInterrupt,
    });
  } catch (err) {
    stderr.write(`${formatError(err)}\n`);
    return exitCodeFor(err);
  }
}
