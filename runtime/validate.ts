import type { NdArray } from "./tensor.ts";

/**
 * Throws a `TypeError` naming `name` unless `x` is an ndarray over a `Float32Array` or
 * a `Float64Array`.
 *
 * @param x The value to check.
 * @param name How error messages call it, e.g. `"operand 0"` or `"weight"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTensor, tensor } from "@einconv/runtime";
 *
 * checkTensor(tensor([1, 2]), "x");
 * assert.throws(() => checkTensor([1, 2], "x"), {
 *   name: "TypeError",
 *   message: "Cannot read x: expected an ndarray, got [1,2]",
 * });
 * ```
 */
export function checkTensor(x: unknown, name: string): asserts x is NdArray {
  const candidate = x as NdArray | null;
  if (
    candidate === null || typeof candidate !== "object" || !Array.isArray(candidate.shape) ||
    !Array.isArray(candidate.stride) || typeof candidate.offset !== "number"
  ) {
    throw new TypeError(`Cannot read ${name}: expected an ndarray, got ${describeValue(x)}`);
  }
  if (!(candidate.data instanceof Float32Array || candidate.data instanceof Float64Array)) {
    const kind = (candidate.data as object | undefined)?.constructor?.name ?? typeof candidate.data;
    throw new TypeError(
      `Cannot read ${name}: expected an ndarray over Float32Array or Float64Array, got one over ${kind}`,
    );
  }
}

/**
 * A short description of any value for error messages: numbers and short arrays as
 * written, strings quoted, objects by their class.
 *
 * @param value Anything.
 * @returns The description.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeValue } from "@einconv/runtime";
 *
 * assert.equal(describeValue([1, 2]), "[1,2]");
 * assert.equal(describeValue("same"), '"same"');
 * assert.equal(describeValue(new Map()), "a Map");
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value !== "object") return String(value);
  if (Array.isArray(value)) {
    const text = JSON.stringify(value);
    return text.length > 60 ? `an array of length ${value.length}` : text;
  }
  return `a ${(value as object).constructor?.name ?? "object"}`;
}
