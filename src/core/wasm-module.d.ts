/** A `.wasm` import is a compiled module (wrangler's CompiledWasm rule, vitest-pool-workers). */
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
