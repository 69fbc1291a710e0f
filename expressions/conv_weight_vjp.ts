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
import {
  type Expression,
  expression,
  groupedOperand,
  patternOperands,
  spatial,
} from "./_expression.ts";
import { type IntOrTuple, readHyperparameter } from "./hyperparameters.ts";

/**
 * The einsum expression of a convolution's vector-Jacobian product with respect to its
 * weight: `n g c_in [i], [k o i]…, n g c_out [o] -> g c_out c_in [k]`.
 *
 * @param x The convolution's input `[B, C_in, *I]`.
 * @param v Vector in output space `[B, C_out, *O]`.
 * @param kernelSize Kernel size `K` (one for all dimensions or one each).
 * @param options Stride, padding, dilation, groups and `simplify` (default true).
 * @returns `{ equation, operands, shape }` with shape `[C_out, C_in/G, *K]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convWeightVjp, evaluateSync } from "@einconv/expressions";
 *
 * const x = tensor([[[1, 2, 3, 4]]]);
 * const v = tensor([[[1, 0, 1]]]);
 * const grad = evaluateSync(convWeightVjp(x, v, 2));
 * assert.deepEqual(Array.from(grad.data), [4, 6]);
 * ```
 */
export function convWeightVjp(
  x: NdArray,
  v: NdArray,
  kernelSize: IntOrTuple,
  options?: GroupedConvOptions,
): Expression {
  const n = spatialRank(x, "x");
  checkRank(v, "v", n + 2, "[batch, C_out, ...output]");
  const args = readConvOptions(options, n);
  const kernel = readHyperparameter("kernelSize", kernelSize, n);
  const [batch, inChannels, ...inputSize] = x.shape;
  const outChannels = v.shape[1];
  checkGroups(args.groups, inChannels, "x.shape[1]");
  checkGroups(args.groups, outChannels, "v.shape[1]");
  const patterns = convPatterns(inputSize, kernel, args);
  checkOutputShape(v, "v", [batch, outChannels, ...patterns.map((p) => p.outputSize)]);
  return expression(
    { op: "convWeightVjp", x: x.shape, v: v.shape, kernelSize: kernel, ...args },
    { x, v },
    args,
    () => ({
      network: {
        operands: [
          groupedOperand("x", x.shape, ["n", "g", "c_in", ...spatial("i", n)], args.groups, 1),
          ...patternOperands(patterns, (d) => [`k${d}`, `o${d}`, `i${d}`]),
          groupedOperand("v", v.shape, ["n", "g", "c_out", ...spatial("o", n)], args.groups, 1),
        ],
        output: ["g", "c_out", "c_in", ...spatial("k", n)],
      },
      shape: [outChannels, inChannels / args.groups, ...kernel],
    }),
  );
}
