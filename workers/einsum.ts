import { einsumSync, type NdArray } from "@einconv/runtime";

/**
 * Evaluates an einsum and resolves to a new C-contiguous ndarray; the asynchronous
 * entry point that may run on the worker pool. Validation errors reject the Promise.
 *
 * @param equation numpy or einops style einsum equation.
 * @param operands The tensors, one per term of the equation.
 * @returns A Promise of the contraction.
 *
 * @example Batched matrix product
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { einsum } from "@einconv/workers";
 *
 * const a = tensor([[[1, 2]], [[3, 4]]]);
 * const b = tensor([[[1], [1]], [[2], [0]]]);
 * const c = await einsum("bij,bjk->bik", a, b);
 * assert.deepEqual(Array.from(c.data), [3, 6]);
 * ```
 */
export function einsum(equation: string, ...operands: NdArray[]): Promise<NdArray> {
  try {
    return Promise.resolve(einsumSync(equation, ...operands));
  } catch (error) {
    return Promise.reject(error);
  }
}
