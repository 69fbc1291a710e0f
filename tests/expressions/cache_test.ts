// expressionCache: a second identical call does no symbolic work, keys tell calls apart,
// results share nothing mutable, the capacity can be lowered, failing calls add nothing.
import assert from "node:assert/strict";
import { assertAllClose, type DType, type NdArray, zeros } from "@einconv/runtime";
import {
  convForward,
  convKfc,
  convTransposeKfacReduce,
  convUnfold,
  evaluateSync,
  expressionCache,
} from "@einconv/expressions";
import { mulberry32, randomTensor } from "../_random.ts";

/** What every builder returns. */
type Expression = ReturnType<typeof convForward>;

/** A C-contiguous tensor whose entries are small multiples of 1/64, from a seed. */
function random(shape: number[], seed: number, dtype: DType = "float64"): NdArray {
  return randomTensor(mulberry32(seed), shape, dtype);
}

/** A tensor's buffer and layout, to check later that nothing changed. */
function snapshot(x: NdArray): unknown {
  return { data: Array.from(x.data), shape: [...x.shape], stride: [...x.stride], offset: x.offset };
}

/** Runs `body` with the cache empty and its counters at 0, then restores the capacity. */
function withEmptyCache(body: () => void): void {
  const capacity = expressionCache.capacity;
  expressionCache.clear();
  try {
    body();
  } finally {
    expressionCache.capacity = capacity;
    expressionCache.clear();
  }
}

/** Hits, misses and size in one object, for deepEqual. */
function counters(): { hits: number; misses: number; size: number } {
  const { hits, misses, size } = expressionCache;
  return { hits, misses, size };
}

const X = random([2, 4, 7, 6], 1);
const WEIGHT = random([6, 2, 3, 3], 2);

Deno.test("expressionCache: a second identical call does no symbolic work", () => {
  withEmptyCache(() => {
    assert.deepEqual(counters(), { hits: 0, misses: 0, size: 0 });
    const first = convForward(X, WEIGHT, { padding: 1, groups: 2 });
    assert.deepEqual(counters(), { hits: 0, misses: 1, size: 1 });
    const second = convForward(X, WEIGHT, { padding: 1, groups: 2 });
    assert.deepEqual(counters(), { hits: 1, misses: 1, size: 1 });
    assert.equal(second.equation, first.equation);
    assert.deepEqual(second.shape, first.shape);
    assert.deepEqual(
      second.operands.map((x) => x.shape),
      first.operands.map((x) => x.shape),
    );
    assertAllClose(evaluateSync(second), evaluateSync(first), { rtol: 0 });
  });
});

/** Calls that differ from the first one in one part of the key. */
const DIFFERENT_CALLS: { label: string; call(): Expression }[] = [
  { label: "stride", call: () => convForward(X, WEIGHT, { padding: 1, groups: 2, stride: 2 }) },
  { label: "padding", call: () => convForward(X, WEIGHT, { padding: 0, groups: 2 }) },
  { label: "dilation", call: () => convForward(X, WEIGHT, { padding: 1, groups: 2, dilation: 2 }) },
  {
    label: "groups",
    call: () => convForward(X, random([6, 4, 3, 3], 3), { padding: 1, groups: 1 }),
  },
  {
    label: "batch size",
    call: () => convForward(random([3, 4, 7, 6], 4), WEIGHT, { padding: 1, groups: 2 }),
  },
  {
    label: "input size",
    call: () => convForward(random([2, 4, 7, 7], 5), WEIGHT, { padding: 1, groups: 2 }),
  },
  {
    label: "kernel size",
    call: () => convForward(X, random([6, 2, 3, 2], 6), { padding: 1, groups: 2 }),
  },
  {
    label: "dtype",
    call: () =>
      convForward(random([2, 4, 7, 6], 1, "float32"), random([6, 2, 3, 3], 2, "float32"), {
        padding: 1,
        groups: 2,
      }),
  },
  {
    label: "simplify",
    call: () => convForward(X, WEIGHT, { padding: 1, groups: 2, simplify: false }),
  },
  { label: "operation", call: () => convKfc(X, 3, { padding: 1, groups: 2 }) },
];

Deno.test("expressionCache: another key is a miss", () => {
  withEmptyCache(() => {
    convForward(X, WEIGHT, { padding: 1, groups: 2 });
    for (const { label, call } of DIFFERENT_CALLS) {
      const before = counters();
      call();
      assert.deepEqual(
        counters(),
        { hits: before.hits, misses: before.misses + 1, size: before.size + 1 },
        `another ${label}`,
      );
    }
  });
});

Deno.test("expressionCache: a hit replays the recipe on the new call's data", () => {
  withEmptyCache(() => {
    const options = { stride: 3, simplify: true };
    // kernel 2, stride 3, input 9: down-sampling, so x is narrowed by the recipe
    const first = evaluateSync(convUnfold(random([2, 3, 9], 7), 2, options));
    const x = random([2, 3, 9], 8);
    // the same values as x, as a transposed view over another buffer
    const buffer = zeros([9, 3, 2]);
    const view = buffer.transpose(2, 1, 0);
    for (let b = 0; b < 2; b++) {
      for (let c = 0; c < 3; c++) for (let i = 0; i < 9; i++) view.set(b, c, i, x.get(b, c, i));
    }
    const expected = evaluateSync(convUnfold(x, 2, { ...options, simplify: false }));
    const hits = expressionCache.hits;
    const second = evaluateSync(convUnfold(x, 2, options));
    const third = evaluateSync(convUnfold(view, 2, options));
    assert.equal(expressionCache.hits, hits + 2, "hits");
    assertAllClose(second, expected);
    assertAllClose(third, expected);
    assert.ok(Math.abs(first.get(0, 0, 0) - second.get(0, 0, 0)) > 0, "first call's values");
  });
});

const T_X = random([2, 6, 4], 9);

/** Expressions whose operands include patterns, identities or a scale, and their inputs. */
const SHARING_CASES: { label: string; inputs: NdArray[]; build(simplify: boolean): Expression }[] =
  [
    {
      label: "convForward() with padding",
      inputs: [X, WEIGHT],
      build: (simplify) => convForward(X, WEIGHT, { padding: 1, groups: 2, simplify }),
    },
    {
      label: "convKfc() with stride 2",
      inputs: [X],
      build: (simplify) => convKfc(X, 2, { stride: 2, groups: 2, simplify }),
    },
    {
      label: "convTransposeKfacReduce() dense",
      inputs: [T_X],
      build: (simplify) => convTransposeKfacReduce(T_X, 2, { stride: 2, groups: 3, simplify }),
    },
  ];

for (const { label, inputs, build } of SHARING_CASES) {
  Deno.test(`expressionCache: results of ${label} share nothing mutable`, () => {
    withEmptyCache(() => {
      const before = inputs.map(snapshot);
      for (const simplify of [true, false]) {
        const first = build(simplify);
        const second = build(simplify);
        const expected = evaluateSync(second);
        const buffers = new Set(inputs.map((x) => x.data));
        const own = first.operands.filter((x) => !buffers.has(x.data));
        const shared = second.operands.filter((x) => own.some((y) => y.data === x.data));
        assert.equal(shared.length, 0, `simplify ${simplify}: operands share a buffer`);
        // write into every operand of the first result that is not a view of the inputs
        for (const operand of own) operand.data.fill(7);
        const third = build(simplify);
        assertAllClose(evaluateSync(second), expected, { message: `simplify ${simplify}` });
        assertAllClose(evaluateSync(third), expected, { message: `simplify ${simplify}` });
      }
      assert.deepEqual(inputs.map(snapshot), before, "inputs changed");
    });
  });
}

Deno.test("expressionCache: lowering the capacity shrinks the cache", () => {
  withEmptyCache(() => {
    for (const stride of [1, 2, 3, 4]) convUnfold(X, 2, { stride });
    assert.equal(expressionCache.size, 4);
    expressionCache.capacity = 2;
    assert.equal(expressionCache.capacity, 2);
    assert.equal(expressionCache.size, 2);
    // the most recent entries stay
    const hits = expressionCache.hits;
    convUnfold(X, 2, { stride: 4 });
    assert.equal(expressionCache.hits, hits + 1, "hits");
    expressionCache.capacity = 0;
    assert.equal(expressionCache.size, 0);
    const out = evaluateSync(convUnfold(X, 2, { stride: 2 }));
    assertAllClose(out, evaluateSync(convUnfold(X, 2, { stride: 2, simplify: false })));
    assert.equal(expressionCache.size, 0);
    assert.throws(() => {
      expressionCache.capacity = -1;
    }, { name: "RangeError", message: /capacity/ });
    assert.equal(expressionCache.capacity, 0);
  });
});

Deno.test("expressionCache: clear() empties the cache", () => {
  withEmptyCache(() => {
    convUnfold(X, 2);
    convUnfold(X, 3);
    assert.equal(expressionCache.size, 2);
    expressionCache.clear();
    assert.equal(expressionCache.size, 0);
    const misses = expressionCache.misses;
    convUnfold(X, 2);
    assert.equal(expressionCache.misses, misses + 1, "misses after clear()");
  });
});

Deno.test("expressionCache: a failing call adds no entry", () => {
  withEmptyCache(() => {
    convForward(X, WEIGHT, { padding: 1, groups: 2 });
    const size = expressionCache.size;
    // groups=3 divides neither 4 input channels nor the weight's 2 per group
    assert.throws(() => convForward(X, WEIGHT, { padding: 1, groups: 3 }), RangeError);
    assert.equal(expressionCache.size, size);
    assert.throws(() => convKfc(X, 3, { stride: 0 }), RangeError);
    assert.equal(expressionCache.size, size);
    // a failure after the symbolic part would have been built: kernel larger than input
    assert.throws(() => convUnfold(X, 9), RangeError);
    assert.equal(expressionCache.size, size);
  });
});

Deno.test("convForward() and evaluateSync() never change x or weight, cached or not", () => {
  withEmptyCache(() => {
    // a down-sampling case (narrowed x) and a dense case (reshaped x)
    const x = random([2, 3, 9, 8], 10);
    const strided = random([2, 3, 9, 16], 11).step(1, 1, 1, 2);
    const weight = random([4, 3, 2, 2], 12);
    for (const input of [x, strided]) {
      const before = [snapshot(input), snapshot(weight)];
      for (const simplify of [true, false, true]) {
        for (const stride of [[3, 2], 2]) {
          const expression = convForward(input, weight, { stride, simplify });
          evaluateSync(expression);
          evaluateSync(expression);
        }
      }
      assert.deepEqual([snapshot(input), snapshot(weight)], before);
    }
  });
});
