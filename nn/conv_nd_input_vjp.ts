import type { NdArray } from "@einconv/runtime";
import {
  convInputVjp,
  evaluate,
  type GroupedConvOptions,
  type IntOrTuple,
} from "@einconv/expressions";
import { withVirtualPatterns } from "./_virtual_patterns.ts";
import { type OutputOptions, splitOutputOptions } from "./output_options.ts";

/**
 * The vector-Jacobian product of an N-d convolution with respect to its input: the
 * gradient of `⟨convNd(x, weight), v⟩` in `x`.
 *
 * @param weight Kernel `[C_out, C_in/G, *K]`.
 * @param v Vector in output space `[B, C_out, *O]`.
 * @param inputSize The input's spatial size (one for all dimensions or one each).
 * @param options Stride, padding, dilation, groups; `out` to write the result into (see
 *   {@linkcode OutputOptions}).
 * @returns A Promise of a new `[B, C_in, *I]` tensor, or of `out`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convNdInputVjp } from "@einconv/nn";
 *
 * const grad = await convNdInputVjp(tensor([[[1, -1]]]), tensor([[[1, 1, 1]]]), 4);
 * assert.deepEqual(Array.from(grad.data), [1, 0, 0, -1]);
 * ```
 */
export async function convNdInputVjp(
  weight: NdArray,
  v: NdArray,
  inputSize: IntOrTuple,
  options?: GroupedConvOptions & OutputOptions,
): Promise<NdArray> {
  const [hyperparameters, out] = splitOutputOptions(options);
  return await evaluate(convInputVjp(weight, v, inputSize, withVirtualPatterns(hyperparameters)), {
    out,
  });
}
