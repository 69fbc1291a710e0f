// assign(): the one copy into an existing array that einsum's pool, evaluate and the
// biased functionals share.
import assert from "node:assert/strict";
// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import { assign, contiguous, type NdArray, tensor, toNested, zeros } from "@einconv/runtime";

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

/** Every layout of a [2, 1, 3, 70] array this test copies between: row-major, rows with
 * gaps, reversed, transposed, broadcast (stride 0), and with size-1 dimensions. */
function layouts(values: Float64Array): NdArray[] {
  const full = ndarray(values.slice(0, 2 * 1 * 3 * 70), [2, 1, 3, 70]);
  const padded = ndarray(values.slice(), [2, 1, 3, 80]).hi(2, 1, 3, 70);
  const base = ndarray(values.slice(), [2, 3, 70, 1]);
  return [
    full,
    padded,
    padded.step(1, 1, -1, -1),
    base.transpose(0, 3, 1, 2),
    ndarray(values.slice(0, 3 * 70), [2, 1, 3, 70], [0, 5, 70, 1]),
    ndarray(values.slice(0, 70), [2, 1, 3, 70], [0, 0, 0, 1]),
  ];
}

Deno.test("assign() and contiguous() copy long rows, gaps, reversals and broadcasts exactly", () => {
  const values = new Float64Array(2 * 3 * 80).map((_, i) => i + 1);
  for (const source of layouts(values)) {
    const flat = contiguous(source);
    for (const target of layouts(new Float64Array(values.length)).slice(0, 4)) {
      target.data.fill(0);
      assign(target, source);
      for (let n = 0; n < 2; n++) {
        for (let c = 0; c < 3; c++) {
          for (let l = 0; l < 70; l++) {
            assert.equal(target.get(n, 0, c, l), source.get(n, 0, c, l));
            assert.equal(flat.data[(n * 3 + c) * 70 + l], source.get(n, 0, c, l));
          }
        }
      }
    }
  }
});
