import type { NdArray } from "@einconv/runtime";
import { convTranspose, type ConvTransposeOptions } from "@einconv/expressions";
import { checkBias, evaluateWithBias } from "./_bias.ts";
import { withVirtualPatterns } from "./_virtual_patterns.ts";
import { type OutputOptions, splitOutputOptions } from "./output_options.ts";

/**
 * N-d transpose convolution with PyTorch's `conv_transpose` semantics, evaluated as the
 * input VJP of the associated convolution ({@linkcode convTranspose}).
 *
 * @param x Input `[B, C_in, *O]`.
 * @param weight Kernel `[C_in, C_out/G, *K]`.
 * @param bias Optional `[C_out]`.
 * @param options Stride, padding (integers), outputPadding, groups, dilation; `out` to write the
 *   result into (see {@linkcode OutputOptions}).
 * @returns A Promise of a new `[B, C_out, *I]` tensor with
 *   `I = (O − 1)·stride − 2·padding + dilation·(K − 1) + outputPadding + 1`, or of `out`.
 *
 * @example Stride 2 with output padding
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convTransposeNd } from "@einconv/nn";
 *
 * const y = await convTransposeNd(tensor([[[1, 2]]]), tensor([[[1, 1]]]), null, {
 *   stride: 2,
 *   outputPadding: 1,
 * });
 * assert.deepEqual(Array.from(y.data), [1, 1, 2, 2, 0]);
 * ```
 */
export async function convTransposeNd(
  x: NdArray,
  weight: NdArray,
  bias?: NdArray | null,
  options?: ConvTransposeOptions & OutputOptions,
): Promise<NdArray> {
  const [hyperparameters, out] = splitOutputOptions(options);
  const expression = convTranspose(x, weight, withVirtualPatterns(hyperparameters));
  checkBias(bias, expression.shape[1]);
  return await evaluateWithBias(expression, bias, out);
}
