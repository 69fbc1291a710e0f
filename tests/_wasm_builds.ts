// The builds of the WASM kernels in tests: run a check on one build, then return to the
// default one.
import assert from "node:assert/strict";
import { forceWasmGemmBuild, type WasmGemmBuild, wasmGemmBuild } from "../runtime/_wasm_gemm.ts";

/** Runs `fn` on the given build of the WASM kernels, then returns to the default one. */
export function withBuild(build: WasmGemmBuild, fn: () => void): void {
  forceWasmGemmBuild(build);
  try {
    assert.equal(wasmGemmBuild(), build);
    fn();
  } finally {
    forceWasmGemmBuild(undefined);
  }
}
