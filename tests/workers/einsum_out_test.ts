// Results written into a caller's array: `{ out }` after einsum's operands, `evaluate`'s
// options and the convolution functionals' options. The numbers must be those of a new
// result; out is returned; any strides and float types work; bad `out` is rejected
// before anything is written, and a failed sharded call leaves `out` as it was.
import assert from "node:assert/strict";
// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import { einsumSync, type NdArray, tensor, zeros } from "@einconv/runtime";
import { einsum } from "@einconv/workers";
import { convForward, evaluate, evaluateSync } from "@einconv/expressions";
import {
  convNd,
  convNdInputVjp,
  convNdWeightVjp,
  convTransposeNd,
  kfacReduce,
  kfc,
  transposeKfacReduce,
  unfoldNd,
  unfoldTransposeNd,
} from "@einconv/nn";
import { pendingFaults } from "../../workers/_test_hooks.ts";
import { mulberry32, randomFloatTensor, randomTensor } from "../_random.ts";
import { withWorkers } from "./_with_workers.ts";

/** A view of shape `shape` whose entries are every other element of a larger array,
 * in reversed order along the last dimension, filled with `fill`. */
function stridedOut(shape: number[], dtype: "float32" | "float64", fill = 7): NdArray {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = dtype === "float32"
    ? new Float32Array(2 * size + 3)
    : new Float64Array(2 * size + 3);
  data.fill(fill);
  const stride = shape.map((_, d) => 2 * shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const last = shape.length - 1;
  const offset = 3 + (shape[last] - 1) * stride[last];
  stride[last] = -stride[last];
  return ndarray(data, shape, stride, offset);
}

/** Entries of an ndarray in row-major order. */
function entries(x: NdArray): number[] {
  const values: number[] = [];
  const index = new Array<number>(x.shape.length).fill(0);
  const size = x.shape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < size; i++) {
    values.push(x.get(...index));
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < x.shape[d]) break;
      index[d] = 0;
    }
  }
  return values;
}

const rng = mulberry32(8);
// 1.7e7 FLOPs: sharded over two workers.
const A = randomTensor(rng, [4, 128, 128], "float32");
const B = randomTensor(rng, [4, 128, 128], "float32");
const EQUATION = "bij,bjk->bik";
const expected = einsumSync(EQUATION, A, B);

Deno.test("einsumSync() writes into out of any strides and float type, and returns it", () => {
  const a = randomTensor(rng, [3, 4], "float32");
  const b = randomTensor(rng, [4, 5], "float32");
  const want = einsumSync("ij,jk->ik", a, b);
  for (const out of [zeros([3, 5], "float32"), stridedOut([3, 5], "float32"), zeros([3, 5])]) {
    const before = Array.from(a.data);
    assert.equal(einsumSync("ij,jk->ik", a, b, { out }), out);
    assert.deepEqual(entries(out), entries(want));
    assert.deepEqual(Array.from(a.data), before);
  }
  // Stride -2 leaves every other element (and the 3 before) untouched.
  const strided = stridedOut([3, 5], "float64", 7);
  einsumSync("ij,jk->ik", a, b, { out: strided });
  assert.ok(Array.from(strided.data).filter((v) => v === 7).length >= 15 + 3);
});

Deno.test("einsumSync() into an operand computes from the operand as it was", () => {
  const a = randomTensor(rng, [4, 4], "float64");
  const b = randomTensor(rng, [4, 4], "float64");
  const want = einsumSync("ij,jk->ik", a, b);
  assert.deepEqual(einsumSync("ij,jk->ik", a, b, { out: a }).data, want.data);
});

Deno.test("einsum and einsumSync reject a bad out before writing anything", async () => {
  const a = tensor([[1, 2], [3, 4]]);
  const out = zeros([3, 2]);
  for (const run of [einsumSync, einsum]) {
    await assert.rejects(async () => await run("ij->ij", a, { out }), {
      name: "RangeError",
      message: "Cannot read out: expected shape [2,2], got [3,2]",
    });
    await assert.rejects(
      async () => await run("ij->ij", a, { out: [[0, 0], [0, 0]] as unknown as NdArray }),
      { name: "TypeError", message: /^Cannot read out: / },
    );
    await assert.rejects(
      async () => await run("ij->ij", a, { into: out } as unknown as { out: NdArray }),
      {
        name: "TypeError",
        message:
          'Cannot read einsum options (the last argument, an object that is not an ndarray): unknown option "into" (expected out)',
      },
    );
  }
  assert.deepEqual(Array.from(out.data), [0, 0, 0, 0, 0, 0]);
});

Deno.test("einsum() on workers writes into out, bit for bit the new result", async () => {
  await withWorkers(2, async () => {
    for (const out of [zeros([4, 128, 128], "float32"), stridedOut([4, 128, 128], "float32")]) {
      assert.equal(await einsum(EQUATION, A, B, { out }), out);
      assert.deepEqual(entries(out), entries(expected));
    }
    const wide = zeros([4, 128, 128]);
    await einsum(EQUATION, A, B, { out: wide });
    assert.deepEqual(Array.from(wide.data), Array.from(expected.data));
  });
});

Deno.test("a sharded einsum() that fails leaves out as it was", async () => {
  await withWorkers(2, async () => {
    const out = zeros([4, 128, 128], "float32").step(1, 1, 1);
    out.data.fill(5);
    pendingFaults.push({ shard: 1, fault: "throw" });
    await assert.rejects(einsum(EQUATION, A, B, { out }), { name: "Error" });
    assert.ok(out.data.every((v) => v === 5));
    await einsum(EQUATION, A, B, { out });
    assert.deepEqual(Array.from(out.data), Array.from(expected.data));
  });
});

Deno.test("evaluate() and evaluateSync() write a grouped convolution into out of any strides", async () => {
  const x = randomTensor(rng, [2, 4, 6, 5], "float64");
  const w = randomTensor(rng, [6, 2, 3, 2], "float64");
  const expression = convForward(x, w, { groups: 2, padding: 1 });
  const want = evaluateSync(expression);
  assert.deepEqual(want.shape, [2, 6, 6, 6]);
  const outs = [
    zeros([2, 6, 6, 6]),
    zeros([3, 2, 6, 6, 6]).pick(1, null, null, null, null), // contiguous, offset 432
    stridedOut([2, 6, 6, 6], "float64"),
    zeros([2, 6, 6, 6], "float32"),
  ];
  for (const out of outs) {
    assert.equal(evaluateSync(expression, { out }), out);
    assert.deepEqual(entries(out), entries(want).map((v) => dtypeRound(out, v)));
    out.data.fill(0);
    assert.equal(await evaluate(expression, { out }), out);
    assert.deepEqual(entries(out), entries(want).map((v) => dtypeRound(out, v)));
  }
  assert.throws(() => evaluateSync(expression, { out: zeros([2, 6, 36]) }), {
    name: "RangeError",
    message: "Cannot read out: expected shape [2,6,6,6], got [2,6,36]",
  });
});

function dtypeRound(out: NdArray, value: number): number {
  return out.data instanceof Float32Array ? Math.fround(value) : value;
}

Deno.test("convNd() with a bias and its gradients write into out on workers and on the calling thread", async () => {
  const x = randomTensor(rng, [2, 8, 20, 20], "float32");
  const w = randomTensor(rng, [8, 4, 3, 3], "float32");
  const bias = randomTensor(rng, [8], "float32");
  const v = randomTensor(rng, [2, 8, 10, 10], "float32");
  const options = { groups: 2, stride: 2, padding: 1 };
  for (const count of [0, 2]) {
    await withWorkers(count, async () => {
      const y = await convNd(x, w, bias, options);
      const dx = await convNdInputVjp(w, v, [20, 20], options);
      const dw = await convNdWeightVjp(x, v, [3, 3], options);
      const yOut = stridedOut([2, 8, 10, 10], "float32");
      assert.equal(await convNd(x, w, bias, { ...options, out: yOut }), yOut);
      assert.deepEqual(entries(yOut), entries(y));
      const dxOut = zeros([2, 8, 20, 20], "float32");
      assert.equal(await convNdInputVjp(w, v, [20, 20], { ...options, out: dxOut }), dxOut);
      assert.deepEqual(dxOut.data, dx.data);
      const dwOut = stridedOut([8, 4, 3, 3], "float32");
      assert.equal(await convNdWeightVjp(x, v, [3, 3], { ...options, out: dwOut }), dwOut);
      assert.deepEqual(entries(dwOut), entries(dw));
    });
  }
});

Deno.test("every functional writes into out what it would return", async () => {
  const x = randomTensor(rng, [2, 4, 7, 6], "float64");
  const w = randomTensor(rng, [4, 3, 3, 2], "float64");
  const bias = randomTensor(rng, [6], "float64");
  const calls: [string, (out?: NdArray) => Promise<NdArray>][] = [
    ["convTransposeNd", (out) => convTransposeNd(x, w, bias, { groups: 2, stride: 2, out })],
    ["unfoldNd", (out) => unfoldNd(x, [3, 2], { padding: 1, out })],
    ["unfoldTransposeNd", (out) => unfoldTransposeNd(x, [3, 2], { stride: 2, out })],
    ["kfc", (out) => kfc(x, [3, 2], { groups: 2, out })],
    ["kfacReduce", (out) => kfacReduce(x, [3, 2], { groups: 2, out })],
    ["transposeKfacReduce", (out) => transposeKfacReduce(x, [3, 2], { stride: 2, out })],
  ];
  for (const [name, call] of calls) {
    const want = await call();
    const out = stridedOut([...want.shape], "float64");
    assert.equal(await call(out), out, name);
    assert.deepEqual(entries(out), entries(want), name);
    await assert.rejects(call(zeros([want.size + 1])), { name: "RangeError" }, name);
  }
});

Deno.test("a bias is added before converting to out's float type, as without out", async () => {
  for (const [from, to] of [["float32", "float64"], ["float64", "float32"]] as const) {
    const x = randomFloatTensor(rng, [1, 2, 6, 6], from);
    const w = randomFloatTensor(rng, [3, 2, 3, 3], from);
    const bias = randomFloatTensor(rng, [3], from);
    const calls: [string, (out?: NdArray) => Promise<NdArray>][] = [
      ["convNd", (out) => convNd(x, w, bias, { padding: 1, out })],
      ["convTransposeNd", (out) => convTransposeNd(x, w.hi(2, 3, 3, 3), bias.hi(3), { out })],
    ];
    for (const [name, call] of calls) {
      const want = await call();
      const out = zeros([...want.shape], to);
      await call(out);
      const converted = to === "float32"
        ? Array.from(want.data, Math.fround)
        : Array.from(want.data);
      assert.deepEqual(Array.from(out.data), converted, `${name}, ${from} into ${to}`);
    }
  }
});

Deno.test("an out that reaches past its data or repeats elements is rejected before writing", async () => {
  const a = tensor([[1, 2, 3], [4, 5, 6]]);
  const short = ndarray(new Float64Array(4), [2, 3]);
  const below = ndarray(new Float64Array(6), [2, 3], [3, -1], 1);
  const repeated = ndarray(new Float64Array(3), [2, 3], [0, 1], 0);
  for (const run of [einsumSync, einsum]) {
    await assert.rejects(async () => await run("ij->ij", a, { out: short }), {
      name: "RangeError",
      message: "Cannot read out: the view reaches elements 0 to 5 of a data array of length 4",
    });
    await assert.rejects(async () => await run("ij->ij", a, { out: below }), {
      name: "RangeError",
      message: "Cannot read out: the view reaches elements -1 to 4 of a data array of length 6",
    });
    await assert.rejects(async () => await run("ij->ij", a, { out: repeated }), {
      name: "RangeError",
      message:
        "Cannot read out: dimension 0 has stride 0, so its 2 entries would share one element",
    });
  }
  assert.deepEqual(Array.from(short.data), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(below.data), [0, 0, 0, 0, 0, 0]);
  await assert.rejects(
    convNd(tensor([[[1, 2, 3]]]), tensor([[[1]]]), null, {
      out: ndarray(new Float64Array(2), [1, 1, 3]),
    }),
    { name: "RangeError", message: /^Cannot read out: the view reaches/ },
  );
});

Deno.test("evaluate() and evaluateSync() reject options they do not know", async () => {
  const expression = convForward(tensor([[[1, 2, 3]]]), tensor([[[1, 1]]]));
  const typo = { output: zeros([1, 1, 2]) } as unknown as { out: NdArray };
  assert.throws(() => evaluateSync(expression, typo), {
    name: "TypeError",
    message: 'Cannot read options: unknown option "output" (expected out)',
  });
  await assert.rejects(evaluate(expression, typo), { name: "TypeError" });
  assert.throws(() => evaluateSync(expression, 3 as unknown as { out: NdArray }), {
    name: "TypeError",
    message: "Cannot read options: expected an object, got 3",
  });
});
