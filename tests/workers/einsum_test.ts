import assert from "node:assert/strict";
import {
  contractPath,
  type DType,
  einsumSync,
  type NdArray,
  planShards,
  tensor,
} from "@einconv/runtime";
import { einsum, toShared } from "@einconv/workers";
// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import { mulberry32, randomFloatTensor, randomTensor, randomView } from "../_random.ts";
import { withWorkers } from "./_with_workers.ts";
import { dispatchObserver } from "../../workers/_test_hooks.ts";

/** Runs `call` and counts the shards of the calls the pool hands to workers meanwhile. */
async function countShards<T>(call: () => Promise<T>): Promise<[T, number]> {
  let count = 0;
  const before = dispatchObserver.observe;
  dispatchObserver.observe = (request) => count = request.split.boundaries.length - 1;
  try {
    return [await call(), count];
  } finally {
    dispatchObserver.observe = before;
  }
}

/** Large enough to shard (over 1e7 FLOPs), small enough to take milliseconds. */
const BATCHED = { equation: "bij,bjk->bik", shapes: [[4, 128, 128], [4, 128, 128]] };
// conv2d forward, 4 images, 8 → 16 channels, 24×24, kernel 3, padding 1, as einconv's
// tensor network: input, the two index patterns and the weight.
const CONV = {
  equation: "nchw,koh,lpw,dckl->ndop",
  shapes: [[4, 8, 24, 24], [3, 24, 24], [3, 24, 24], [16, 8, 3, 3]],
};

function indexPattern(size: number, dtype: DType): NdArray {
  const p = tensor(new Array(3 * size * size).fill(0), { shape: [3, size, size], dtype });
  for (let k = 0; k < 3; k++) {
    for (let o = 0; o < size; o++) {
      if (o + k - 1 >= 0 && o + k - 1 < size) p.set(k, o, o + k - 1, 1);
    }
  }
  return p;
}

function convOperands(rng: () => number, dtype: DType): NdArray[] {
  const [x, , , w] = CONV.shapes.map((shape) => randomFloatTensor(rng, shape, dtype));
  return [x, indexPattern(24, dtype), indexPattern(24, dtype), w];
}

/** Asserts that `einsum` ran on the pool and equals einsumSync bit for bit. */
async function assertPoolMatchesSync(equation: string, operands: NdArray[]): Promise<void> {
  const [result, shards] = await countShards(() => einsum(equation, ...operands));
  assert.ok(shards >= 2, "ran on the pool");
  assert.ok(result.data.buffer instanceof ArrayBuffer, "an ordinary array");
  const expected = einsumSync(equation, ...operands);
  assert.deepEqual(result.shape, expected.shape);
  assert.deepEqual(result.stride, expected.stride);
  assert.deepEqual(result.data, expected.data);
}

Deno.test("einsum() on 2 workers equals einsumSync bit for bit (float32, float64, mixed)", async () => {
  const rng = mulberry32(11);
  await withWorkers(2, async () => {
    assert.notEqual(planShards(contractPath(CONV.equation, ...CONV.shapes), 2), null);
    for (const dtype of ["float32", "float64"] as const) {
      await assertPoolMatchesSync(CONV.equation, convOperands(rng, dtype));
      const [a, b] = BATCHED.shapes.map((shape) => randomFloatTensor(rng, shape, dtype));
      await assertPoolMatchesSync(BATCHED.equation, [a, b]);
    }
    const [a, b] = BATCHED.shapes.map((shape, at) =>
      randomFloatTensor(rng, shape, at === 0 ? "float32" : "float64")
    );
    const mixed = await einsum(BATCHED.equation, a, b);
    assert.ok(mixed.data instanceof Float64Array);
    assert.deepEqual(mixed.data, einsumSync(BATCHED.equation, a, b).data);
  });
});

Deno.test("einsum() on the pool reads strided, offset and shared views unchanged", async () => {
  const rng = mulberry32(12);
  await withWorkers(2, async () => {
    for (let trial = 0; trial < 4; trial++) {
      const operands = BATCHED.shapes.map((shape) => randomView(rng, randomTensor(rng, shape)));
      const copies = operands.map((x) => Float64Array.from(x.data));
      await assertPoolMatchesSync(BATCHED.equation, operands);
      operands.forEach((x, at) => assert.deepEqual(Float64Array.from(x.data), copies[at]));
    }
    // Already shared: a view into the same memory, no copy, and still correct.
    const shared = convOperands(rng, "float32").map(toShared);
    await assertPoolMatchesSync(CONV.equation, shared);
    // A transposed output index order and an einops equation.
    const [a, b] = BATCHED.shapes.map((shape) => randomTensor(rng, shape, "float32"));
    await assertPoolMatchesSync("bij,bjk->kbi", [a, b]);
    await assertPoolMatchesSync("batch i j, batch j k -> batch i k", [a, b]);
  });
});

Deno.test("einsum() keeps small calls and count 0 on the calling thread", async () => {
  const a = tensor([[1, 2], [3, 4]]);
  await withWorkers(2, async () => {
    const [small, shards] = await countShards(() => einsum("ij,jk->ik", a, a));
    assert.equal(shards, 0);
    assert.deepEqual(Array.from(small.data), [7, 10, 15, 22]);
  });
  await withWorkers(0, async () => {
    const [x, y] = BATCHED.shapes.map((shape) => randomTensor(mulberry32(3), shape));
    const [big, shards] = await countShards(() => einsum(BATCHED.equation, x, y));
    assert.equal(shards, 0);
    assert.deepEqual(big.data, einsumSync(BATCHED.equation, x, y).data);
  });
});

Deno.test("einsum() rejects bad arguments with einsumSync's errors, large or small", async () => {
  const big = randomTensor(mulberry32(4), [256, 256]);
  const cases: [string, unknown[]][] = [
    ["ij,jk->ik", [big, randomTensor(mulberry32(5), [255, 256])]],
    ["ij,jk->iq", [big, big]],
    ["ij,jk->ik", [big]],
    ["ij,jk->ik", [big, [[1]]]],
    ["ij,jk->ik", [big, ndarray(new Int32Array(4), [2, 2])]],
    ["ij,jk->ik", [big, null]],
  ];
  await withWorkers(2, async () => {
    for (const [equation, operands] of cases) {
      let expected: Error | undefined;
      try {
        einsumSync(equation, ...operands as NdArray[]);
      } catch (error) {
        expected = error as Error;
      }
      assert.ok(expected !== undefined);
      await assert.rejects(einsum(equation, ...operands as NdArray[]), {
        name: expected.name,
        message: expected.message,
      });
    }
  });
});

Deno.test("einsum() answers 100 concurrent calls of mixed sizes, all correct", async () => {
  const rng = mulberry32(6);
  const problems = Array.from({ length: 100 }, (_, at) => {
    const n = [8, 40, 128][at % 3];
    const dtype: DType = at % 2 === 0 ? "float32" : "float64";
    const operands = [[4, n, n], [4, n, n]].map((shape) => randomTensor(rng, shape, dtype));
    return { equation: BATCHED.equation, operands };
  });
  await withWorkers(2, async () => {
    const results = await Promise.all(
      problems.map(({ equation, operands }) => einsum(equation, ...operands)),
    );
    results.forEach((result, at) => {
      const { equation, operands } = problems[at];
      assert.deepEqual(result.data, einsumSync(equation, ...operands).data, `call ${at}`);
    });
  });
});

Deno.test("einsum() results of the pool are their own memory, untouched by later calls", async () => {
  const rng = mulberry32(9);
  const [x, y, z] = [0, 1, 2].map(() => randomTensor(rng, BATCHED.shapes[0]));
  await withWorkers(2, async () => {
    const first = await einsum(BATCHED.equation, x, y);
    const copy = Float64Array.from(first.data);
    // Same size: the pool reuses the memory it computed `first` in.
    const second = await einsum(BATCHED.equation, y, z);
    assert.notEqual(first.data.buffer, second.data.buffer);
    assert.deepEqual(Float64Array.from(first.data), copy);
    assert.deepEqual(first.data, einsumSync(BATCHED.equation, x, y).data);
    assert.deepEqual(second.data, einsumSync(BATCHED.equation, y, z).data);
  });
});
