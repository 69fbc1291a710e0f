// SymbolicTensor.narrow with a step: the kept entries, the view it materialises, bad input.
import assert from "node:assert/strict";
import { tensor } from "@einconv/runtime";
import { SymbolicTensor } from "@einconv/simplify";

const row = () =>
  new SymbolicTensor({ source: { kind: "input", name: "x" }, indices: ["n", "i"], shape: [2, 9] });
const x = tensor([[0, 1, 2, 3, 4, 5, 6, 7, 8], [9, 10, 11, 12, 13, 14, 15, 16, 17]]);

Deno.test("SymbolicTensor.narrow() with a step keeps every step-th entry as a view", () => {
  const odd = row().narrow("i", 1, 4, 2);
  assert.deepEqual(odd.shape, [2, 4]);
  assert.deepEqual(odd.history, [{ op: "narrow", name: "i", start: 1, length: 4, step: 2 }]);
  const value = odd.materialize({ inputs: { x } });
  assert.equal(value.data, x.data);
  assert.deepEqual([value.stride, value.offset], [[9, 2], 1]);
  const read = (n: number) => [0, 1, 2, 3].map((i) => value.get(n, i));
  assert.deepEqual([read(0), read(1)], [[1, 3, 5, 7], [10, 12, 14, 16]]);
  // A second narrowing steps through the first: entries 3 and 7 of the row.
  const again = odd.narrow("i", 1, 2, 2).materialize({ inputs: { x } });
  assert.deepEqual([again.get(0, 0), again.get(0, 1), again.get(1, 1)], [3, 7, 16]);
});

Deno.test("SymbolicTensor.narrow() records step 1 as a plain narrowing", () => {
  assert.deepEqual(row().narrow("i", 2, 3, 1).history, [
    { op: "narrow", name: "i", start: 2, length: 3 },
  ]);
});

Deno.test("SymbolicTensor.narrow() rejects a step or a length that leaves the index", () => {
  for (const [start, length, step] of [[0, 6, 2], [1, 2, 0], [0, 2, 1.5], [8, 1, -1]]) {
    assert.throws(() => row().narrow("i", start, length, step), {
      name: "RangeError",
      message: `Cannot narrow "i" of size 9 to start=${start}, length=${length}, step=${step}`,
    });
  }
  assert.equal(row().narrow("i", 0, 5, 2).shape[1], 5); // 0, 2, 4, 6, 8
});
