import type { NdArray } from "@einconv/runtime";
import { type ConvOptions, convUnfold, evaluate, type IntOrTuple } from "@einconv/expressions";
import { withVirtualPatterns } from "./_virtual_patterns.ts";
import { type OutputOptions, splitOutputOptions } from "./output_options.ts";

/**
 * Unfolds (im2col) an N-d input like PyTorch's `nn.functional.unfold` (which only does
 * 2-d): every kernel-sized patch becomes a column.
 *
 * @param x Input `[B, C, *I]`.
 * @param kernelSize Kernel size (one for all dimensions or one each).
 * @param options Stride, padding, dilation; `out` to write the
 *   result into (see {@linkcode OutputOptions}).
 * @returns A Promise of a new `[B, C·prod(K), prod(O)]` tensor, or of `out`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { unfoldNd } from "@einconv/nn";
 *
 * const columns = await unfoldNd(tensor([[[1, 2, 3]]]), 2);
 * assert.deepEqual(Array.from(columns.data), [1, 2, 2, 3]);
 * ```
 */
export async function unfoldNd(
  x: NdArray,
  kernelSize: IntOrTuple,
  options?: ConvOptions & OutputOptions,
): Promise<NdArray> {
  const [hyperparameters, out] = splitOutputOptions(options);
  return await evaluate(convUnfold(x, kernelSize, withVirtualPatterns(hyperparameters)), { out });
}
