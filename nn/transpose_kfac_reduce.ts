import type { NdArray } from "@einconv/runtime";
import {
  convTransposeKfacReduce,
  evaluate,
  type IntOrTuple,
  type TransposeKfacReduceOptions,
} from "@einconv/expressions";
import { withVirtualPatterns } from "./_virtual_patterns.ts";
import { type OutputOptions, splitOutputOptions } from "./output_options.ts";

/**
 * The KFAC-reduce input factor of an N-d transpose convolution:
 * `1/(B·prod(I)²) · Σ_b ([[X_b]] 1)([[X_b]] 1)ᵀ` per group, `[[X_b]]` the transpose
 * convolution's unfolded input.
 *
 * @param x The transpose convolution's input `[B, C, *O]`.
 * @param kernelSize Kernel size (one for all dimensions or one each).
 * @param options The associated convolution's stride, padding, dilation, outputPadding
 *   or outputSize, and groups; `out` to write the
 *   result into (see {@linkcode OutputOptions}).
 * @returns A Promise of a new `[G, C/G·prod(K), C/G·prod(K)]` tensor, or of `out`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { transposeKfacReduce } from "@einconv/nn";
 *
 * const factor = await transposeKfacReduce(tensor([[[1, 2]]]), 1, { stride: 2 });
 * assert.deepEqual(Array.from(factor.data), [1]);
 * ```
 */
export async function transposeKfacReduce(
  x: NdArray,
  kernelSize: IntOrTuple,
  options?: TransposeKfacReduceOptions & OutputOptions,
): Promise<NdArray> {
  const [hyperparameters, out] = splitOutputOptions(options);
  return await evaluate(
    convTransposeKfacReduce(x, kernelSize, withVirtualPatterns(hyperparameters)),
    { out },
  );
}
