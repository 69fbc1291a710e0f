// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import {
  assign,
  checkOptionKeys,
  checkOutput,
  contractPath,
  einsumSync,
  type NdArray,
} from "@einconv/runtime";
import { einsum } from "@einconv/workers";
import type { Expression } from "./_expression.ts";
import { describe } from "./_validate.ts";

/**
 * Evaluates an expression on the calling thread: the einsum of its operands, reshaped
 * to its shape.
 *
 * @param expression `{ equation, operands, shape }`, e.g. from {@linkcode convForward}.
 * @param options `out`: write the result into this ndarray of shape `expression.shape`
 *   (any strides) and return it, instead of a new one.
 * @returns A new C-contiguous ndarray of shape `expression.shape`, or `out`.
 *
 * @example Unfolding a 1-d signal
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convUnfold, evaluateSync } from "@einconv/expressions";
 *
 * const columns = evaluateSync(convUnfold(tensor([[[1, 2, 3]]]), 2));
 * assert.deepEqual(columns.shape, [1, 2, 2]);
 * assert.deepEqual(Array.from(columns.data), [1, 2, 2, 3]);
 * ```
 */
export function evaluateSync(expression: Expression, options: EvaluateOptions = {}): NdArray {
  checkExpression(expression);
  const out = einsumOut(expression, options);
  if (out === undefined) {
    const result = reshape(
      einsumSync(expression.equation, ...expression.operands),
      expression.shape,
    );
    return options?.out === undefined ? result : assign(options.out, result);
  }
  einsumSync(expression.equation, ...expression.operands, { out });
  return options!.out!;
}

/**
 * Evaluates an expression, on the worker pool when that pays: the einsum of its
 * operands, reshaped to its shape.
 *
 * @param expression `{ equation, operands, shape }`, e.g. from {@linkcode convForward}.
 * @param options `out`: write the result into this ndarray of shape `expression.shape`
 *   (any strides) and return it, instead of a new one.
 * @returns A Promise of a new C-contiguous ndarray of shape `expression.shape`, or of
 *   `out`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convUnfold, evaluate } from "@einconv/expressions";
 *
 * const columns = await evaluate(convUnfold(tensor([[[1, 2, 3]]]), 2));
 * assert.deepEqual(Array.from(columns.data), [1, 2, 2, 3]);
 * ```
 */
export async function evaluate(
  expression: Expression,
  options: EvaluateOptions = {},
): Promise<NdArray> {
  checkExpression(expression);
  const out = einsumOut(expression, options);
  if (out === undefined) {
    const result = reshape(
      await einsum(expression.equation, ...expression.operands),
      expression.shape,
    );
    return options?.out === undefined ? result : assign(options.out, result);
  }
  await einsum(expression.equation, ...expression.operands, { out });
  return options!.out!;
}

/** Options of {@linkcode evaluate} and {@linkcode evaluateSync}. */
export interface EvaluateOptions {
  /** Write the result into this ndarray of shape `expression.shape` (any strides) and
   * return it, instead of a new array; reusing one spares the page faults of fresh
   * memory. */
  out?: NdArray;
}

/** `options.out` seen with the einsum's result shape, after checking it: `out` itself or
 * a view of its numbers; undefined without `out` or when its strides do not allow a view
 * (the result is then computed aside and copied in). */
function einsumOut(expression: Expression, options: EvaluateOptions | null): NdArray | undefined {
  checkOptionKeys(options ?? undefined, ["out"], "options");
  const { out } = options ?? {};
  if (out === undefined) return undefined;
  checkOutput(out, expression.shape, "out");
  const shape = contractPath(expression.equation, ...expression.operands).outputShape;
  if (shape.join() === out.shape.join()) return out;
  let step = 1;
  for (let d = out.shape.length - 1; d >= 0; d--) {
    if (out.shape[d] !== 1 && out.stride[d] !== step) return undefined;
    step *= out.shape[d];
  }
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  return ndarray(out.data, [...shape], strides, out.offset);
}

function checkExpression(expression: Expression): void {
  if (
    expression === null || typeof expression !== "object" ||
    typeof expression.equation !== "string" || !Array.isArray(expression.operands) ||
    !Array.isArray(expression.shape)
  ) {
    throw new TypeError(
      `Cannot read expression: expected { equation, operands, shape }, got ${describe(expression)}`,
    );
  }
}

function reshape(result: NdArray, shape: readonly number[]): NdArray {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== result.size) {
    throw new RangeError(
      `Cannot reshape the einsum result of shape [${result.shape}] to expression.shape [${shape}]`,
    );
  }
  return ndarray(result.data, [...shape]);
}
