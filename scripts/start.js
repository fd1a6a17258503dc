/**
 * `npm start`: runs the Worker locally with state kept in .wrangler/state between runs, after
 * making sure there is an operator token and a Wasm build, and telling what to type next.
 * `npm start -- --port N` (or PORT=N) serves another port than 8787.
 */

import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { parseArgs } from "node:util";
import { ensureBuild, ensureOperatorToken, ROOT, wranglerArgs } from "./dev-server.js";

const DEFAULT_PORT = 8787;

const { values } = parseArgs({ options: { port: { type: "string" } } });
const PORT = Number(values.port ?? process.env.PORT ?? DEFAULT_PORT);
if (!Number.isInteger(PORT) || PORT < 1 || PORT > 65535) {
  console.error(
    `npm start: --port must be a TCP port number, not ${values.port ?? process.env.PORT}`,
  );
  process.exit(2);
}

/** Fails early, before printing what to type next, when the port is already taken. */
await new Promise((resolve) => {
  const probe = createServer();
  probe.once("error", () => {
    console.error(
      `npm start: 127.0.0.1:${PORT} is in use (another npm start?); choose another port with ` +
        `\`npm start -- --port N\``,
    );
    process.exit(1);
  });
  probe.listen(PORT, "127.0.0.1", () => probe.close(resolve));
});

const { token, created } = ensureOperatorToken();
ensureBuild();

console.log(`
loopfs on http://127.0.0.1:${PORT}  (state in .wrangler/state)
operator token ${created ? "created in" : "read from"} .dev.vars

In another terminal, in this checkout (npx finds loopfs here; elsewhere run \`npm link\` first):
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
  // Local emulation needs no Cloudflare account: no request.cf lookup, no update check.
  env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" },
});
// Ctrl-C reaches wrangler through the terminal; wait for it to finish cleaning up.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => child.kill("SIGTERM"));
child.on("exit", (code, signal) => {
  process.exit(code ?? (signal === "SIGINT" ? 130 : 1));
});
