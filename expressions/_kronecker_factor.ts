import type { NdArray } from "@einconv/runtime";
import type { PatternHyperparameters, TensorNetwork } from "@einconv/simplify";
import {
  checkGroups,
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
  product,
  scaleOperand,
  spatial,
} from "./_expression.ts";
import { type IntOrTuple, readHyperparameter } from "./hyperparameters.ts";

/**
 * The network shared by KFC and KFAC-reduce (and their transpose variant): two copies
 * of the grouped input, each with its patterns, contracted over the batch and the
 * pattern's other side, scaled by a constant:
 * `n g c [a], [k b a]…, [k_ b' a_]…, n g c_ [a_], s -> g c [k] c_ [k_]`
 * where `b' = b` (KFC, positions shared) or `b_` (KFAC-reduce, summed separately), and
 * `a`/`b` are the input/output indices (or the other way round for transposes).
 */
export function kroneckerFactorNetwork(
  x: NdArray,
  groups: number,
  patterns: readonly PatternHyperparameters[],
  options: {
    channel: string;
    /** Index of x's spatial dimensions in the patterns: "i" (input) or "o" (output). */
    dataSide: "i" | "o";
    sharedPositions: boolean;
    scale: number;
  },
): { network: TensorNetwork; shape: number[] } {
  const n = patterns.length;
  const { channel, dataSide } = options;
  const other = dataSide === "i" ? "o" : "i";
  const name = (side: string, d: number, primed: boolean) => `${side}${d}${primed ? "_" : ""}`;
  const indices = (d: number, primed: boolean): [string, string, string] => {
    const sides: Record<string, string> = {
      [dataSide]: name(dataSide, d, primed),
      [other]: name(other, d, primed && !options.sharedPositions),
    };
    return [name("k", d, primed), sides.o, sides.i];
  };
  const groupChannels = x.shape[1] / groups;
  const columns = groupChannels * product(patterns.map((p) => p.kernelSize));
  return {
    network: {
      operands: [
        groupedOperand("x", x.shape, ["n", "g", channel, ...spatial(dataSide, n)], groups, 1),
        ...patternOperands(patterns, (d) => indices(d, false)),
        ...patternOperands(patterns, (d) => indices(d, true)),
        groupedOperand(
          "x",
          x.shape,
          ["n", "g", `${channel}_`, ...spatial(dataSide, n, "_")],
          groups,
          1,
        ),
        scaleOperand(options.scale),
      ],
      output: ["g", channel, ...spatial("k", n), `${channel}_`, ...spatial("k", n, "_")],
    },
    shape: [groups, columns, columns],
  };
}

/** KFC and KFAC-reduce: the same network but for shared output positions and scale. */
export function kroneckerFactor(
  op: string,
  x: NdArray,
  kernelSize: IntOrTuple,
  options: GroupedConvOptions | undefined,
  sharedPositions: boolean,
): Expression {
  const n = spatialRank(x, "x");
  const args = readConvOptions(options, n);
  const kernel = readHyperparameter("kernelSize", kernelSize, n);
  const [batch, channels, ...inputSize] = x.shape;
  checkGroups(args.groups, channels, "x.shape[1]");
  const patterns = convPatterns(inputSize, kernel, args);
  const positions = patterns.reduce((total, p) => total * p.outputSize, 1);
  return expression(
    { op, x: x.shape, kernelSize: kernel, ...args },
    { x },
    args,
    () =>
      kroneckerFactorNetwork(x, args.groups, patterns, {
        channel: "c_in",
        dataSide: "i",
        sharedPositions,
        scale: sharedPositions ? 1 / batch : 1 / (batch * positions * positions),
      }),
  );
}
