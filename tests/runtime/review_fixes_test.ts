// Cases found in review: each failed (wrong numbers, a crash or a silent violation)
// before its fix.
import assert from "node:assert/strict";
// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import {
  contractPath,
  einsumSync,
  executePlan,
  registerIndexPattern,
  tensor,
  virtualIndexPattern,
  zeros,
} from "@einconv/runtime";

Deno.test("executePlan() rejects operands that do not fit the plan", () => {
  const plan = contractPath("ij,jk->ik", [2, 3], [3, 2]);
  assert.throws(() => executePlan(plan, [zeros([2, 3]), zeros([3, 5])]), {
    name: "RangeError",
    message: "Cannot read operand 1: the plan is for shape [3,2], got [3,5]",
  });
  assert.throws(() => executePlan(plan, [zeros([2, 3])]), {
    name: "RangeError",
    message: /takes 2 operands, got 1/,
  });
  assert.throws(
    () =>
      executePlan(plan, [zeros([2, 3]), zeros([3, 2])], {
        shard: { index: "i", start: 0.5, end: 2 },
      }),
    { name: "RangeError", message: /Cannot read shard/ },
  );
});

Deno.test("contractPath() keeps memoryLimit with every planner, or says it cannot", () => {
  const shapes = [[26, 7], [7, 3], [3, 6]];
  for (const optimize of ["auto", "optimal", "greedy"] as const) {
    const plan = contractPath("ij,jk,kl->il", ...shapes, { optimize, memoryLimit: 77 });
    assert.ok(plan.steps[0].result.length === 2, optimize);
    assert.ok(plan.largestIntermediate <= 26 * 6, optimize);
    const first = plan.steps[0].result.map((name) => plan.sizes.get(name)!);
    assert.ok(first[0] * first[1] <= 77, `${optimize}: first intermediate [${first}]`);
  }
  assert.throws(
    () =>
      contractPath("ab,bc,ca->", [5, 7], [7, 29], [29, 5], { optimize: "greedy", memoryLimit: 34 }),
    { name: "RangeError", message: /memoryLimit=34/ },
  );
  assert.throws(
    () => contractPath("ij,jk", [2, 2], [2, 2], { memoryLimit: "10" as unknown as number }),
    {
      name: "RangeError",
      message: /memoryLimit/,
    },
  );
  assert.throws(
    () => contractPath("ij,jk", [2, 2], [2, 2], { patterns: true as unknown as false }),
    {
      name: "TypeError",
      message: /Cannot read patterns: expected an array/,
    },
  );
});

const LONG = {
  inputSize: 200_000,
  kernelSize: 3,
  outputSize: 199_998,
  stride: 1,
  paddingLeft: 0,
  paddingRight: 0,
  dilation: 1,
};

Deno.test("a virtual pattern of another dtype is not converted into numbers", () => {
  const x = zeros([1, 200_000], "float64");
  x.data[5] = 1;
  const columns = einsumSync("ni,koi->nko", x, virtualIndexPattern(LONG, "float32"));
  assert.deepEqual(columns.shape, [1, 3, 199_998]);
  assert.deepEqual([columns.get(0, 0, 5), columns.get(0, 1, 4), columns.get(0, 2, 3)], [1, 1, 1]);
});

Deno.test("an implicit GEMM with nothing to sum writes zeros into out", () => {
  const p = { ...LONG, inputSize: 4, outputSize: 2 };
  const x = zeros([2, 0, 4]);
  const w = zeros([3, 0, 3]);
  const pattern = virtualIndexPattern(p, "float64");
  const plan = contractPath("nci,koi,dck->ndo", x, pattern, w);
  assert.notEqual(plan.implicitGemm, null);
  const out = tensor(new Float64Array(12).fill(7), { shape: [2, 3, 2] });
  executePlan(plan, [x, pattern, w], { out });
  assert.deepEqual(Array.from(out.data), new Array(12).fill(0));
});

Deno.test("registerIndexPattern() checks the hyperparameters", () => {
  assert.throws(() => virtualIndexPattern({ ...LONG, stride: 1.5 }, "float64"), {
    name: "RangeError",
    message: "Cannot read hyperparameters.stride: expected an integer of at least 1, got 1.5",
  });
  assert.throws(() => registerIndexPattern(zeros([1, 1, 1]), { ...LONG, paddingLeft: -1 }), {
    name: "RangeError",
    message: /hyperparameters\.paddingLeft/,
  });
});

Deno.test("executePlan() writes into an out that shares memory with an operand only at the end", () => {
  const a = tensor([[1, 2], [3, 4]]);
  const b = tensor([[1, 1], [1, 1]]);
  executePlan(contractPath("ij,jk->ik", a, b), [a, b], { out: a });
  assert.deepEqual(Array.from(a.data), [3, 3, 7, 7]);
  // A 'same' convolution (an implicit GEMM) whose result overwrites its own input.
  const p = { ...LONG, inputSize: 6, outputSize: 6, paddingLeft: 1, paddingRight: 1 };
  const x = tensor(Float64Array.from({ length: 12 }, (_, i) => i - 4), { shape: [1, 2, 6] });
  const w = tensor(Float64Array.from({ length: 12 }, (_, i) => (i % 5) - 2), { shape: [2, 2, 3] });
  const pattern = virtualIndexPattern(p, "float64");
  const plan = contractPath("nci,koi,dck->ndo", x, pattern, w);
  assert.notEqual(plan.implicitGemm, null);
  const expected = Array.from(executePlan(plan, [x, pattern, w]).data);
  executePlan(plan, [x, pattern, w], { out: x });
  assert.deepEqual(Array.from(x.data), expected);
});

Deno.test("einsumSync() copies an operand passed through into an out that overlaps it as it was", () => {
  // out is the operand shifted by two elements: a copy row by row, or element by element,
  // would read entries it has already overwritten.
  for (const length of [8, 100]) {
    const buffer = Float64Array.from({ length: length + 2 }, (_, i) => i);
    const a = ndarray(buffer.subarray(0, length), [length]);
    const out = ndarray(buffer.subarray(2, length + 2), [length]);
    einsumSync("i->i", a, { out });
    assert.deepEqual(Array.from(buffer), [0, 1, ...Array.from({ length }, (_, i) => i)]);
    const square = Float64Array.from({ length: 18 }, (_, i) => i);
    einsumSync("ij->ij", ndarray(square, [4, 4]), { out: ndarray(square.subarray(2), [4, 4]) });
    assert.deepEqual(Array.from(square), [0, 1, ...Array.from({ length: 16 }, (_, i) => i)]);
  }
});
