import type { NdArray } from "@einconv/runtime";
import {
  checkGroups,
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

/**
 * The einsum expression of an N-d convolution (no bias), as einconv writes it:
 * `n g c_in [i], [k o i]…, g c_out c_in [k] -> n g c_out [o]`, with channels split
 * into groups as `(g c)`.
 *
 * @param x Input `[B, C_in, *I]`.
 * @param weight Kernel `[C_out, C_in/G, *K]`.
 * @param options Stride, padding, dilation, groups and `simplify` (default true).
 * @returns `{ equation, operands, shape }` with shape `[B, C_out, *O]`.
 *
 * @example A 1-d convolution
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convForward, evaluateSync } from "@einconv/expressions";
 *
 * const x = tensor([[[1, 2, 3, 4]]]);
 * const weight = tensor([[[1, -1]]]);
 * const expr = convForward(x, weight, { simplify: false });
 * assert.equal(expr.equation, "ngab,cdb,geac->nged");
 * assert.deepEqual(Array.from(evaluateSync(expr).data), [-1, -1, -1]);
 * ```
 */
export function convForward(
  x: NdArray,
  weight: NdArray,
  options?: GroupedConvOptions,
): Expression {
  const n = spatialRank(x, "x");
  checkRank(weight, "weight", n + 2, "[C_out, C_in/groups, ...kernel]");
  const args = readConvOptions(options, n);
  const [batch, inChannels, ...inputSize] = x.shape;
  const [outChannels, groupChannels, ...kernelSize] = weight.shape;
  checkGroups(args.groups, inChannels, "x.shape[1]");
  checkGroups(args.groups, outChannels, "weight.shape[0]");
  if (groupChannels * args.groups !== inChannels) {
    throw new RangeError(
      `Cannot read weight: weight.shape[1]=${groupChannels} times groups=${args.groups} must equal x.shape[1]=${inChannels}`,
    );
  }
  const patterns = convPatterns(inputSize, kernelSize, args);
  const outputSize = patterns.map((p) => p.outputSize);
  return expression(
    { op: "convForward", x: x.shape, weight: weight.shape, ...args },
    { x, weight },
    args,
    () => ({
      network: {
        operands: [
          groupedOperand("x", x.shape, ["n", "g", "c_in", ...spatial("i", n)], args.groups, 1),
          ...patternOperands(patterns, (d) => [`k${d}`, `o${d}`, `i${d}`]),
          groupedOperand(
            "weight",
            weight.shape,
            ["g", "c_out", "c_in", ...spatial("k", n)],
            args.groups,
            0,
          ),
        ],
        output: ["n", "g", "c_out", ...spatial("o", n)],
      },
      shape: [batch, outChannels, ...outputSize],
    }),
  );
}
