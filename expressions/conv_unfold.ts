import type { NdArray } from "@einconv/runtime";
import {
  type ConvOptions,
  convPatterns,
  readConvOptions,
  spatialRank,
  withoutGroups,
} from "./_conv_arguments.ts";
import {
  type Expression,
  expression,
  inputOperand,
  patternOperands,
  product,
  spatial,
} from "./_expression.ts";
import { type IntOrTuple, readHyperparameter } from "./hyperparameters.ts";

/**
 * The einsum expression of unfolding (im2col): `n c_in [i], [k o i]… -> n c_in [k] [o]`,
 * in PyTorch's `unfold` layout (channel-major, then kernel position).
 *
 * @param x Input `[B, C_in, *I]`.
 * @param kernelSize Kernel size `K` (one for all dimensions or one each).
 * @param options Stride, padding, dilation and `simplify` (default true).
 * @returns `{ equation, operands, shape }` with shape `[B, C_in·prod(K), prod(O)]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convUnfold, evaluateSync } from "@einconv/expressions";
 *
 * const columns = evaluateSync(convUnfold(tensor([[[1, 2, 3, 4]]]), 2, { stride: 2 }));
 * assert.deepEqual(columns.shape, [1, 2, 2]);
 * assert.deepEqual(Array.from(columns.data), [1, 3, 2, 4]);
 * ```
 */
export function convUnfold(
  x: NdArray,
  kernelSize: IntOrTuple,
  options?: ConvOptions,
): Expression {
  const n = spatialRank(x, "x");
  const args = readConvOptions(withoutGroups(options), n);
  const kernel = readHyperparameter("kernelSize", kernelSize, n);
  const [batch, channels, ...inputSize] = x.shape;
  const patterns = convPatterns(inputSize, kernel, args);
  return expression(
    { op: "convUnfold", x: x.shape, kernelSize: kernel, ...args },
    { x },
    args,
    () => ({
      network: {
        operands: [
          inputOperand("x", x.shape, ["n", "c_in", ...spatial("i", n)]),
          ...patternOperands(patterns, (d) => [`k${d}`, `o${d}`, `i${d}`]),
        ],
        output: ["n", "c_in", ...spatial("k", n), ...spatial("o", n)],
      },
      shape: [batch, channels * product(kernel), product(patterns.map((p) => p.outputSize))],
    }),
  );
}
