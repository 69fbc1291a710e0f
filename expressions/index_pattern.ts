// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import { denseIndexPattern, fillIndexPattern, type NdArray } from "@einconv/runtime";
import { describe } from "./_validate.ts";
import { convOutputSize, convPaddings } from "./conv_sizes.ts";

/**
 * Element types an index pattern can be built in.
 *
 * @example Building a byte pattern
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexPattern, type PatternDType } from "@einconv/expressions";
 *
 * const dtype: PatternDType = "uint8";
 * assert.ok(indexPattern(4, 2, { dtype }).data instanceof Uint8Array);
 * ```
 */
export type PatternDType = "float32" | "float64" | "uint8";

/**
 * An ndarray over a `Uint8Array`: what {@linkcode indexPattern} builds for dtype `"uint8"`
 * (the same interface as `NdArray` from `@einconv/runtime`, over bytes).
 *
 * @example A byte pattern
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexPattern, type Uint8NdArray } from "@einconv/expressions";
 *
 * const pattern: Uint8NdArray = indexPattern(3, 1, { dtype: "uint8" });
 * assert.deepEqual(Array.from(pattern.data), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
 * ```
 */
export interface Uint8NdArray
  extends Omit<NdArray, "data" | "lo" | "hi" | "step" | "transpose" | "pick"> {
  /** The flat storage. */
  data: Uint8Array;
  /** A view starting at a multi-index. */
  lo(...index: number[]): Uint8NdArray;
  /** A view ending before a multi-index. */
  hi(...index: number[]): Uint8NdArray;
  /** A view with steps per dimension (negative steps reverse). */
  step(...steps: number[]): Uint8NdArray;
  /** A view with permuted dimensions. */
  transpose(...axes: number[]): Uint8NdArray;
  /** A view with some dimensions fixed (`null` keeps a dimension). */
  pick(...index: (number | null)[]): Uint8NdArray;
}

/**
 * Options of {@linkcode indexPattern}: the convolution's hyperparameters along one
 * dimension (einconv's defaults) and the element type.
 *
 * @example Options of a strided, padded pattern
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexPattern, type IndexPatternOptions } from "@einconv/expressions";
 *
 * const options: IndexPatternOptions = { stride: 2, padding: 1, dtype: "float64" };
 * assert.deepEqual(indexPattern(5, 3, options).shape, [3, 3, 5]);
 * ```
 */
export interface IndexPatternOptions {
  /** Stride, a positive integer; default 1. */
  stride?: number;
  /** A non-negative integer, `"same"` or `"valid"`; default 0. */
  padding?: number | "same" | "valid";
  /** Dilation, a positive integer; default 1. */
  dilation?: number;
  /** Element type of the pattern; default `"float32"`. */
  dtype?: PatternDType;
}

/**
 * Builds the `[K, O, I]` index pattern of one spatial dimension: entry `[k, o, i]` is 1
 * when kernel tap `k` reads input `i` for output `o`, that is when
 * `i = −paddingLeft + k·dilation + o·stride` lies in `[0, I)`, and 0 otherwise.
 *
 * @param inputSize Input length `I`, a positive integer.
 * @param kernelSize Kernel length `K`, a positive integer.
 * @param options Stride, padding, dilation and dtype.
 * @returns A new C-contiguous ndarray of shape `[K, O, I]`.
 * @throws {TypeError} If a size or option has the wrong type, or dtype is unknown.
 * @throws {RangeError} If a size or option is out of range (see
 *   {@linkcode convOutputSize}).
 *
 * @example Stride 2
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexPattern } from "@einconv/expressions";
 *
 * const pattern = indexPattern(5, 3, { stride: 2 });
 * assert.deepEqual(pattern.shape, [3, 2, 5]);
 * assert.equal(pattern.dtype, "float32");
 * assert.equal(pattern.get(2, 1, 4), 1);
 * assert.equal(pattern.get(2, 1, 3), 0);
 * ```
 *
 * @example "same" padding reads zeros at the border
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexPattern } from "@einconv/expressions";
 *
 * const pattern = indexPattern(3, 3, { padding: "same", dtype: "float64" });
 * assert.deepEqual(pattern.shape, [3, 3, 3]);
 * assert.equal(pattern.get(0, 0, 0), 0); // tap 0 of output 0 reads the left padding
 * assert.equal(pattern.get(0, 1, 0), 1);
 * assert.equal(pattern.get(1, 0, 0), 1);
 * ```
 */
export function indexPattern(
  inputSize: number,
  kernelSize: number,
  options?: IndexPatternOptions & { dtype?: "float32" | "float64" },
): NdArray;
/**
 * Builds the `[K, O, I]` index pattern of one spatial dimension as bytes.
 *
 * @param inputSize Input length `I`, a positive integer.
 * @param kernelSize Kernel length `K`, a positive integer.
 * @param options Stride, padding, dilation and `dtype: "uint8"`.
 * @returns A new C-contiguous ndarray over a `Uint8Array`.
 *
 * @example Bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexPattern } from "@einconv/expressions";
 *
 * const pattern = indexPattern(4, 2, { stride: 2, dtype: "uint8" });
 * assert.deepEqual(pattern.shape, [2, 2, 4]);
 * assert.equal(pattern.get(1, 1, 3), 1);
 * ```
 */
export function indexPattern(
  inputSize: number,
  kernelSize: number,
  options: IndexPatternOptions & { dtype: "uint8" },
): Uint8NdArray;
/**
 * Builds the `[K, O, I]` index pattern of one spatial dimension in a dtype known only at
 * run time.
 *
 * @param inputSize Input length `I`, a positive integer.
 * @param kernelSize Kernel length `K`, a positive integer.
 * @param options Stride, padding, dilation and dtype.
 * @returns A new C-contiguous ndarray.
 *
 * @example A dtype chosen at run time
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexPattern, type PatternDType } from "@einconv/expressions";
 *
 * for (const dtype of ["float32", "float64", "uint8"] as PatternDType[]) {
 *   assert.equal(indexPattern(4, 2, { dtype }).get(1, 0, 1), 1);
 * }
 * ```
 */
export function indexPattern(
  inputSize: number,
  kernelSize: number,
  options?: IndexPatternOptions,
): NdArray | Uint8NdArray;
export function indexPattern(
  inputSize: number,
  kernelSize: number,
  options: IndexPatternOptions = {},
): NdArray | Uint8NdArray {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot read options: expected an object, got ${describe(options)}`);
  }
  const { stride = 1, padding = 0, dilation = 1, dtype = "float32" } = options;
  const outputSize = convOutputSize(inputSize, kernelSize, stride, padding, dilation);
  const [paddingLeft, paddingRight] = convPaddings(kernelSize, stride, padding, dilation);
  const hyperparameters = {
    inputSize,
    kernelSize,
    outputSize,
    stride,
    paddingLeft,
    paddingRight,
    dilation,
  };
  if (dtype === "float32" || dtype === "float64") return denseIndexPattern(hyperparameters, dtype);
  if (dtype !== "uint8") {
    throw new TypeError(
      `Cannot read options.dtype: expected "float32", "float64" or "uint8", got ${describe(dtype)}`,
    );
  }
  const data = new Uint8Array(kernelSize * outputSize * inputSize);
  fillIndexPattern(data, hyperparameters);
  return ndarray(data, [kernelSize, outputSize, inputSize]) as Uint8NdArray;
}
