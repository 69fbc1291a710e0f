import type { NdArray } from "@einconv/runtime";
import { convKfc, evaluate, type GroupedConvOptions, type IntOrTuple } from "@einconv/expressions";
import { withVirtualPatterns } from "./_virtual_patterns.ts";
import { type OutputOptions, splitOutputOptions } from "./output_options.ts";

/**
 * The KFC (Kronecker-factored curvature) input factor of an N-d convolution:
 * `1/B · Σ_b [[X_b]] [[X_b]]ᵀ` per group, `[[X_b]]` the unfolded input, computed without
 * unfolding.
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
 * import { kfc } from "@einconv/nn";
 *
 * const factor = await kfc(tensor([[[1, 2, 3]]]), 2);
 * assert.deepEqual(Array.from(factor.data), [5, 8, 8, 13]);
 * ```
 */
export async function kfc(
  x: NdArray,
  kernelSize: IntOrTuple,
  options?: GroupedConvOptions & OutputOptions,
): Promise<NdArray> {
  const [hyperparameters, out] = splitOutputOptions(options);
  return await evaluate(convKfc(x, kernelSize, withVirtualPatterns(hyperparameters)), { out });
}
