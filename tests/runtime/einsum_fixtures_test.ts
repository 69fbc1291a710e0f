import assert from "node:assert/strict";
import { assertAllClose, einsumSync } from "@einconv/runtime";
import { einsum } from "@einconv/workers";
import { type FixtureTensor, fromFixture, loadCases } from "../_fixtures.ts";

interface EinsumCase {
  equation: string;
  operands: FixtureTensor[];
  expected: FixtureTensor;
}

const cases = loadCases<EinsumCase>("einsum");

Deno.test("the einsum fixtures hold 52 cases", () => {
  assert.equal(cases.length, 52);
});

for (const dtype of ["float64", "float32"] as const) {
  Deno.test(`einsumSync() reproduces numpy on every fixture in ${dtype}`, () => {
    for (const c of cases) {
      const operands = c.operands.map((t) => fromFixture(t, dtype));
      const result = einsumSync(c.equation, ...operands);
      assert.equal(result.dtype, dtype, c.equation);
      assertAllClose(result, c.expected, {
        rtol: dtype === "float64" ? 1e-10 : 1e-4,
        message: c.equation,
      });
    }
  });
}

Deno.test("einsum() resolves to the same numbers as einsumSync()", async () => {
  for (const c of cases) {
    const operands = c.operands.map((t) => fromFixture(t, "float64"));
    assertAllClose(await einsum(c.equation, ...operands), c.expected, { message: c.equation });
  }
});
