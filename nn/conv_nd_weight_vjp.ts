import type { NdArray } from "@einconv/runtime";
import {
  convWeightVjp,
  evaluate,
  type GroupedConvOptions,
  type IntOrTuple,
} from "@einconv/expressions";
import { withVirtualPatterns } from "./_virtual_patterns.ts";
import { type OutputOptions, splitOutputOptions } from "./output_options.ts";

/**
 * The vector-Jacobian product of an N-d convolution with respect to its weight: the
 * gradient of `⟨convNd(x, weight), v⟩` in `weight`.
 *
 * @param x Input `[B, C_in, *I]`.
 * @param v Vector in output space `[B, C_out, *O]`.
 * @param kernelSize Kernel size (one for all dimensions or one each).
 * @param options Stride, padding, dilation, groups; `out` to write the result into (see
 *   {@linkcode OutputOptions}).
 * @returns A Promise of a new `[C_out, C_in/G, *K]` tensor, or of `out`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convNdWeightVjp } from "@einconv/nn";
 *
 * const grad = await convNdWeightVjp(tensor([[[1, 2, 3, 4]]]), tensor([[[1, 0, 1]]]), 2);
 * assert.deepEqual(Array.from(grad.data), [4, 6]);
 * ```
 */
export async function convNdWeightVjp(
  x: NdArray,
  v: NdArray,
  kernelSize: IntOrTuple,
  options?: GroupedConvOptions & OutputOptions,
): Promise<NdArray> {
  const [hyperparameters, out] = splitOutputOptions(options);
  return await evaluate(convWeightVjp(x, v, kernelSize, withVirtualPatterns(hyperparameters)), {
    out,
  });
}
