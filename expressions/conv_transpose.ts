import type { NdArray } from "@einconv/runtime";
import {
  checkGroups,
  checkRank,
  convPatterns,
  readTransposeOptions,
  spatialRank,
  type TransposeConvOptions,
  transposeInputSizes,
} from "./_conv_arguments.ts";
import { type Expression, expression } from "./_expression.ts";
import { inputVjpNetwork } from "./_input_vjp.ts";

/** Options of {@linkcode convTranspose}. */
export interface ConvTransposeOptions extends TransposeConvOptions {
  /** Number of channel groups (default 1). */
  groups?: number;
}

/**
 * The einsum expression of PyTorch's transpose convolution (no bias): the input VJP of
 * the associated convolution, `n g c_in [o], [k o i]…, g c_in c_out [k] -> n g c_out [i]`.
 *
 * @param x Input `[B, C_in, *O]`.
 * @param weight Kernel `[C_in, C_out/G, *K]` (PyTorch's `conv_transpose` layout).
 * @param options Stride, padding (integers), `outputPadding`, dilation, groups and
 *   `simplify` (default true).
 * @returns `{ equation, operands, shape }` with shape `[B, C_out, *I]`,
 *   `I = (O − 1)·stride − 2·padding + dilation·(K − 1) + outputPadding + 1`.
 *
 * @example Stride 2 upsamples
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convTranspose, evaluateSync } from "@einconv/expressions";
 *
 * const y = evaluateSync(convTranspose(tensor([[[1, 2]]]), tensor([[[1, 1]]]), { stride: 2 }));
 * assert.deepEqual(Array.from(y.data), [1, 1, 2, 2]);
 * ```
 */
export function convTranspose(
  x: NdArray,
  weight: NdArray,
  options?: ConvTransposeOptions,
): Expression {
  const n = spatialRank(x, "x");
  checkRank(weight, "weight", n + 2, "[C_in, C_out/groups, ...kernel]");
  const args = readTransposeOptions(options, n);
  const [, inChannels, ...outputSize] = x.shape;
  const [weightChannels, , ...kernelSize] = weight.shape;
  checkGroups(args.groups, inChannels, "x.shape[1]");
  if (weightChannels !== inChannels) {
    throw new RangeError(
      `Cannot read weight: weight.shape[0]=${weightChannels} must equal x.shape[1]=${inChannels}`,
    );
  }
  const inputSize = transposeInputSizes(
    outputSize,
    kernelSize,
    args,
    args.outputPadding,
    undefined,
  );
  const patterns = convPatterns(inputSize, kernelSize, args, outputSize);
  return expression(
    { op: "convTranspose", x: x.shape, weight: weight.shape, ...args },
    { v: x, weight },
    args,
    () => inputVjpNetwork(weight, x, patterns, args.groups),
  );
}
