/**
 * `npm start`: runs the Worker locally with state kept in .wrangler/state between runs, after
 * making sure there is an operator token and a Wasm build, and telling what to type next.
 */

import { spawn } from "node:child_process";
import { ensureBuild, ensureOperatorToken, ROOT, wranglerArgs } from "./dev-server.js";

const PORT = 8787;

const { token, created } = ensureOperatorToken();
ensureBuild();

console.log(`
loopfs on http://127.0.0.1:${PORT}  (state in .wrangler/state)
operator token ${created ? "created in" : "read from"} .dev.vars

In another terminal:
  export LOOPFS_URL=http://127.0.0.1:${PORT}
  export LOOPFS_OPERATOR_TOKEN=${token}
  npx loopfs tenant create demo          # prints the export line for the tenant
  npx loopfs image push disk.img         # any local disk image
  npx loopfs --find --show disk.img
  npx loopfs --list
`);

const child = spawn("npx", wranglerArgs({ port: PORT, persistTo: ".wrangler/state" }), {
  cwd: ROOT,
  stdio: "inherit",
});
// Ctrl-C reaches wrangler through the terminal; wait for it to finish cleaning up.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => child.kill("SIGTERM"));
child.on("exit", (code, signal) => {
  process.exit(code ?? (signal === "SIGINT" ? 130 : 1));
});
