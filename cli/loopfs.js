#!/usr/bin/env node
/** loopfs: the command line for loopfs devices and images (see main.js, `loopfs --help`). */

import { main } from "./main.js";

/**
 * For transfers: the first Ctrl-C asks them to stop after the requests in flight (so a resumed
 * run finds whole pieces); the second one exits at once. Other commands keep the default.
 */
function trapInterrupt() {
  let interrupted = false;
  process.on("SIGINT", () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write("\nstopping after the requests in flight (Ctrl-C again to quit now)\n");
  });
  return () => interrupted;
}

/** A closed pipe on stdout (`loopfs read loop0 | head`) ends the command quietly. */
process.stdout.on("error", (err) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

const code = await main(process.argv.slice(2), { trapInterrupt });
process.exitCode = code;
