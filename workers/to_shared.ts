import { checkTensor, type NdArray } from "@einconv/runtime";
import { copyToShared } from "./_shared_array.ts";

/**
 * Returns a tensor whose storage is a `SharedArrayBuffer`, which workers read without a
 * copy: `x` itself if it already is, otherwise a view with the same shape, strides and
 * values over a shared copy of the part of `x.data` the view spans. `einsum` does this
 * for every operand of a sharded call; doing it once for tensors used in many calls
 * (weights, index patterns) saves the copy in each.
 *
 * @param x A tensor over `Float32Array` or `Float64Array`; it is not changed.
 * @returns `x`, or its shared copy.
 * @throws {TypeError} If `x` is not an ndarray over Float32Array or Float64Array.
 *
 * @example A transposed view keeps its strides
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor, toNested } from "@einconv/runtime";
 * import { toShared } from "@einconv/workers";
 *
 * const x = tensor([[1, 2, 3], [4, 5, 6]]).transpose(1, 0);
 * const shared = toShared(x);
 * assert.ok(shared.data.buffer instanceof SharedArrayBuffer);
 * assert.deepEqual(shared.stride, x.stride);
 * assert.deepEqual(toNested(shared), toNested(x));
 * assert.equal(toShared(shared), shared);
 * ```
 */
export function toShared(x: NdArray): NdArray {
  checkTensor(x, "x");
  return x.data.buffer instanceof SharedArrayBuffer ? x : copyToShared(x);
}
