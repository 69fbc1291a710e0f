import assert from "node:assert/strict";
import { assertAllClose, contractPath, einsumSync, tensor } from "@einconv/runtime";
import { mulberry32, randomTensor, randomView } from "../_random.ts";
import { referenceEinsum } from "../_reference_einsum.ts";

Deno.test("einsumSync() contracts a 12-operand network like the reference", () => {
  const rng = mulberry32(12);
  const terms = ["ab", "bc", "cd", "de", "ef", "fg", "gh", "hi", "ij", "jk", "kl", "lb"];
  const operands = terms.map(() => randomView(rng, randomTensor(rng, [3, 3])));
  const equation = `${terms.join(",")}->al`;
  assert.equal(contractPath(equation, ...operands).strategy, "auto");
  assertAllClose(einsumSync(equation, ...operands), referenceEinsum(equation, ...operands));
});

Deno.test("einsumSync() handles einops names together with an ellipsis", () => {
  const rng = mulberry32(5);
  const x = randomTensor(rng, [2, 3, 4, 5]);
  const w = randomTensor(rng, [6, 5]);
  const result = einsumSync("... c_in, c_out c_in -> ... c_out", x, w);
  assertAllClose(result, referenceEinsum("...i,oi->...o", x, w));
  assert.deepEqual(result.shape, [2, 3, 4, 6]);
});

Deno.test("einsumSync() runs single-operand transposes, sums and diagonals on views", () => {
  const rng = mulberry32(9);
  const x = randomView(rng, randomTensor(rng, [3, 4, 3]));
  for (const equation of ["ijk->kji", "ijk->", "iji->j", "iji->ij", "ijk->j", "...k->k..."]) {
    assertAllClose(einsumSync(equation, x), referenceEinsum(equation, x), { message: equation });
  }
});

Deno.test("einsumSync() takes a large batched product through the GEMM path", () => {
  const rng = mulberry32(21);
  const a = randomView(rng, randomTensor(rng, [3, 40, 37]));
  const b = randomTensor(rng, [3, 37, 45]).transpose(0, 2, 1);
  assertAllClose(einsumSync("bij,bkj->bik", a, b), referenceEinsum("bij,bkj->bik", a, b));
  const f32 = randomTensor(rng, [64, 70], "float32");
  const g32 = randomTensor(rng, [70, 33], "float32");
  const product = einsumSync("ij,jk->ik", f32, g32);
  assert.equal(product.dtype, "float32");
  assertAllClose(product, referenceEinsum("ij,jk->ik", f32, g32), { rtol: 1e-5 });
});

Deno.test("einsumSync() gives zeros for an empty contraction and empty results", () => {
  const empty = tensor(new Float64Array(0), { shape: [2, 0] });
  const other = tensor(new Float64Array(0), { shape: [0, 3] });
  const sum = einsumSync("ij,jk->ik", empty, other);
  assert.deepEqual(sum.shape, [2, 3]);
  assert.deepEqual(Array.from(sum.data), [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(einsumSync("ij->ji", empty).shape, [0, 2]);
});
