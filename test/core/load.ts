/** Loads build/core.wasm (run `npm run build` first) as the Worker does: a compiled module. */
import { readFileSync } from "node:fs";
import { Core, type CoreOptions } from "../../src/core/index";

export const coreModule = new WebAssembly.Module(
  readFileSync(new URL("../../build/core.wasm", import.meta.url)),
);

export function newCore(options?: CoreOptions): Core {
  return Core.instantiate(coreModule, options);
}
