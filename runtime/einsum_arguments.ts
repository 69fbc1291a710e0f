import type { NdArray } from "./tensor.ts";
import { checkOut } from "./_check_out.ts";
import { checkOptionKeys, checkTensor } from "./validate.ts";

/** Options of `einsum` and `einsumSync`, passed after the operands. */
export interface EinsumOptions {
  /** Write the result into this ndarray (any strides; of the result's shape) instead of
   * a new one, and return it (`undefined`: a new one). Reusing one output across calls
   * spares the page faults of fresh memory. It may share memory with the operands: the
   * result is then computed aside and copied in at the end. Float results are converted
   * to its type. On the calling thread, kernels write straight into a contiguous `out`. */
  out?: NdArray;
}

/**
 * Splits einsum's variadic arguments into the operands and the options, and checks
 * both: a last argument that is a plain object (no `shape`, not an array) is the options.
 *
 * @param args The arguments after the equation.
 * @returns The operands, and the options (`{}` when none were passed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { einsumArguments, tensor, zeros } from "@einconv/runtime";
 *
 * const a = tensor([1, 2]);
 * const out = zeros([]);
 * const { operands, options } = einsumArguments([a, a, { out }]);
 * assert.equal(operands.length, 2);
 * assert.equal(options.out, out);
 * ```
 */
export function einsumArguments(
  args: readonly (NdArray | EinsumOptions)[],
): { operands: NdArray[]; options: EinsumOptions } {
  const last = args.at(-1);
  const isOptions = typeof last === "object" && last !== null && !("shape" in last) &&
    !Array.isArray(last) && !ArrayBuffer.isView(last);
  const operands = (isOptions ? args.slice(0, -1) : args) as NdArray[];
  const options = isOptions ? last as EinsumOptions : {};
  operands.forEach((x, at) => checkTensor(x, `operand ${at}`));
  checkOptionKeys(
    options,
    ["out"],
    "einsum options (the last argument, an object that is not an ndarray)",
  );
  if (options.out !== undefined) checkOut(options.out);
  return { operands, options };
}
