import { describe, integerKind, type IntegerMin, isInteger, readInteger } from "./_validate.ts";

/**
 * A convolution hyperparameter: one integer shared by all spatial dimensions, or one
 * integer per spatial dimension.
 *
 * @example One value for every dimension, or one each
 * ```ts
 * import assert from "node:assert/strict";
 * import { type IntOrTuple, readHyperparameter } from "@einconv/expressions";
 *
 * const shared: IntOrTuple = 2;
 * const each: IntOrTuple = [2, 1];
 * assert.deepEqual(readHyperparameter("stride", shared, 2), [2, 2]);
 * assert.deepEqual(readHyperparameter("stride", each, 2), [2, 1]);
 * ```
 */
export type IntOrTuple = number | readonly number[];

/**
 * A convolution's padding: an integer or one integer per spatial dimension (zeros added
 * on both sides), `"valid"` (no padding) or `"same"` (stride 1 only; the output has the
 * input's size, the smaller half of the padding goes on the left).
 *
 * @example The accepted forms
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Padding, readPadding } from "@einconv/expressions";
 *
 * const paddings: Padding[] = [1, [1, 0], "same", "valid"];
 * assert.deepEqual(paddings.map((padding) => readPadding(padding, 2)), [
 *   [1, 1],
 *   [1, 0],
 *   "same",
 *   "valid",
 * ]);
 * ```
 */
export type Padding = IntOrTuple | "same" | "valid";

/** Options of {@linkcode readHyperparameter}. */
export interface ReadHyperparameterOptions {
  /** Smallest allowed value: 1 (positive, the default) or 0 (non-negative). */
  min?: 0 | 1;
}

/**
 * Reads a hyperparameter given as one integer or as `n` integers and returns it as an
 * array of `n` integers.
 *
 * @param name Name of the hyperparameter, used in error messages.
 * @param value One integer (shared by all dimensions) or `n` integers.
 * @param n Number of spatial dimensions.
 * @param options Smallest allowed value (`min`, default 1).
 * @returns A new array of `n` integers.
 * @throws {TypeError} If `value` is neither an integer nor an array of integers.
 * @throws {RangeError} If an entry is below `min` or the array does not have `n` entries.
 *
 * @example Expanding and validating a stride
 * ```ts
 * import assert from "node:assert/strict";
 * import { readHyperparameter } from "@einconv/expressions";
 *
 * assert.deepEqual(readHyperparameter("stride", 2, 3), [2, 2, 2]);
 * assert.deepEqual(readHyperparameter("padding", [0, 1], 2, { min: 0 }), [0, 1]);
 * assert.throws(() => readHyperparameter("stride", 0, 2), {
 *   name: "RangeError",
 *   message: "Cannot read stride: expected a positive integer or 2 positive integers, got 0",
 * });
 * ```
 */
export function readHyperparameter(
  name: string,
  value: IntOrTuple,
  n: number,
  options: ReadHyperparameterOptions = {},
): number[] {
  readInteger("n", n, 1);
  const min = options.min ?? 1;
  if (min !== 0 && min !== 1) {
    throw new RangeError(`Cannot read options.min: expected 0 or 1, got ${describe(min)}`);
  }
  const kind = integerKind(min);
  return readIntegers(name, value, n, min, `a ${kind} integer or ${n} ${kind} ${plural(n)}`);
}

/**
 * Reads a padding given as one integer, `n` integers, `"same"` or `"valid"`; integers
 * come back as an array of `n` non-negative integers, strings unchanged.
 *
 * @param value The padding.
 * @param n Number of spatial dimensions.
 * @returns A new array of `n` integers, or `"same"` / `"valid"`.
 * @throws {TypeError} If `value` has none of the accepted forms.
 * @throws {RangeError} If an entry is negative or the array does not have `n` entries.
 *
 * @example Integers are expanded, strings kept
 * ```ts
 * import assert from "node:assert/strict";
 * import { readPadding } from "@einconv/expressions";
 *
 * assert.deepEqual(readPadding(1, 3), [1, 1, 1]);
 * assert.equal(readPadding("same", 3), "same");
 * assert.throws(() => readPadding([1, -1], 2), {
 *   name: "RangeError",
 *   message: /^Cannot read padding: .*"same" or "valid", got \[1,-1\]$/,
 * });
 * ```
 */
export function readPadding(value: Padding, n: number): number[] | "same" | "valid" {
  readInteger("n", n, 1);
  if (value === "same" || value === "valid") return value;
  const expected = `a non-negative integer, ${n} non-negative ${plural(n)}, "same" or "valid"`;
  return readIntegers("padding", value, n, 0, expected);
}

/** "integer" or "integers". */
function plural(n: number): string {
  return n === 1 ? "integer" : "integers";
}

/** Reads one integer or `n` integers, each at least `min`, into an array of `n`. */
function readIntegers(
  name: string,
  value: unknown,
  n: number,
  min: IntegerMin,
  expected: string,
): number[] {
  const message = `Cannot read ${name}: expected ${expected}, got ${describe(value)}`;
  const values = Array.isArray(value) ? value : [value];
  if (!values.every(isInteger)) throw new TypeError(message);
  if (Array.isArray(value) && value.length !== n) throw new RangeError(message);
  if (values.some((entry) => entry < min)) throw new RangeError(message);
  return Array.isArray(value) ? [...values] : new Array(n).fill(value);
}
