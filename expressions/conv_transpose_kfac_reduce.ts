import type { NdArray } from "@einconv/runtime";
import {
  checkGroups,
  convPatterns,
  readTransposeOptions,
  spatialRank,
  type TransposeConvOptions,
  transposeInputSizes,
} from "./_conv_arguments.ts";
import { type Expression, expression } from "./_expression.ts";
import { kroneckerFactorNetwork } from "./_kronecker_factor.ts";
import { type IntOrTuple, readHyperparameter } from "./hyperparameters.ts";

/** Options of {@linkcode convTransposeKfacReduce}. */
export interface TransposeKfacReduceOptions extends TransposeConvOptions {
  /** The transpose convolution's output size (the associated convolution's input
   * size); overrides `outputPadding` when given. */
  outputSize?: IntOrTuple;
  /** Number of channel groups (default 1). */
  groups?: number;
}

/**
 * The einsum expression of the KFAC-reduce input factor of a transpose convolution:
 * `1/(B·prod(I)²) · Σ_b ([[X_b]] 1)([[X_b]] 1)ᵀ` per group, with `[[X_b]]` the unfolded
 * input of the transpose convolution.
 *
 * @param x The transpose convolution's input `[B, C, *O]`.
 * @param kernelSize Kernel size `K` (one for all dimensions or one each).
 * @param options The associated convolution's stride, padding, dilation, and
 *   `outputPadding` or `outputSize`, groups and `simplify` (default true).
 * @returns `{ equation, operands, shape }` with shape `[G, C/G·prod(K), C/G·prod(K)]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convTransposeKfacReduce, evaluateSync } from "@einconv/expressions";
 *
 * const factor = evaluateSync(convTransposeKfacReduce(tensor([[[1, 2]]]), 1, { stride: 2 }));
 * // unfolded input [1, 0, 2] sums to 3; one kernel tap; scale 1/3²
 * assert.deepEqual(Array.from(factor.data), [1]);
 * ```
 */
export function convTransposeKfacReduce(
  x: NdArray,
  kernelSize: IntOrTuple,
  options?: TransposeKfacReduceOptions,
): Expression {
  const n = spatialRank(x, "x");
  const args = readTransposeOptions(options, n, ["outputSize"]);
  const kernel = readHyperparameter("kernelSize", kernelSize, n);
  const target = options?.outputSize === undefined
    ? undefined
    : readHyperparameter("outputSize", options.outputSize, n);
  const [batch, channels, ...outputSize] = x.shape;
  checkGroups(args.groups, channels, "x.shape[1]");
  const inputSize = transposeInputSizes(outputSize, kernel, args, args.outputPadding, target);
  const patterns = convPatterns(inputSize, kernel, args, outputSize);
  const positions = inputSize.reduce((a, b) => a * b, 1);
  return expression(
    { op: "convTransposeKfacReduce", x: x.shape, kernelSize: kernel, inputSize, ...args },
    { x },
    args,
    () =>
      kroneckerFactorNetwork(x, args.groups, patterns, {
        channel: "c_out",
        dataSide: "o",
        sharedPositions: false,
        scale: 1 / (batch * positions * positions),
      }),
  );
}
