import { contractPath } from "./contract_path.ts";
import { executePlan } from "./execute_plan.ts";
import type { NdArray } from "./tensor.ts";
import { einsumArguments, type EinsumOptions } from "./einsum_arguments.ts";

/**
 * Evaluates an einsum on the calling thread: parses and plans the equation (both
 * cached), then runs the plan with GEMM kernels.
 *
 * Operands may be any strided views over `Float32Array` or `Float64Array`; they are
 * never changed. The result is a new C-contiguous ndarray, float32 if every operand
 * is float32 and float64 otherwise, unless options `{ out }` follow the operands: then
 * it is written into `out` (of the result's shape), which is returned.
 *
 * @param equation numpy style (`"ij,jk->ik"`, `"...ij,...jk"`, `"ii->i"`) or einops
 *   style (`"batch c_in, c_out c_in -> batch c_out"`).
 * @param args The tensors, one per term of the equation, then optionally
 *   {@linkcode EinsumOptions}.
 * @returns The contraction (`out` when given).
 *
 * @example Matrix product, trace and einops names
 * ```ts
 * import assert from "node:assert/strict";
 * import { einsumSync, tensor, toNested } from "@einconv/runtime";
 *
 * const a = tensor([[1, 2], [3, 4]]);
 * const b = tensor([[5, 6], [7, 8]]);
 * assert.deepEqual(toNested(einsumSync("ij,jk->ik", a, b)), [[19, 22], [43, 50]]);
 * assert.equal(einsumSync("ii", a).get(), 5);
 * assert.deepEqual(toNested(einsumSync("row j, j col -> row col", a, b)), [[19, 22], [43, 50]]);
 * ```
 *
 * @example Into an existing array
 * ```ts
 * import assert from "node:assert/strict";
 * import { einsumSync, tensor, toNested, zeros } from "@einconv/runtime";
 *
 * const a = tensor([[1, 2], [3, 4]]);
 * const out = zeros([2, 2]);
 * assert.equal(einsumSync("ij->ji", a, { out }), out);
 * assert.deepEqual(toNested(out), [[1, 3], [2, 4]]);
 * ```
 */
export function einsumSync(
  equation: string,
  ...args: NdArray[] | [...NdArray[], EinsumOptions]
): NdArray {
  const { operands, options } = einsumArguments(args);
  const plan = contractPath(equation, ...operands);
  return executePlan(plan, operands, { out: options.out });
}
