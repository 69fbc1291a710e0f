import type { NdArray } from "@einconv/runtime";
import {
  convPatterns,
  readTransposeOptions,
  spatialRank,
  type TransposeConvOptions,
  transposeInputSizes,
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
 * The einsum expression of the unfolded input of a transpose convolution:
 * `n c_out [o], [k o i]… -> n c_out [k] [i]`, where the patterns are those of the
 * associated convolution (whose output has x's spatial size).
 *
 * @param x The transpose convolution's input `[B, C, *O]`.
 * @param kernelSize Kernel size `K` (one for all dimensions or one each).
 * @param options The associated convolution's stride, padding (integers), dilation,
 *   `outputPadding` and `simplify` (default true).
 * @returns `{ equation, operands, shape }` with shape `[B, C·prod(K), prod(I)]`.
 *
 * @example Stride 2 spreads the input out
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convTransposeUnfold, evaluateSync } from "@einconv/expressions";
 *
 * const columns = evaluateSync(convTransposeUnfold(tensor([[[1, 2]]]), 1, { stride: 2 }));
 * assert.deepEqual(columns.shape, [1, 1, 3]);
 * assert.deepEqual(Array.from(columns.data), [1, 0, 2]);
 * ```
 */
export function convTransposeUnfold(
  x: NdArray,
  kernelSize: IntOrTuple,
  options?: TransposeConvOptions,
): Expression {
  const n = spatialRank(x, "x");
  const args = readTransposeOptions(withoutGroups(options), n);
  const kernel = readHyperparameter("kernelSize", kernelSize, n);
  const [batch, channels, ...outputSize] = x.shape;
  const inputSize = transposeInputSizes(outputSize, kernel, args, args.outputPadding, undefined);
  const patterns = convPatterns(inputSize, kernel, args, outputSize);
  return expression(
    { op: "convTransposeUnfold", x: x.shape, kernelSize: kernel, ...args },
    { x },
    args,
    () => ({
      network: {
        operands: [
          inputOperand("x", x.shape, ["n", "c_out", ...spatial("o", n)]),
          ...patternOperands(patterns, (d) => [`k${d}`, `o${d}`, `i${d}`]),
        ],
        output: ["n", "c_out", ...spatial("k", n), ...spatial("i", n)],
      },
      shape: [batch, channels * product(kernel), product(inputSize)],
    }),
  );
}
