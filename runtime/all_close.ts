import type { NdArray } from "./tensor.ts";
import { copyStrided, shapeSize } from "./_tensor.ts";
import { checkTensor } from "./validate.ts";

/** Options of {@linkcode assertAllClose}. */
export interface AllCloseOptions {
  /** Largest error allowed, relative to the largest magnitude in `expected`
   * (default 1e-10 for float64 results, 1e-4 for float32). */
  rtol?: number;
  /** Text put before the failure message. */
  message?: string;
}

/** A tensor or nested arrays/flat data with a shape, as fixtures store them. */
export type Expected = NdArray | { shape: readonly number[]; data: ArrayLike<number> };

/**
 * The largest elementwise difference between two tensors of equal shape, divided by
 * the largest magnitude in `expected` (by 1 if that is 0).
 *
 * @param actual The computed tensor (any strides).
 * @param expected The reference: a tensor, or `{ shape, data }` in row-major order.
 * @returns The relative error; `Infinity` if the shapes differ or a value is NaN.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maxRelativeError, tensor } from "@einconv/runtime";
 *
 * const error = maxRelativeError(tensor([1, 2.001]), { shape: [2], data: [1, 2] });
 * assert.ok(Math.abs(error - 0.0005) < 1e-12);
 * ```
 */
export function maxRelativeError(actual: NdArray, expected: Expected): number {
  checkTensor(actual, "actual");
  const want = flatten(expected);
  if (actual.shape.join() !== want.shape.join()) return Infinity;
  const got = flatten(actual).data;
  let scale = 0;
  for (let i = 0; i < want.data.length; i++) scale = Math.max(scale, Math.abs(want.data[i]));
  if (scale === 0) scale = 1;
  let worst = 0;
  for (let i = 0; i < want.data.length; i++) {
    const error = Math.abs(got[i] - want.data[i]);
    if (!(error <= worst)) worst = Number.isNaN(error) ? Infinity : error;
  }
  return worst / scale;
}

/**
 * Throws an `Error` unless `actual` has the shape of `expected` and every element is
 * within `rtol` times the largest magnitude of `expected`.
 *
 * @param actual The computed tensor.
 * @param expected The reference tensor or `{ shape, data }`.
 * @param options Tolerance and message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertAllClose, tensor } from "@einconv/runtime";
 *
 * assertAllClose(tensor([[1, 2]]), { shape: [1, 2], data: [1, 2 + 1e-12] });
 * assert.throws(() => assertAllClose(tensor([1]), tensor([2])));
 * ```
 */
export function assertAllClose(
  actual: NdArray,
  expected: Expected,
  options: AllCloseOptions = {},
): void {
  const rtol = options.rtol ?? (actual.data instanceof Float32Array ? 1e-4 : 1e-10);
  const want = flatten(expected);
  const prefix = options.message === undefined ? "" : `${options.message}: `;
  if (actual.shape.join() !== want.shape.join()) {
    throw new Error(`${prefix}shape [${actual.shape}] differs from expected [${want.shape}]`);
  }
  const error = maxRelativeError(actual, expected);
  if (!(error <= rtol)) {
    throw new Error(`${prefix}relative error ${error} exceeds rtol=${rtol}`);
  }
}

function flatten(x: Expected): { shape: readonly number[]; data: ArrayLike<number> } {
  if (!("stride" in x)) return x;
  const data = new Float64Array(shapeSize(x.shape));
  copyStrided(x.data, x.offset, x.shape, x.stride, data);
  return { shape: x.shape, data };
}
