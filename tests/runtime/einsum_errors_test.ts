import assert from "node:assert/strict";
import { contractionPlanCache, einsumSync, type NdArray, tensor } from "@einconv/runtime";
import { einsum } from "@einconv/workers";
// @ts-types="@types/ndarray"
import ndarray from "ndarray";

const a = tensor([[1, 2], [3, 4]]);
const b = tensor([[1, 0, 2], [0, 1, 3]]);

Deno.test("einsumSync() rejects bad equations and operands, naming what is wrong", () => {
  const cases: [() => unknown, string, RegExp][] = [
    [() => einsumSync("ij,j?->i", a, b), "RangeError", /character "\?"/],
    [() => einsumSync("ij->i->i", a), "RangeError", /"->" occurs more than once/],
    [() => einsumSync("ij,jk->iq", a, b), "RangeError", /output index "q"/],
    [() => einsumSync("ij,jk->ii", a, b), "RangeError", /index "i" occurs twice in the output/],
    [() => einsumSync("ij,jk->ik", a), "RangeError", /it has 2 operands, got 1/],
    [
      () => einsumSync("ijk,jk->ik", a, b),
      "RangeError",
      /operand 0 has rank 2, its subscripts "ijk" need 3/,
    ],
    [
      () => einsumSync("ij,jk->ik", b, a),
      "RangeError",
      /^Cannot contract "ij,jk->ik": index "j" has size 3 in operand 0 and size 2 in operand 1$/,
    ],
    [() => einsumSync("ii->i", b), "RangeError", /index "i" has size 2 in operand 0 and size 3/],
    [
      () => einsumSync("...i,...i->...", tensor([[1, 2]]).transpose(1, 0), tensor([[1], [2], [3]])),
      "RangeError",
      /ellipsis dimension 0 has size 2 in operand 0 and size 3 in operand 1/,
    ],
    [
      () => einsumSync("ij", [[1, 2]] as unknown as NdArray),
      "TypeError",
      /^Cannot read operand 0: expected an ndarray, got \[\[1,2\]\]$/,
    ],
    [
      () => einsumSync("i", ndarray(new Int32Array([1, 2])) as unknown as NdArray),
      "TypeError",
      /^Cannot read operand 0: expected an ndarray over Float32Array or Float64Array, got one over Int32Array$/,
    ],
  ];
  for (const [call, name, message] of cases) assert.throws(call, { name, message });
});

Deno.test("einsumSync() leaves no plan in the cache when it throws and works afterwards", () => {
  contractionPlanCache.clear();
  assert.throws(() => einsumSync("ij,jk->ik", b, a));
  assert.equal(contractionPlanCache.size, 0);
  assert.deepEqual(Array.from(einsumSync("ij,jk->ik", a, b).data), [1, 2, 8, 3, 4, 18]);
  assert.equal(contractionPlanCache.size, 1);
});

Deno.test("einsum() rejects instead of throwing", async () => {
  await assert.rejects(einsum("ij,jk->ik", b, a), { name: "RangeError" });
});

Deno.test("einsumSync() reuses cached plans for repeated calls", () => {
  contractionPlanCache.clear();
  einsumSync("ij,jk->ik", a, b);
  const misses = contractionPlanCache.misses;
  for (let i = 0; i < 5; i++) einsumSync("ij,jk->ik", a, b);
  assert.equal(contractionPlanCache.misses, misses);
  assert.equal(contractionPlanCache.hits, 5);
  einsumSync("ij,jk->ik", a, a);
  assert.equal(contractionPlanCache.misses, misses + 1);
});

Deno.test("einsumSync() never mutates its operands and returns fresh arrays", () => {
  const x = tensor([[1, 2], [3, 4]]);
  const before = Array.from(x.data);
  const t = einsumSync("ij->ij", x);
  assert.notEqual(t.data, x.data);
  t.data[0] = 100;
  einsumSync("ii->i", x);
  einsumSync("ij,ij->ij", x, x);
  assert.deepEqual(Array.from(x.data), before);
});

Deno.test("einsumSync() mixes dtypes into float64 and keeps float32 when all are", () => {
  const f32 = tensor([1, 2], { dtype: "float32" });
  const f64 = tensor([3, 4]);
  assert.equal(einsumSync("i,i->", f32, f32).dtype, "float32");
  const mixed = einsumSync("i,i->", f32, f64);
  assert.equal(mixed.dtype, "float64");
  assert.equal(mixed.get(), 11);
});
