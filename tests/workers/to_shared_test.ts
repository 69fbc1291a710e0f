import assert from "node:assert/strict";
import { type NdArray, tensor, toNested } from "@einconv/runtime";
import { toShared } from "@einconv/workers";
// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import { mulberry32, randomTensor, randomView } from "../_random.ts";

Deno.test("toShared() copies a view's span once, keeping shape, strides and values", () => {
  const rng = mulberry32(31);
  for (let trial = 0; trial < 20; trial++) {
    const dtype = trial % 2 === 0 ? "float32" : "float64";
    const x = randomView(rng, randomTensor(rng, [3, 1 + trial % 4, 2], dtype));
    const before = Array.from(x.data);
    const shared = toShared(x);
    assert.ok(shared.data.buffer instanceof SharedArrayBuffer);
    assert.equal(shared.data.constructor, x.data.constructor);
    assert.deepEqual(shared.stride, x.stride);
    assert.deepEqual(toNested(shared), toNested(x));
    assert.ok(shared.data.length <= x.data.length);
    assert.deepEqual(Array.from(x.data), before);
  }
});

Deno.test("toShared() returns shared tensors as they are and handles empty and 0-d ones", () => {
  const shared = toShared(tensor([1, 2, 3]));
  assert.equal(toShared(shared), shared);
  const empty = toShared(tensor(new Float32Array(0), { shape: [2, 0] }));
  assert.deepEqual(empty.shape, [2, 0]);
  assert.equal(empty.data.length, 0);
  assert.equal(toShared(tensor(5)).get(), 5);
});

Deno.test("toShared() rejects what is not a float tensor with the runtime's TypeError", () => {
  assert.throws(() => toShared([1, 2] as unknown as NdArray), {
    name: "TypeError",
    message: "Cannot read x: expected an ndarray, got [1,2]",
  });
  assert.throws(() => toShared(ndarray(new Int8Array(2)) as unknown as NdArray), {
    name: "TypeError",
    message: /over Int8Array$/,
  });
});
