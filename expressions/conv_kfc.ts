import type { NdArray } from "@einconv/runtime";
import type { GroupedConvOptions } from "./_conv_arguments.ts";
import type { Expression } from "./_expression.ts";
import { kroneckerFactor } from "./_kronecker_factor.ts";
import type { IntOrTuple } from "./hyperparameters.ts";

/**
 * The einsum expression of the KFC (Kronecker-factored curvature) input factor of a
 * convolution: `1/B · Σ_b [[X_b]] [[X_b]]ᵀ` per group, with `[[X_b]]` the unfolded
 * input `[C_in/G·prod(K), prod(O)]` — without ever unfolding.
 *
 * @param x The convolution's input `[B, C_in, *I]`.
 * @param kernelSize Kernel size `K` (one for all dimensions or one each).
 * @param options Stride, padding, dilation, groups and `simplify` (default true).
 * @returns `{ equation, operands, shape }` with shape `[G, C_in/G·prod(K), C_in/G·prod(K)]`.
 *
 * @example A 1-d input with one channel
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convKfc, evaluateSync } from "@einconv/expressions";
 *
 * const factor = evaluateSync(convKfc(tensor([[[1, 2, 3]]]), 2));
 * // columns [1, 2] and [2, 3]: [[1+4, 2+6], [2+6, 4+9]]
 * assert.deepEqual(Array.from(factor.data), [5, 8, 8, 13]);
 * ```
 */
export function convKfc(
  x: NdArray,
  kernelSize: IntOrTuple,
  options?: GroupedConvOptions,
): Expression {
  return kroneckerFactor("convKfc", x, kernelSize, options, true);
}
