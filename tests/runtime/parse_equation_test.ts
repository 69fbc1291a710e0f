import assert from "node:assert/strict";
import { parseEquation } from "@einconv/runtime";

Deno.test("parseEquation() reads explicit and implicit numpy equations", () => {
  assert.deepEqual(parseEquation("ij,jk->ik", [2, 2]), {
    equation: "ij,jk->ik",
    style: "numpy",
    inputs: [["i", "j"], ["j", "k"]],
    output: ["i", "k"],
  });
  assert.deepEqual(parseEquation("ba", [2]).output, ["a", "b"]);
  assert.deepEqual(parseEquation("Ab,bC", [2, 2]).output, ["A", "C"]);
  assert.deepEqual(parseEquation("ii", [2]).output, []);
  assert.deepEqual(parseEquation(",ij->ij", [0, 2]).inputs, [[], ["i", "j"]]);
});

Deno.test("parseEquation() expands ellipses aligned to the right", () => {
  const parsed = parseEquation("i...,...->...", [3, 1]);
  assert.deepEqual(parsed.inputs, [["i", "...0", "...1"], ["...1"]]);
  assert.deepEqual(parsed.output, ["...0", "...1"]);
  assert.deepEqual(parseEquation("...ij->ji", [4]).inputs, [["...0", "...1", "i", "j"]]);
});

Deno.test("parseEquation() detects einops style", () => {
  const parsed = parseEquation("batch x1, x1 x12 -> batch x12", [2, 2]);
  assert.equal(parsed.style, "einops");
  assert.deepEqual(parsed.inputs, [["batch", "x1"], ["x1", "x12"]]);
  assert.deepEqual(parsed.output, ["batch", "x12"]);
  assert.equal(parseEquation("ij, jk -> ik", [2, 2]).style, "numpy");
  assert.deepEqual(parseEquation("n ..., c_in -> ...", [3, 1]).inputs, [["n", "...0", "...1"], [
    "c_in",
  ]]);
});

Deno.test("parseEquation() rejects bad equations with the reason", () => {
  const cases: [string, number[], RegExp][] = [
    ["ij,jk->ik->i", [2, 2], /"->" occurs more than once/],
    ["i$,j", [2, 1], /operand 0 has character "\$"; allowed are letters/],
    ["ij,jk->iz", [2, 2], /output index "z" does not occur in any operand/],
    ["ij,jk->ii", [2, 2], /index "i" occurs twice in the output/],
    ["ij,jk->ik", [2], /it has 2 operands, got 1/],
    ["ij,jk->ik", [2, 3], /operand 1 has rank 3, its subscripts "jk" need 2/],
    ["...ij", [1], /operand 0 has rank 1, its subscripts "...ij" need at least 2/],
    ["i...j...", [4], /operand 0 has "..." more than once/],
    ["row 2col -> row", [2], /index "2col"; einops-style names/],
  ];
  for (const [equation, ranks, message] of cases) {
    assert.throws(() => parseEquation(equation, ranks), { name: "RangeError", message }, equation);
  }
  assert.throws(() => parseEquation(3 as unknown as string, []), { name: "TypeError" });
});
