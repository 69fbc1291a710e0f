// What evaluateSync() and evaluate() reject, and that they leave operands unchanged.
import assert from "node:assert/strict";
import type { NdArray } from "@einconv/runtime";
import { convForward, convUnfold, evaluate, evaluateSync } from "@einconv/expressions";
import { mulberry32, randomTensor } from "../_random.ts";

/** What every builder returns. */
type Expression = ReturnType<typeof convForward>;

/** Expressions that are not well formed. */
const BAD_EXPRESSIONS: {
  label: string;
  expression(): Expression;
  name: string;
  message: RegExp;
}[] = [
  {
    label: "null",
    expression: () => null as unknown as Expression,
    name: "TypeError",
    message: /expression/,
  },
  {
    label: "an expression without shape",
    expression: () => ({ ...unfold(), shape: undefined as unknown as number[] }),
    name: "TypeError",
    message: /expression/,
  },
  {
    label: "a shape of another size",
    expression: () => ({ ...unfold(), shape: [2, 3] }),
    name: "RangeError",
    message: /shape/,
  },
  {
    label: "an operand missing",
    expression: () => {
      const { equation, operands, shape } = unfold(false);
      return { equation, operands: operands.slice(1), shape };
    },
    name: "RangeError",
    message: /operand/,
  },
];

function unfold(simplify = true): Expression {
  return convUnfold(randomTensor(mulberry32(1), [1, 2, 5]), 2, { simplify });
}

for (const { label, expression, name, message } of BAD_EXPRESSIONS) {
  Deno.test(`evaluateSync() and evaluate() reject ${label}`, async () => {
    assert.throws(() => evaluateSync(expression()), { name, message });
    await assert.rejects(() => evaluate(expression()), { name, message });
  });
}

Deno.test("evaluateSync() leaves the expression's operands unchanged", () => {
  const expression = convForward(
    randomTensor(mulberry32(4), [2, 3, 9, 8]),
    randomTensor(mulberry32(5), [4, 3, 2, 2]),
    { stride: [3, 2] },
  );
  const before = expression.operands.map((x: NdArray) => Array.from(x.data));
  evaluateSync(expression);
  assert.deepEqual(expression.operands.map((x: NdArray) => Array.from(x.data)), before);
});
