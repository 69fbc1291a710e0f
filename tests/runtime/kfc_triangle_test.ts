// The upper triangle of a KFC of one tensor with itself: which plans qualify, shards of
// even work, and shards that compute only their rows' entries on and above the diagonal,
// which mirrored equal the whole factor bit for bit (and the reference within rounding).
import assert from "node:assert/strict";
import {
  assertAllClose,
  contractPath,
  executePlan,
  kfcTriangle,
  mirrorUpperTriangle,
  tensor,
  triangleShards,
} from "@einconv/runtime";
import { convForward, convKfc } from "@einconv/expressions";
import { mulberry32, randomFloatTensor } from "../_random.ts";
import { shardedRun } from "../_shards.ts";
import { referenceKfc } from "../_reference_conv.ts";

/** [input shape, kernel size, options, dtype] of KFCs in 1–3 dimensions. */
const CASES: [number[], number[], Record<string, unknown>, "float32" | "float64"][] = [
  [[3, 5, 9, 9], [3, 3], { padding: 1 }, "float32"],
  [[2, 6, 11], [5], { padding: 2, stride: 2 }, "float64"],
  [[2, 4, 7, 7], [3, 3], { padding: 1, groups: 2 }, "float32"],
  [[2, 3, 5, 4, 6], [2, 3, 2], { padding: [1, 0, 1], dilation: [1, 1, 2] }, "float64"],
];

for (const [shape, kernel, options, dtype] of CASES) {
  Deno.test(`upper-triangle shards mirrored equal the whole KFC bit for bit (${shape}, k ${kernel}, ${dtype})`, () => {
    const x = randomFloatTensor(mulberry32(shape.length * 7 + kernel[0]), shape, dtype);
    const { equation, operands } = convKfc(x, kernel, options);
    const plan = contractPath(equation, ...operands);
    const whole = executePlan(plan, operands);
    const groups = (options.groups as number | undefined) ?? 1;
    const reference = referenceKfc(x, kernel, options);
    assertAllClose(whole, tensor(reference.data, { shape: whole.shape, dtype }), {
      rtol: dtype === "float32" ? 1e-5 : 1e-12,
    });
    const triangle = kfcTriangle(plan, operands);
    if (triangle === null) throw new Error("no KFC of one tensor found");
    assert.equal(triangle.batches, groups);
    assert.equal(triangle.size * triangle.size * groups, whole.size);
    for (const count of [1, 2, 3, 5]) {
      const { boundaries, index } = triangleShards(triangle, count);
      const out = shardedRun(plan, operands, index, boundaries, dtype, {
        upperTriangle: true,
        fill: 7.5,
      });
      // Only entries on and above each factor's diagonal were written.
      const size: number = triangle.size;
      for (let b = 0; b < groups; b++) {
        for (let i = 0; i < size; i++) {
          for (let j = 0; j < size; j++) {
            const value: number = out.data[(b * size + i) * size + j];
            if (j < i) {
              // Left as in `out`, or zeros where the shard was computed aside.
              assert.ok(value === 7.5 || value === 0, `entry (${i}, ${j}) below the diagonal`);
            } else assert.ok(Object.is(value, whole.data[(b * size + i) * size + j]));
          }
        }
      }
      mirrorUpperTriangle(out.data, triangle);
      assert.deepEqual(out.data, whole.data, `${count} shards at ${boundaries}`);
    }
  });
}

Deno.test("kfcTriangle() finds only a KFC of one tensor with itself in the factor's order", () => {
  const rng = mulberry32(5);
  const x = randomFloatTensor(rng, [2, 3, 6, 6], "float32");
  const { equation, operands } = convKfc(x, [3, 3], { padding: 1 });
  const plan = contractPath(equation, ...operands);
  assert.deepEqual(kfcTriangle(plan, operands), {
    index: plan.parsed.output[0],
    rowsPerEntry: 9,
    size: 27,
    batches: 1,
  });
  // The same numbers in another array: not the same tensor.
  const second = plan.implicitKfc!.data[1];
  const other = [...operands];
  other[second] = tensor(operands[second].data.slice(), {
    shape: operands[second].shape,
    dtype: "float32",
  });
  assert.equal(kfcTriangle(plan, other), null);
  // The factor's columns before its rows: not its order.
  const [inputs, output] = equation.split("->");
  const n = output.length / 2;
  const swapped = contractPath(`${inputs}->${output.slice(n)}${output.slice(0, n)}`, ...operands);
  assert.equal(kfcTriangle(swapped, operands), null);
  // A convolution is no KFC.
  const w = randomFloatTensor(rng, [4, 3, 3, 3], "float32");
  const conv = convForward(x, w, { padding: 1 });
  assert.equal(kfcTriangle(contractPath(conv.equation, ...conv.operands), conv.operands), null);
});

Deno.test("triangleShards() splits a factor's rows into bands of even work", () => {
  const triangle = { index: "c", rowsPerEntry: 9, size: 576, batches: 1 };
  const work = (from: number, to: number) => {
    let sum = 0;
    for (let row = from * 9; row < to * 9; row++) sum += 576 - row;
    return sum;
  };
  for (const count of [2, 3, 4, 8]) {
    const { boundaries, shardFlops, index } = triangleShards(triangle, count);
    assert.equal(index, "c");
    assert.equal(boundaries.length, count + 1);
    assert.deepEqual([boundaries[0], boundaries[count]], [0, 64]);
    const shares = boundaries.slice(1).map((end, s) => work(boundaries[s], end));
    assert.equal(Math.max(...shares), shardFlops);
    // Whole channels of 9 rows: each band within one channel's work of an even share.
    const even = work(0, 64) / count;
    for (const share of shares) assert.ok(Math.abs(share - even) <= 9 * 576, `${boundaries}`);
  }
  assert.deepEqual(triangleShards({ ...triangle, size: 27 }, 5).boundaries, [0, 1, 2, 3]);
  assert.throws(
    () => triangleShards(triangle, 0),
    (error: Error) => error instanceof RangeError && /count/.test(error.message),
  );
});

Deno.test("executePlan() rejects upperTriangle for other plans and other shards", () => {
  const rng = mulberry32(9);
  const x = randomFloatTensor(rng, [2, 3, 6, 6], "float32");
  const w = randomFloatTensor(rng, [4, 3, 3, 3], "float32");
  const conv = convForward(x, w, { padding: 1 });
  assert.throws(
    () =>
      executePlan(contractPath(conv.equation, ...conv.operands), conv.operands, {
        upperTriangle: true,
      }),
    (error: Error) => error instanceof RangeError && /upperTriangle/.test(error.message),
  );
  const { equation, operands } = convKfc(x, [3, 3], { padding: 1 });
  const plan = contractPath(equation, ...operands);
  const index = plan.parsed.output.at(-1)!;
  assert.throws(
    () => executePlan(plan, operands, { shard: { index, start: 0, end: 1 }, upperTriangle: true }),
    (error: Error) =>
      error instanceof RangeError && /upperTriangle.*sharded along/.test(error.message),
  );
});
