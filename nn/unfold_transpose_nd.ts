import type { NdArray } from "@einconv/runtime";
import {
  convTransposeUnfold,
  evaluate,
  type IntOrTuple,
  type TransposeConvOptions,
} from "@einconv/expressions";
import { withVirtualPatterns } from "./_virtual_patterns.ts";

/**
 * Unfolds the input of an N-d transpose convolution: the columns that, multiplied by
 * the reshaped weight, give the transpose convolution.
 *
 * @param x The transpose convolution's input `[B, C, *O]`.
 * @param kernelSize Kernel size (one for all dimensions or one each).
 * @param options The associated convolution's stride, padding, dilation and
 *   outputPadding.
 * @returns A Promise of a new `[B, C·prod(K), prod(I)]` tensor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { unfoldTransposeNd } from "@einconv/nn";
 *
 * const columns = await unfoldTransposeNd(tensor([[[1, 2]]]), 1, { stride: 2 });
 * assert.deepEqual(Array.from(columns.data), [1, 0, 2]);
 * ```
 */
export async function unfoldTransposeNd(
  x: NdArray,
  kernelSize: IntOrTuple,
  options?: TransposeConvOptions,
): Promise<NdArray> {
  return await evaluate(convTransposeUnfold(x, kernelSize, withVirtualPatterns(options)));
}
