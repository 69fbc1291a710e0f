import assert from "node:assert/strict";
import { assertAllClose, type NdArray, tensor, toNested } from "@einconv/runtime";
import { type FixtureTensor, fromFixture, loadCases } from "../_fixtures.ts";
import { referenceEinsum } from "../_reference_einsum.ts";

interface EinsumCase {
  id: string;
  equation: string;
  operands: FixtureTensor[];
  expected: FixtureTensor;
}

const cases = loadCases<EinsumCase>("einsum");

/** Hand-checked cases: each varies one feature of the equation language. */
const handCases: { name: string; equation: string; operands: NdArray[]; expected: unknown }[] = [
  {
    name: "a matrix product",
    equation: "ij,jk->ik",
    operands: [tensor([[1, 2], [3, 4]]), tensor([[5, 6], [7, 8]])],
    expected: [[19, 22], [43, 50]],
  },
  // a repeated index summed away in an implicit output
  {
    name: "a trace",
    equation: "ii",
    operands: [tensor([[1, 2], [3, 4]])],
    expected: 5,
  },
  // a repeated index kept in the output
  {
    name: "a diagonal",
    equation: "ii->i",
    operands: [tensor([[1, 2], [3, 4]])],
    expected: [1, 4],
  },
  // implicit output sorts uppercase before lowercase
  {
    name: "an implicit transpose in char code order",
    equation: "aB",
    operands: [tensor([[1, 2, 3]])],
    expected: [[1], [2], [3]],
  },
  // size-1 dimension inside the ellipsis broadcasts against size 2
  {
    name: "a broadcasting ellipsis",
    equation: "...i,...i->...",
    operands: [tensor([[1, 2], [3, 4]]), tensor([[10, 100]])],
    expected: [210, 430],
  },
  // ellipsis dimensions come first in an implicit output
  {
    name: "an implicit output with the ellipsis first",
    equation: "i...",
    operands: [tensor([[1, 2, 3], [4, 5, 6]])],
    expected: [[1, 4], [2, 5], [3, 6]],
  },
  // 0-d operand scales, size-0 dimension gives an empty result
  {
    name: "with 0-d and size-0 operands",
    equation: ",ij->ji",
    operands: [tensor(2), tensor(new Float64Array(0), { shape: [0, 2] })],
    expected: [[], []],
  },
  // einops style: names of several letters
  {
    name: "with einops names",
    equation: "batch c_in, c_out c_in -> batch c_out",
    operands: [tensor([[1, 2]]), tensor([[1, 0], [0, 1], [1, 1]])],
    expected: [[1, 2, 3]],
  },
];

Deno.test("referenceEinsum() reproduces the numpy fixtures", () => {
  assert.equal(cases.length, 52);
  for (const { id, equation, operands, expected } of cases) {
    const actual = referenceEinsum(equation, ...operands.map((t) => fromFixture(t, "float64")));
    assertAllClose(actual, expected, { rtol: 1e-12, message: `${id} ${equation}` });
  }
});

for (const { name, equation, operands, expected } of handCases) {
  Deno.test(`referenceEinsum() computes ${name}: ${equation}`, () => {
    assert.deepEqual(toNested(referenceEinsum(equation, ...operands)), expected);
  });
}

Deno.test("referenceEinsum() returns a new C-contiguous float64 tensor", () => {
  const a = tensor(new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
  const result = referenceEinsum("ij->ji", a);
  assert.ok(result.data instanceof Float64Array);
  assert.deepEqual(result.stride, [2, 1]);
  assert.equal(result.offset, 0);
  assert.deepEqual(Array.from(a.data), [1, 2, 3, 4, 5, 6]);
});

Deno.test("referenceEinsum() reads strided views", () => {
  const base = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
  const view = base.transpose(1, 0).step(-1, 2).lo(1, 0);
  assert.deepEqual(toNested(view), [[2, 8], [1, 7]]);
  assert.deepEqual(toNested(referenceEinsum("ij,jk->ik", view, view)), [[12, 72], [9, 57]]);
});

Deno.test("referenceEinsum() rejects mismatched sizes and unknown output indices", () => {
  const a = tensor([[1, 2, 3]]);
  assert.throws(() => referenceEinsum("ij,ij->", a, tensor([[1, 2]])), {
    name: "RangeError",
    message: 'Cannot read operand 1: index "j" has size 2, elsewhere 3',
  });
  assert.throws(() => referenceEinsum("ij->k", a), {
    name: "RangeError",
    message: 'Cannot read equation: output index "k" is not in any input of "ij->k"',
  });
  assert.throws(() => referenceEinsum("ijk", a), {
    name: "RangeError",
    message: 'Cannot read operand 0: term "ijk" does not fit its shape [1,3]',
  });
});
