import { contractPath } from "./contract_path.ts";
import { executePlan } from "./execute_plan.ts";
import type { NdArray } from "./tensor.ts";
import { checkTensor } from "./validate.ts";

/**
 * Evaluates an einsum on the calling thread: parses and plans the equation (both
 * cached), then runs the plan with GEMM kernels.
 *
 * Operands may be any strided views over `Float32Array` or `Float64Array`; they are
 * never changed. The result is a new C-contiguous ndarray, float32 if every operand
 * is float32 and float64 otherwise.
 *
 * @param equation numpy style (`"ij,jk->ik"`, `"...ij,...jk"`, `"ii->i"`) or einops
 *   style (`"batch c_in, c_out c_in -> batch c_out"`).
 * @param operands The tensors, one per term of the equation.
 * @returns The contraction.
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
 */
export function einsumSync(equation: string, ...operands: NdArray[]): NdArray {
  operands.forEach((x, at) => checkTensor(x, `operand ${at}`));
  const plan = contractPath(equation, ...operands);
  return executePlan(plan, operands);
}
