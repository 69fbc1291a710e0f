import type { NdArray } from "./tensor.ts";

/** The hyperparameters of a one-dimensional index pattern `[K, O, I]`: entry
 * `[k, o, i]` is 1 iff `i = −paddingLeft + k·dilation + o·stride` lies in `[0, I)`. */
export interface PatternHyperparameters {
  /** Input size `I`. */
  readonly inputSize: number;
  /** Kernel size `K`. */
  readonly kernelSize: number;
  /** Output size `O`. */
  readonly outputSize: number;
  /** Stride. */
  readonly stride: number;
  /** Padding before the input. */
  readonly paddingLeft: number;
  /** Padding after the input. */
  readonly paddingRight: number;
  /** Dilation. */
  readonly dilation: number;
}

const registry = new WeakMap<object, PatternHyperparameters>();

/**
 * Records that a tensor is the index pattern with these hyperparameters, so that
 * `simplify` and the contraction planner can recognise it among an expression's operands.
 *
 * @param pattern A `[K, O, I]` 0/1 tensor.
 * @param hyperparameters Its hyperparameters.
 * @returns The same tensor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { indexPatternInfo, registerIndexPattern } from "@einconv/runtime";
 *
 * const eye = registerIndexPattern(tensor([[[1, 0], [0, 1]]]), {
 *   inputSize: 2, kernelSize: 1, outputSize: 2, stride: 1,
 *   paddingLeft: 0, paddingRight: 0, dilation: 1,
 * });
 * assert.equal(indexPatternInfo(eye)?.stride, 1);
 * ```
 */
export function registerIndexPattern(
  pattern: NdArray,
  hyperparameters: PatternHyperparameters,
): NdArray {
  registry.set(pattern, { ...hyperparameters });
  return pattern;
}

/**
 * The hyperparameters of a registered index pattern, if its numbers still are that
 * pattern's (a pattern changed after registration is no longer recognised).
 *
 * @param x Any tensor.
 * @returns The hyperparameters, or `undefined`.
 *
 * @example A plain tensor is no pattern
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { indexPatternInfo } from "@einconv/runtime";
 *
 * assert.equal(indexPatternInfo(tensor([[[1]]])), undefined);
 * ```
 */
export function indexPatternInfo(x: NdArray): PatternHyperparameters | undefined {
  const p = registry.get(x);
  if (p === undefined) return undefined;
  const shape = [p.kernelSize, p.outputSize, p.inputSize];
  if (x.shape.join() !== shape.join()) return undefined;
  for (let k = 0; k < p.kernelSize; k++) {
    for (let o = 0; o < p.outputSize; o++) {
      const hit = -p.paddingLeft + k * p.dilation + o * p.stride;
      const base = x.offset + k * x.stride[0] + o * x.stride[1];
      for (let i = 0; i < p.inputSize; i++) {
        if (x.data[base + i * x.stride[2]] !== (i === hit ? 1 : 0)) return undefined;
      }
    }
  }
  return p;
}
