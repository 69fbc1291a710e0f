import type { NdArray } from "@einconv/runtime";

/** Where a functional writes its result. */
export interface OutputOptions {
  /** Write the result into this ndarray (of the result's shape, any strides) and return
   * it instead of a new one. Reusing one output across calls (a training loop) spares
   * the page faults of fresh memory, several ms per MB on small VMs. */
  out?: NdArray;
}

/**
 * Splits a functional's options into its hyperparameters and `out`.
 *
 * @param options The options as passed (possibly undefined, or invalid: then returned
 *   unchanged for the expression builder to reject).
 * @returns The options without `out`, and `out`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { zeros } from "@einconv/runtime";
 * import { splitOutputOptions } from "@einconv/nn";
 *
 * const out = zeros([2]);
 * assert.deepEqual(splitOutputOptions({ stride: 2, out }), [{ stride: 2 }, out]);
 * ```
 */
export function splitOutputOptions<T extends object>(
  options: (T & OutputOptions) | undefined,
): [T | undefined, NdArray | undefined] {
  if (options === undefined || options === null || typeof options !== "object") {
    return [options, undefined];
  }
  const { out, ...rest } = options;
  return [rest as T, out];
}
