import assert from "node:assert/strict";
import { contractPath, einsumSync, executePlan, type NdArray, zeros } from "@einconv/runtime";
import { indexPattern } from "@einconv/expressions";
import { mulberry32, randomFloatTensor, randomView } from "../_random.ts";
import { shardedRun } from "../_shards.ts";

/** The letters of an unfold of `n` spatial dimensions: data `b c i…`, patterns `k o i`,
 * result `b c k… o…`. */
function unfoldEquation(n: number): string {
  const [k, o, i] = ["klm", "opq", "xyz"].map((letters) => letters.slice(0, n).split(""));
  const patterns = k.map((_, d) => k[d] + o[d] + i[d]);
  return `bc${i.join("")},${patterns.join(",")}->bc${k.join("")}${o.join("")}`;
}

/** U[b, c, k…, o…] = x[b, c, i(k, o)…] (0 outside), element by element. */
function directUnfold(x: NdArray, patterns: readonly NdArray[]): NdArray {
  const [batch, channels, ...inputs] = x.shape;
  const taps = patterns.map((p) => p.shape[0]);
  const outputs = patterns.map((p) => p.shape[1]);
  const result = zeros(
    [batch, channels, ...taps, ...outputs],
    x.data instanceof Float32Array ? "float32" : "float64",
  );
  const n = inputs.length;
  const tapIndex = new Array<number>(n).fill(0);
  const outIndex = new Array<number>(n).fill(0);
  const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const unravel = (flat: number, shape: number[], into: number[]) => {
    for (let d = shape.length - 1; d >= 0; d--) {
      into[d] = flat % shape[d];
      flat = Math.floor(flat / shape[d]);
    }
  };
  // Each pattern's input for every (tap, output), or -1.
  const inputOf = patterns.map((p, d) => {
    const table = new Int32Array(taps[d] * outputs[d]).fill(-1);
    for (let k = 0; k < taps[d]; k++) {
      for (let o = 0; o < outputs[d]; o++) {
        for (let i = 0; i < inputs[d]; i++) {
          if (p.get(k, o, i) === 1) table[k * outputs[d] + o] = i;
        }
      }
    }
    return table;
  });
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      for (let t = 0; t < count(taps); t++) {
        unravel(t, taps, tapIndex);
        for (let o = 0; o < count(outputs); o++) {
          unravel(o, outputs, outIndex);
          const at = inputOf.map((table, d) => table[tapIndex[d] * outputs[d] + outIndex[d]]);
          const value = at.every((i) => i >= 0) ? x.get(b, c, ...at) : 0;
          result.set(b, c, ...tapIndex, ...outIndex, value);
        }
      }
    }
  }
  return result;
}

const CASES: {
  input: number[];
  kernel: number[];
  stride?: number;
  padding?: number;
  dilation?: number;
}[] = [
  { input: [17], kernel: [3], padding: 1 },
  { input: [20], kernel: [4], stride: 3, dilation: 2, padding: 2 },
  { input: [9, 11], kernel: [3, 2], padding: 1 },
  { input: [12, 10], kernel: [3, 3], stride: 2, padding: 1 },
  { input: [13, 9], kernel: [2, 3], dilation: 2 },
  { input: [5, 6, 7], kernel: [2, 3, 2], stride: 2, padding: 1 },
];

for (const dtype of ["float32", "float64"] as const) {
  Deno.test(`an unfold runs as one unfold step and copies the inputs it reads exactly (${dtype})`, () => {
    const rng = mulberry32(71);
    for (const { input, kernel, ...options } of CASES) {
      const patterns = input.map((size, d) => indexPattern(size, kernel[d], options));
      const x = randomFloatTensor(rng, [2, 3, ...input], dtype);
      const equation = unfoldEquation(input.length);
      const plan = contractPath(equation, x, ...patterns);
      assert.deepEqual(plan.steps.map((s) => s.kind), ["unfold"], equation);
      assert.equal(plan.steps[0].flops, plan.outputShape.reduce((a, b) => a * b, 1));
      // The equivalent pairwise order: the data with each pattern, every pair in the list
      // of operands left at that point.
      plan.path.forEach(([i, j], step) => {
        assert.ok(0 <= i && i < j && j < 1 + input.length - step, `${equation} path`);
      });
      const expected = directUnfold(x, patterns);
      const label = `${input} k${kernel} ${JSON.stringify(options)}`;
      assert.deepEqual(
        Array.from(executePlan(plan, [x, ...patterns]).data),
        Array.from(expected.data),
        label,
      );
      // A strided view of the data, and the result into a view of a larger array.
      const view = randomView(rng, x);
      const out = zeros([...plan.outputShape, 2], dtype).pick(
        ...plan.outputShape.map(() => null),
        1,
      );
      einsumSync(equation, view, ...patterns, { out });
      for (let at = 0; at < expected.data.length; at++) {
        const index: number[] = [];
        let flat = at;
        for (let d = expected.shape.length - 1; d >= 0; d--) {
          index[d] = flat % expected.shape[d];
          flat = Math.floor(flat / expected.shape[d]);
        }
        if (out.get(...index) !== expected.data[at]) assert.fail(`${label}: out at [${index}]`);
      }
    }
  });
}

for (const dtype of ["float32", "float64"] as const) {
  Deno.test(`a transposed unfold runs as one unfold step and places every input (${dtype})`, () => {
    const rng = mulberry32(75);
    for (const { input, kernel, ...options } of CASES) {
      const patterns = input.map((size, d) => indexPattern(size, kernel[d], options));
      const outputs = patterns.map((p) => p.shape[1]);
      const x = randomFloatTensor(rng, [2, 3, ...outputs], dtype);
      // The data holds the patterns' outputs, the result their inputs.
      const n = input.length;
      const [k, o, i] = ["klm", "opq", "xyz"].map((letters) => letters.slice(0, n));
      const equation = `bc${o},${[...k].map((_, d) => k[d] + o[d] + i[d]).join(",")}->bc${k}${i}`;
      const plan = contractPath(equation, x, ...patterns);
      assert.deepEqual(plan.steps.map((s) => s.kind), ["unfold"], equation);
      assert.equal(plan.implicitGemm?.kind, "transposeUnfold");
      const expected = directUnfold(x, patterns.map((p) => p.transpose(0, 2, 1)));
      const label = `${input} k${kernel} ${JSON.stringify(options)}`;
      assert.deepEqual(
        Array.from(executePlan(plan, [randomView(rng, x), ...patterns]).data),
        Array.from(expected.data),
        label,
      );
      const out = zeros(plan.outputShape, dtype);
      out.data.fill(NaN); // every entry must be written, the zeros too
      einsumSync(equation, x, ...patterns, { out });
      assert.deepEqual(Array.from(out.data), Array.from(expected.data), `${label} into out`);
      const index = i[n - 1];
      const size = plan.sizes.get(index)!;
      const shards = shardedRun(plan, [x, ...patterns], index, [0, size >> 1, size], dtype);
      assert.deepEqual(Array.from(shards.data), Array.from(expected.data), `${label} shards`);
    }
  });
}

Deno.test("an unfold in another output order runs as an unfold step, then a permutation", () => {
  const rng = mulberry32(72);
  const patterns = [indexPattern(9, 3, { padding: 1 }), indexPattern(8, 2, { stride: 2 })];
  const x = randomFloatTensor(rng, [2, 3, 9, 8]);
  const plan = contractPath("bcxy,kox,lpy->kbolpc", x, ...patterns);
  assert.deepEqual(plan.steps.map((s) => s.kind), ["unfold", "permute"]);
  const natural = directUnfold(x, patterns).transpose(2, 0, 4, 3, 5, 1);
  const result = executePlan(plan, [x, ...patterns]);
  assert.deepEqual(result.shape, natural.shape);
  for (let k = 0; k < 3; k++) {
    for (let b = 0; b < 2; b++) {
      for (let o = 0; o < 9; o++) {
        for (let l = 0; l < 2; l++) {
          for (let p = 0; p < 4; p++) {
            for (let c = 0; c < 3; c++) {
              assert.equal(result.get(k, b, o, l, p, c), natural.get(k, b, o, l, p, c));
            }
          }
        }
      }
    }
  }
});

Deno.test("an unfold whose inputs are not the data's last indices stays a gather", () => {
  const pattern = indexPattern(9, 3, { padding: 1 });
  const plan = contractPath("bxc,kox->bcko", zeros([2, 9, 4]), pattern);
  assert.ok(plan.steps.every((s) => s.kind !== "unfold"), plan.toString());
});

Deno.test("an unfold's shards along the batch, a tap and an output equal the whole result", () => {
  const rng = mulberry32(73);
  const patterns = [indexPattern(14, 3, { padding: 1 }), indexPattern(10, 3, { stride: 2 })];
  const x = randomFloatTensor(rng, [4, 3, 14, 10], "float32");
  const plan = contractPath("bcxy,kox,lpy->bcklop", x, ...patterns);
  const whole = executePlan(plan, [x, ...patterns]);
  for (const [index, cuts] of [["b", [0, 1, 4]], ["k", [0, 2, 3]], ["o", [0, 5, 14]]] as const) {
    const out = shardedRun(plan, [x, ...patterns], index, cuts, "float32");
    assert.deepEqual(Array.from(out.data), Array.from(whole.data), `shards along ${index}`);
  }
});

Deno.test("an unfold of images larger than a staging band equals the direct gather", () => {
  // 20 planes of 150×140: 16 padded planes take over 2^18 elements, so bands of output
  // lines; 12 planes fit 2^18, so chunks of planes within a band too
  const rng = mulberry32(74);
  const patterns = [indexPattern(150, 3, { padding: 1 }), indexPattern(140, 3, { padding: 1 })];
  const x = randomFloatTensor(rng, [2, 10, 150, 140], "float32");
  const result = einsumSync(unfoldEquation(2), x, ...patterns);
  const expected = directUnfold(x, patterns);
  assert.deepEqual(Array.from(result.data), Array.from(expected.data));
});
