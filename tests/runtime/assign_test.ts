// assign(): the one copy into an existing array that einsum's pool, evaluate and the
// biased functionals share.
import assert from "node:assert/strict";
// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import { assign, tensor, toNested, zeros } from "@einconv/runtime";

Deno.test("assign() copies any strides into any strides, converting the float type", () => {
  const source = tensor([[1, 2, 3], [4, 5, 6]]).step(1, -1);
  const out = zeros([3, 2], "float32").transpose(1, 0);
  assert.equal(assign(out, source), out);
  assert.deepEqual(toNested(out), [[3, 2, 1], [6, 5, 4]]);
  assert.ok(out.data instanceof Float32Array);
});

Deno.test("assign() reads a source that shares memory with out as it was", () => {
  const a = tensor([[1, 2], [3, 4]]);
  assign(a, a.transpose(1, 0));
  assert.deepEqual(toNested(a), [[1, 3], [2, 4]]);
  // A row-major source that a reversed out overwrites before it is read.
  const data = new Float64Array([0, 1, 2, 3]);
  assign(ndarray(data, [3], [-1], 2), ndarray(data, [3], [1], 1));
  assert.deepEqual(Array.from(data), [3, 2, 1, 3]);
});

Deno.test("assign() rejects a wrong shape and an out outside its data before writing", () => {
  const out = zeros([2, 2]);
  assert.throws(() => assign(out, tensor([1, 2, 3, 4])), {
    name: "RangeError",
    message: "Cannot read out: expected shape [4], got [2,2]",
  });
  const short = ndarray(new Float64Array(3), [2, 2]);
  assert.throws(() => assign(short, tensor([[1, 2], [3, 4]])), {
    name: "RangeError",
    message: /^Cannot read out: the view reaches elements 0 to 3/,
  });
  assert.deepEqual(Array.from(out.data), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(short.data), [0, 0, 0]);
});
