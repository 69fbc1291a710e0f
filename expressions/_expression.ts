import { type NdArray, resultDType, virtualIndexPattern } from "@einconv/runtime";
import {
  networkEquation,
  type PatternHyperparameters,
  simplifyNetwork,
  SymbolicTensor,
  type TensorNetwork,
} from "@einconv/simplify";
import { cachedPattern, cachedRecipe } from "./expression_cache.ts";

/** An einsum expression: evaluate `equation` on `operands`, reshape to `shape`. */
export interface Expression {
  /** The einsum equation (single letters, numpy/torch style). */
  equation: string;
  /** The operands in einconv's order (data, index patterns, weights, scale). */
  operands: NdArray[];
  /** The shape the einsum result is reshaped to. */
  shape: number[];
}

/**
 * Returns the expression of an operation: the recipe comes from the cache (keyed on
 * `key`, the inputs' dtype and `simplify`) or is built by `build` on a miss; the
 * operands are then materialised from `inputs`.
 */
export function expression(
  key: Record<string, unknown>,
  inputs: Record<string, NdArray>,
  options: { simplify: boolean; patternOperands: "dense" | "virtual" },
  build: () => { network: TensorNetwork; shape: number[] },
): Expression {
  const { simplify, patternOperands } = options;
  const values = Object.values(inputs);
  const dtype = resultDType(values);
  const recipe = cachedRecipe(JSON.stringify({ ...key, dtype, simplify }), () => {
    const built = build();
    const network = simplify ? simplifyNetwork(built.network) : built.network;
    return { network, equation: networkEquation(network), shape: built.shape };
  });
  return {
    equation: recipe.equation,
    // Virtual patterns only for unedited ones: an edited pattern is a dense operand.
    operands: recipe.network.operands.map((t) =>
      patternOperands === "virtual" && t.pattern !== undefined
        ? virtualIndexPattern(t.pattern, dtype)
        : t.materialize({ inputs, dtype, pattern: cachedPattern })
    ),
    shape: [...recipe.shape],
  };
}

/** A symbolic input tensor named `name` with these indices. */
export function inputOperand(
  name: string,
  shape: readonly number[],
  indices: readonly string[],
): SymbolicTensor {
  return new SymbolicTensor({ source: { kind: "input", name }, indices, shape });
}

/** A symbolic input whose channel axis (axis 1, or 0 with `axis`) is split into groups:
 * `(g c)` becomes `g, c` with the group index major. */
export function groupedOperand(
  name: string,
  shape: readonly number[],
  indices: readonly string[],
  groups: number,
  axis: number,
): SymbolicTensor {
  const grouped = `(g ${indices[axis + 1]})`;
  const initial = [...indices.slice(0, axis), grouped, ...indices.slice(axis + 2)];
  return inputOperand(name, shape, initial).ungroup(
    grouped,
    [groups, shape[axis] / groups],
    [indices[axis], indices[axis + 1]],
  );
}

/** One symbolic index pattern per spatial dimension, with indices `names(d)`. */
export function patternOperands(
  patterns: readonly PatternHyperparameters[],
  names: (d: number) => [string, string, string],
): SymbolicTensor[] {
  return patterns.map((pattern, d) =>
    new SymbolicTensor({
      source: { kind: "pattern", pattern },
      indices: names(d),
      shape: [pattern.kernelSize, pattern.outputSize, pattern.inputSize],
    })
  );
}

/** A one-element constant operand with index `s`. */
export function scaleOperand(value: number): SymbolicTensor {
  return new SymbolicTensor({ source: { kind: "constant", value }, indices: ["s"], shape: [1] });
}

/** `[prefix0, prefix1, …]` with an optional suffix: the names of one index per dimension. */
export function spatial(prefix: string, n: number, suffix = ""): string[] {
  return Array.from({ length: n }, (_, d) => `${prefix}${d}${suffix}`);
}

/** Product of sizes. */
export function product(sizes: readonly number[]): number {
  return sizes.reduce((a, b) => a * b, 1);
}
