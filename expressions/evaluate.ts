// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import { einsumSync, type NdArray } from "@einconv/runtime";
import { einsum } from "@einconv/workers";
import type { Expression } from "./_expression.ts";
import { describe } from "./_validate.ts";

/**
 * Evaluates an expression on the calling thread: the einsum of its operands, reshaped
 * to its shape.
 *
 * @param expression `{ equation, operands, shape }`, e.g. from {@linkcode convForward}.
 * @returns A new C-contiguous ndarray of shape `expression.shape`.
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
export function evaluateSync(expression: Expression): NdArray {
  checkExpression(expression);
  return reshape(einsumSync(expression.equation, ...expression.operands), expression.shape);
}

/**
 * Evaluates an expression, on the worker pool when that pays: the einsum of its
 * operands, reshaped to its shape.
 *
 * @param expression `{ equation, operands, shape }`, e.g. from {@linkcode convForward}.
 * @returns A Promise of a new C-contiguous ndarray of shape `expression.shape`.
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
export async function evaluate(expression: Expression): Promise<NdArray> {
  checkExpression(expression);
  return reshape(await einsum(expression.equation, ...expression.operands), expression.shape);
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
