import assert from "node:assert/strict";
import {
  assertAllClose,
  contractPath,
  einsumSync,
  executePlan,
  tensor,
  zeros,
} from "@einconv/runtime";
import { mulberry32, randomFloatTensor, randomTensor, randomView } from "../_random.ts";
import { referenceEinsum } from "../_reference_einsum.ts";
import { shardedRun } from "../_shards.ts";

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

Deno.test("einsumSync() loops GEMMs over indices that do not share a stride with their side", () => {
  const rng = mulberry32(33);
  // A 1×1 convolution: n lies beside the pixels (b c) of x, which fall into one stride.
  const x = randomTensor(rng, [3, 16, 6, 7]);
  const w = randomTensor(rng, [5, 16]);
  for (const equation of ["nabc,da->ndbc", "nabc,da->nbcd", "nabc,da->dnbc", "nabc,da->bcnd"]) {
    assertAllClose(einsumSync(equation, x, w), referenceEinsum(equation, x, w), {
      message: equation,
    });
  }
  // Loop indices on both sides, a broadcast batch and sliced views; and groups too small
  // to loop over (6·7 < 32 columns after slicing), which are copied instead.
  const y = randomTensor(rng, [4, 9, 5, 8]).hi(3, 9, 5, 8);
  const z = randomTensor(rng, [9, 3, 50]).hi(9, 3, 40);
  for (
    const [equation, a, b] of [
      ["nkbc,kmq->nbcmq", y, z],
      ["nkbc,kmq->mqnbc", y, z],
      ["nkbc,kmq->bnmcq", y, z],
    ] as const
  ) {
    assertAllClose(einsumSync(equation, a, b), referenceEinsum(equation, a, b), {
      message: equation,
    });
  }
  const small = randomTensor(rng, [3, 16, 2, 3]);
  assertAllClose(einsumSync("nabc,da->ndbc", small, w), referenceEinsum("nabc,da->ndbc", small, w));
});

Deno.test("einsumSync() gives zeros for an empty contraction and empty results", () => {
  const empty = tensor(new Float64Array(0), { shape: [2, 0] });
  const other = tensor(new Float64Array(0), { shape: [0, 3] });
  const sum = einsumSync("ij,jk->ik", empty, other);
  assert.deepEqual(sum.shape, [2, 3]);
  assert.deepEqual(Array.from(sum.data), [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(einsumSync("ij->ji", empty).shape, [0, 2]);
});

Deno.test("executePlan() shards along any output index and matches bit for bit", () => {
  const rng = mulberry32(33);
  const cases: [string, number[][]][] = [
    ["nci,koi,dck->ndo", [[5, 6, 40], [3, 38, 40], [7, 6, 3]]],
    ["bij,bjk->bik", [[4, 30, 300], [4, 300, 20]]],
    ["ij,jk->ik", [[2, 300], [300, 1]]],
    ["ab,bc,cd->da", [[9, 8], [8, 7], [7, 6]]],
  ];
  for (const [equation, shapes] of cases) {
    for (const dtype of ["float32", "float64"] as const) {
      const operands = shapes.map((shape) => randomFloatTensor(rng, shape, dtype));
      const plan = contractPath(equation, ...operands);
      const whole = executePlan(plan, operands);
      for (const [d, index] of plan.parsed.output.entries()) {
        const size = whole.shape[d];
        const out = shardedRun(plan, operands, index, [0, Math.floor(size / 3), size], dtype);
        assert.deepEqual(out.data, whole.data, `${equation} ${dtype} split on ${index}`);
      }
    }
  }
});

Deno.test("executePlan() rejects a shard outside the output and an out of the wrong shape", () => {
  const a = tensor([[1, 2], [3, 4]]);
  const plan = contractPath("ij,jk->ik", a, a);
  assert.throws(() => executePlan(plan, [a, a], { shard: { index: "j", start: 0, end: 1 } }), {
    name: "RangeError",
    message: /^Cannot read shard: expected an output index of "ij,jk->ik"/,
  });
  assert.throws(() => executePlan(plan, [a, a], { out: zeros([2, 3]) }), {
    name: "RangeError",
    message: "Cannot read out: expected shape [2,2], got [2,3]",
  });
});
