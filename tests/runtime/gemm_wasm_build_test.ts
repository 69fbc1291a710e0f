import assert from "node:assert/strict";

// The AssemblyScript compiler reads the CI environment variable when it loads, so this test
// needs --allow-env=CI besides --allow-read=.; without it the test is reported as ignored.
const canCompile = (await Deno.permissions.query({ name: "env", variable: "CI" })).state ===
  "granted";

Deno.test({
  name: "runtime/_gemm_wasm.ts holds the build of runtime/wasm/gemm_kernels.ts (--allow-env=CI)",
  ignore: !canCompile,
  fn: async () => {
    const { compileGemmKernels, renderGemmWasm } = await import("../../runtime/wasm/build.ts");
    const committed = await Deno.readTextFile(
      new URL("../../runtime/_gemm_wasm.ts", import.meta.url),
    );
    const binaries = await compileGemmKernels();
    assert.ok(WebAssembly.validate(binaries.baseline), "the baseline build validates");
    assert.equal(
      renderGemmWasm(binaries),
      committed,
      "runtime/_gemm_wasm.ts is stale: run `deno task build:wasm`",
    );
  },
});
