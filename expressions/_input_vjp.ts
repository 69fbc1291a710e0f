import type { NdArray } from "@einconv/runtime";
import type { PatternHyperparameters, TensorNetwork } from "@einconv/simplify";
import { groupedOperand, patternOperands, spatial } from "./_expression.ts";

/**
 * The network of a convolution's input VJP (and so of a transpose convolution):
 * `n g c_out [o], [k o i]…, g c_out c_in [k] -> n g c_in [i]`, reshaped to
 * `[B, C_in, *I]`.
 */
export function inputVjpNetwork(
  weight: NdArray,
  v: NdArray,
  patterns: readonly PatternHyperparameters[],
  groups: number,
): { network: TensorNetwork; shape: number[] } {
  const n = patterns.length;
  return {
    network: {
      operands: [
        groupedOperand("v", v.shape, ["n", "g", "c_out", ...spatial("o", n)], groups, 1),
        ...patternOperands(patterns, (d) => [`k${d}`, `o${d}`, `i${d}`]),
        groupedOperand(
          "weight",
          weight.shape,
          ["g", "c_out", "c_in", ...spatial("k", n)],
          groups,
          0,
        ),
      ],
      output: ["n", "g", "c_in", ...spatial("i", n)],
    },
    shape: [v.shape[0], groups * weight.shape[1], ...patterns.map((p) => p.inputSize)],
  };
}
