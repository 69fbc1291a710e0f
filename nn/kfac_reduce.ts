import type { NdArray } from "@einconv/runtime";
import {
  convKfacReduce,
  evaluate,
  type GroupedConvOptions,
  type IntOrTuple,
} from "@einconv/expressions";
import { withVirtualPatterns } from "./_virtual_patterns.ts";
import { type OutputOptions, splitOutputOptions } from "./output_options.ts";

/**
 * The KFAC-reduce input factor of an N-d convolution:
 * `1/(B·prod(O)²) · Σ_b ([[X_b]] 1)([[X_b]] 1)ᵀ` per group, where the index patterns are
 * summed over output positions before they meet the input.
 *
 * @param x The convolution's input `[B, C_in, *I]`.
 * @param kernelSize Kernel size (one for all dimensions or one each).
 * @param options Stride, padding, dilation, groups; `out` to write the
 *   result into (see {@linkcode OutputOptions}).
 * @returns A Promise of a new `[G, C_in/G·prod(K), C_in/G·prod(K)]` tensor, or of `out`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { kfacReduce } from "@einconv/nn";
 *
 * const factor = await kfacReduce(tensor([[[1, 2, 3]]]), 2);
 * assert.deepEqual(Array.from(factor.data), [2.25, 3.75, 3.75, 6.25]);
 * ```
 */
export async function kfacReduce(
  x: NdArray,
  kernelSize: IntOrTuple,
  options?: GroupedConvOptions & OutputOptions,
): Promise<NdArray> {
  const [hyperparameters, out] = splitOutputOptions(options);
  return await evaluate(convKfacReduce(x, kernelSize, withVirtualPatterns(hyperparameters)), {
    out,
  });
}
