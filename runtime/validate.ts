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

/**
 * Throws a `TypeError` naming `name` unless `options` is undefined or an object whose
 * keys are all among `known`: a misspelt option (`strides` for `stride`) must not be
 * silently ignored.
 *
 * @param options The options as passed.
 * @param known The option names allowed.
 * @param name How error messages call the options, e.g. `"options"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkOptionKeys } from "@einconv/runtime";
 *
 * checkOptionKeys({ out: undefined }, ["out"], "options");
 * assert.throws(() => checkOptionKeys({ output: 1 }, ["out"], "options"), {
 *   name: "TypeError",
 *   message: 'Cannot read options: unknown option "output" (expected out)',
 * });
 * ```
 */
export function checkOptionKeys(options: unknown, known: readonly string[], name: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot read ${name}: expected an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `Cannot read ${name}: unknown option ${JSON.stringify(key)} (expected ${known.join(", ")})`,
      );
    }
  }
}
