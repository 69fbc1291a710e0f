// @ts-types="@types/ndarray"
import ndarray from "ndarray";
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
const virtual = new WeakSet<object>();

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
  registry.set(pattern, checkHyperparameters(hyperparameters));
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
  if (p === undefined || virtual.has(x)) return p;
  const shape = [p.kernelSize, p.outputSize, p.inputSize];
  if (x.shape.join() !== shape.join()) return undefined;
  for (let k = 0; k < p.kernelSize; k++) {
    for (let o = 0; o < p.outputSize; o++) {
      const hit = patternInput(p, k, o);
      const base = x.offset + k * x.stride[0] + o * x.stride[1];
      for (let i = 0; i < p.inputSize; i++) {
        if (x.data[base + i * x.stride[2]] !== (i === hit ? 1 : 0)) return undefined;
      }
    }
  }
  return p;
}

/**
 * A placeholder for the index pattern with these hyperparameters: shape `[K, O, I]`
 * over a single zero (every stride 0), registered so that the contraction planner runs
 * it as a gather, scatter or implicit GEMM from its hyperparameters. Building one costs
 * nothing per entry, however long the input; but its numbers are not the pattern's, so
 * it may only be contracted by `einsumSync`/`einsum`/`executePlan` with index patterns
 * recognised (the executor refuses to read it as a dense tensor).
 *
 * @param hyperparameters The pattern's hyperparameters.
 * @param dtype Element type of the placeholder.
 * @returns The placeholder.
 *
 * @example A pattern of a long signal, contracted as a gather
 * ```ts
 * import assert from "node:assert/strict";
 * import { einsumSync, tensor, virtualIndexPattern } from "@einconv/runtime";
 *
 * const pattern = virtualIndexPattern({
 *   inputSize: 4, kernelSize: 2, outputSize: 3, stride: 1,
 *   paddingLeft: 0, paddingRight: 0, dilation: 1,
 * }, "float64");
 * const columns = einsumSync("i,koi->ko", tensor([1, 2, 3, 4]), pattern);
 * assert.deepEqual(Array.from(columns.data), [1, 2, 3, 2, 3, 4]);
 * ```
 */
export function virtualIndexPattern(
  hyperparameters: PatternHyperparameters,
  dtype: "float32" | "float64",
): NdArray {
  const { kernelSize, outputSize, inputSize } = hyperparameters;
  const checked = checkHyperparameters(hyperparameters);
  const data = dtype === "float32" ? new Float32Array(1) : new Float64Array(1);
  const placeholder = ndarray(data, [kernelSize, outputSize, inputSize], [0, 0, 0], 0);
  registry.set(placeholder, checked);
  virtual.add(placeholder);
  return placeholder;
}

/**
 * The dense `[K, O, I]` index pattern of validated hyperparameters (any left/right padding
 * split): a new 0/1 tensor, registered (see {@linkcode registerIndexPattern}) so that
 * `simplify` and the contraction planner recognise it. What the expression builders and
 * `simplify` materialise; {@linkcode virtualIndexPattern} is the same pattern without
 * numbers.
 *
 * @param hyperparameters The pattern's hyperparameters.
 * @param dtype Element type of the tensor.
 * @returns A new registered `[K, O, I]` tensor.
 *
 * @example A kernel of 2 over 3 inputs
 * ```ts
 * import assert from "node:assert/strict";
 * import { denseIndexPattern, indexPatternInfo } from "@einconv/runtime";
 *
 * const hyperparameters = {
 *   inputSize: 3, kernelSize: 2, outputSize: 2, stride: 1,
 *   paddingLeft: 0, paddingRight: 0, dilation: 1,
 * };
 * const pattern = denseIndexPattern(hyperparameters, "float64");
 * assert.deepEqual(Array.from(pattern.data), [1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1]);
 * assert.equal(indexPatternInfo(pattern)?.kernelSize, 2);
 * ```
 */
export function denseIndexPattern(
  hyperparameters: PatternHyperparameters,
  dtype: "float32" | "float64",
): NdArray {
  const { kernelSize, outputSize, inputSize } = hyperparameters;
  const size = kernelSize * outputSize * inputSize;
  const data = dtype === "float32" ? new Float32Array(size) : new Float64Array(size);
  fillIndexPattern(data, hyperparameters);
  return registerIndexPattern(ndarray(data, [kernelSize, outputSize, inputSize]), hyperparameters);
}

/** Whether `x` is a placeholder from {@linkcode virtualIndexPattern}. */
export function isVirtualIndexPattern(x: NdArray): boolean {
  return virtual.has(x);
}

/** A copy of the hyperparameters after checking that they are integers in range. */
function checkHyperparameters(p: PatternHyperparameters): PatternHyperparameters {
  const fields: [keyof PatternHyperparameters, number][] = [
    ["inputSize", 0],
    ["kernelSize", 0],
    ["outputSize", 0],
    ["stride", 1],
    ["paddingLeft", 0],
    ["paddingRight", 0],
    ["dilation", 1],
  ];
  for (const [name, min] of fields) {
    const value = p?.[name];
    if (!Number.isSafeInteger(value) || value < min) {
      throw new RangeError(
        `Cannot read hyperparameters.${name}: expected an integer of at least ${min}, got ${value}`,
      );
    }
  }
  return { ...p };
}

/**
 * The input position that kernel tap `k` reads for output `o`:
 * `−paddingLeft + k·dilation + o·stride` (outside `[0, inputSize)` it reads padding).
 *
 * @param p The pattern's hyperparameters.
 * @param k Kernel tap.
 * @param o Output position.
 * @returns The input position.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { patternInput } from "@einconv/runtime";
 *
 * const p = {
 *   inputSize: 5, kernelSize: 3, outputSize: 3, stride: 2,
 *   paddingLeft: 1, paddingRight: 1, dilation: 1,
 * };
 * assert.equal(patternInput(p, 2, 1), 3); // −1 + 2·1 + 1·2
 * assert.equal(patternInput(p, 0, 0), -1);
 * ```
 */
export function patternInput(p: PatternHyperparameters, k: number, o: number): number {
  return -p.paddingLeft + k * p.dilation + o * p.stride;
}

/**
 * Writes the ones of an index pattern into a zero-filled row-major array of shape
 * `shape` (default `[K, O, I]`) that holds the block of the pattern starting at
 * `origin` (default `[0, 0, 0]`).
 *
 * @param data The zero-filled array.
 * @param p The pattern's hyperparameters.
 * @param shape The block's shape.
 * @param origin The block's first tap, output and input.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fillIndexPattern } from "@einconv/runtime";
 *
 * const data = new Uint8Array(2 * 2 * 3);
 * fillIndexPattern(data, {
 *   inputSize: 3, kernelSize: 2, outputSize: 2, stride: 1,
 *   paddingLeft: 0, paddingRight: 0, dilation: 1,
 * });
 * assert.deepEqual(Array.from(data), [1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1]);
 * ```
 */
export function fillIndexPattern(
  data: Float32Array | Float64Array | Uint8Array,
  p: PatternHyperparameters,
  shape: readonly number[] = [p.kernelSize, p.outputSize, p.inputSize],
  origin: readonly number[] = [0, 0, 0],
): void {
  const [kernelSize, outputSize, inputSize] = shape;
  for (let k = 0; k < kernelSize; k++) {
    for (let o = 0; o < outputSize; o++) {
      const i = patternInput(p, k + origin[0], o + origin[1]) - origin[2];
      if (i >= 0 && i < inputSize) data[(k * outputSize + o) * inputSize + i] = 1;
    }
  }
}
