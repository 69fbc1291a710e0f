import type { NdArray } from "./tensor.ts";
import { checkOut } from "./_check_out.ts";
import { checkTensor } from "./validate.ts";

/**
 * Throws unless `out` can receive a result of `shape`: an ndarray (`TypeError`) of that
 * shape, lying within its data, with no stride 0 along a dimension of size over 1
 * (`RangeError`), every message naming `name`. Functions taking outputs check them all
 * before writing any.
 *
 * @param out The output as passed.
 * @param shape The shape of the result it is to receive.
 * @param name How error messages call it, e.g. `"outputs.weight"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkOutput, zeros } from "@einconv/runtime";
 *
 * checkOutput(zeros([2, 3]), [2, 3], "out");
 * assert.throws(() => checkOutput(zeros([3, 2]), [2, 3], "out"), {
 *   name: "RangeError",
 *   message: "Cannot read out: expected shape [2,3], got [3,2]",
 * });
 * ```
 */
export function checkOutput(
  out: unknown,
  shape: readonly number[],
  name: string,
): asserts out is NdArray {
  checkTensor(out, name);
  if (out.shape.join() !== shape.join()) {
    throw new RangeError(`Cannot read ${name}: expected shape [${shape}], got [${out.shape}]`);
  }
  checkOut(out, name);
}
