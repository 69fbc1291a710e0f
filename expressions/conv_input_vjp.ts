import type { NdArray } from "@einconv/runtime";
import {
  checkGroups,
  checkOutputShape,
  checkRank,
  convPatterns,
  type GroupedConvOptions,
  readConvOptions,
  spatialRank,
} from "./_conv_arguments.ts";
import { type Expression, expression } from "./_expression.ts";
import { inputVjpNetwork } from "./_input_vjp.ts";
import { type IntOrTuple, readHyperparameter } from "./hyperparameters.ts";

/**
 * The einsum expression of a convolution's vector-Jacobian product with respect to its
 * input: `n g c_out [o], [k o i]…, g c_out c_in [k] -> n g c_in [i]`.
 *
 * @param weight Kernel `[C_out, C_in/G, *K]`.
 * @param v Vector in output space `[B, C_out, *O]`.
 * @param inputSize The convolution's input size `I` (one for all dimensions or one each).
 * @param options Stride, padding, dilation, groups and `simplify` (default true).
 * @returns `{ equation, operands, shape }` with shape `[B, C_in, *I]`.
 *
 * @example The adjoint of a 1-d convolution
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convInputVjp, evaluateSync } from "@einconv/expressions";
 *
 * const weight = tensor([[[1, -1]]]);
 * const v = tensor([[[1, 1, 1]]]);
 * const grad = evaluateSync(convInputVjp(weight, v, 4));
 * assert.deepEqual(Array.from(grad.data), [1, 0, 0, -1]);
 * ```
 */
export function convInputVjp(
  weight: NdArray,
  v: NdArray,
  inputSize: IntOrTuple,
  options?: GroupedConvOptions,
): Expression {
  const n = spatialRank(weight, "weight", "[C_out, C_in/groups, ...kernel]");
  checkRank(v, "v", n + 2, "[batch, C_out, ...output]");
  const args = readConvOptions(options, n);
  const size = readHyperparameter("inputSize", inputSize, n);
  const [outChannels, , ...kernelSize] = weight.shape;
  checkGroups(args.groups, outChannels, "weight.shape[0]");
  const patterns = convPatterns(size, kernelSize, args);
  const batch = v.shape[0];
  checkOutputShape(v, "v", [batch, outChannels, ...patterns.map((p) => p.outputSize)]);
  return expression(
    { op: "convInputVjp", weight: weight.shape, v: v.shape, inputSize: size, ...args },
    { weight, v },
    args,
    () => inputVjpNetwork(weight, v, patterns, args.groups),
  );
}
