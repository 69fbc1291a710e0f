import type { NdArray } from "@einconv/runtime";
import {
  convTransposeUnfold,
  evaluate,
  type IntOrTuple,
  type TransposeConvOptions,
} from "@einconv/expressions";
import { withVirtualPatterns } from "./_virtual_patterns.ts";
import { type OutputOptions, splitOutputOptions } from "./output_options.ts";

/**
 * Unfolds the input of an N-d transpose convolution: the columns that, multiplied by
 * the reshaped weight, give the transpose convolution.
 *
 * @param x The transpose convolution's input `[B, C, *O]`.
 * @param kernelSize Kernel size (one for all dimensions or one each).
 * @param options The associated convolution's stride, padding, dilation and
 *   outputPadding; `out` to write the
 *   result into (see {@linkcode OutputOptions}).
 * @returns A Promise of a new `[B, C·prod(K), prod(I)]` tensor, or of `out`.
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
  options?: TransposeConvOptions & OutputOptions,
): Promise<NdArray> {
  const [hyperparameters, out] = splitOutputOptions(options);
  return await evaluate(convTransposeUnfold(x, kernelSize, withVirtualPatterns(hyperparameters)), {
    out,
  });
}
