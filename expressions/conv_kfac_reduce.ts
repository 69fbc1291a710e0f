import type { NdArray } from "@einconv/runtime";
import type { GroupedConvOptions } from "./_conv_arguments.ts";
import type { Expression } from "./_expression.ts";
import { kroneckerFactor } from "./_kronecker_factor.ts";
import type { IntOrTuple } from "./hyperparameters.ts";

/**
 * The einsum expression of the KFAC-reduce input factor of a convolution:
 * `1/(B·prod(O)²) · Σ_b ([[X_b]] 1)([[X_b]] 1)ᵀ` per group, where the index patterns are
 * summed over output positions before they meet the input.
 *
 * @param x The convolution's input `[B, C_in, *I]`.
 * @param kernelSize Kernel size `K` (one for all dimensions or one each).
 * @param options Stride, padding, dilation, groups and `simplify` (default true).
 * @returns `{ equation, operands, shape }` with shape `[G, C_in/G·prod(K), C_in/G·prod(K)]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convKfacReduce, evaluateSync } from "@einconv/expressions";
 *
 * const factor = evaluateSync(convKfacReduce(tensor([[[1, 2, 3]]]), 2));
 * // summed columns [1+2, 2+3] = [3, 5], outer product over 2² positions
 * assert.deepEqual(Array.from(factor.data), [9 / 4, 15 / 4, 15 / 4, 25 / 4]);
 * ```
 */
export function convKfacReduce(
  x: NdArray,
  kernelSize: IntOrTuple,
  options?: GroupedConvOptions,
): Expression {
  return kroneckerFactor("convKfacReduce", x, kernelSize, options, false);
}
