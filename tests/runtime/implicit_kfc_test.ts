import assert from "node:assert/strict";
// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import {
  assertAllClose,
  contractPath,
  einsumSync,
  executePlan,
  type NdArray,
  zeros,
} from "@einconv/runtime";
import { convKfacReduce, convKfc, convUnfold, indexPattern } from "@einconv/expressions";
import { mulberry32, randomFloatTensor, randomView } from "../_random.ts";
import { shardedRun } from "../_shards.ts";
import { referenceKfc } from "../_reference_conv.ts";

/** A contiguous result read with another shape (the expression's flattened one). */
function reshaped(x: NdArray, shape: readonly number[]): NdArray {
  return ndarray(x.data, [...shape]);
}

const CASES: {
  x: number[];
  kernel: number[];
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
}[] = [
  { x: [3, 4, 11], kernel: [3], padding: 1 },
  { x: [2, 6, 9, 8], kernel: [3, 2], stride: 2, padding: 1, groups: 2 },
  { x: [2, 3, 10, 9], kernel: [2, 3], dilation: 2 },
  { x: [2, 2, 5, 6, 5], kernel: [2, 2, 3], stride: 2, padding: 1 },
];

for (const dtype of ["float32", "float64"] as const) {
  Deno.test(`KFC runs as one implicit GEMM per image and matches the direct loop (${dtype})`, () => {
    const rng = mulberry32(81);
    for (const { x: shape, kernel, ...options } of CASES) {
      const x = randomFloatTensor(rng, shape, dtype);
      const expr = convKfc(x, kernel, options);
      const plan = contractPath(expr.equation, ...expr.operands);
      const label = `${shape} k${kernel} ${JSON.stringify(options)}`;
      assert.ok(plan.implicitKfc !== null, label);
      assert.deepEqual(plan.steps.map((s) => s.kind).filter((k) => k !== "permute"), [
        "implicit GEMM",
      ]);
      const result = executePlan(plan, expr.operands);
      const expected = referenceKfc(x, kernel, options);
      assertAllClose(reshaped(result, expected.shape), expected, {
        message: label,
        rtol: dtype === "float32" ? 1e-4 : 1e-12,
      });
    }
  });
}

Deno.test("KFAC-reduce (no shared output positions) is not a KFC motif", () => {
  const x = zeros([2, 3, 8, 8]);
  const expr = convKfacReduce(x, 3);
  assert.equal(contractPath(expr.equation, ...expr.operands).implicitKfc, null);
});

/** `Σ_n U(x)[n] U(y)[n]ᵀ / scale` from unfolds and a matrix product, for two inputs. */
function unfoldProduct(x: NdArray, y: NdArray, patterns: NdArray[], scale: NdArray): NdArray {
  const ux = einsumSync("ncab,kpa,lqb->ncklpq", x, ...patterns);
  const uy = einsumSync("ncab,kpa,lqb->ncklpq", y, ...patterns);
  return einsumSync("ncklpq,ndmrpq,s->ckldmr", ux, uy, scale);
}

Deno.test("a KFC of two different inputs, strided views and out match unfolds and a product", () => {
  const rng = mulberry32(82);
  const patterns = [indexPattern(9, 3, { padding: 1 }), indexPattern(7, 2, { stride: 2 })];
  const x = randomFloatTensor(rng, [3, 2, 9, 7]);
  const y = randomFloatTensor(rng, [3, 4, 9, 7]);
  const scale = randomFloatTensor(rng, [1]);
  const equation = "ncab,kpa,lqb,mpg,tqh,ndgh,s->cklmdt";
  const plan = contractPath(equation, x, ...patterns, ...patterns, y, scale);
  assert.ok(plan.implicitKfc !== null);
  assert.deepEqual(plan.steps.map((s) => s.kind), ["implicit GEMM", "permute"]);
  const expected = unfoldProduct(x, y, patterns, scale).transpose(0, 1, 2, 4, 3, 5);
  const operands = [randomView(rng, x), ...patterns, ...patterns, randomView(rng, y), scale];
  assertAllClose(executePlan(plan, operands), expected, { rtol: 1e-12 });
  const out = zeros(plan.outputShape);
  einsumSync(equation, ...operands, { out });
  assertAllClose(out, expected, { rtol: 1e-12 });
});

Deno.test("a KFC's shards along groups, channels and taps equal the whole result bit for bit", () => {
  const rng = mulberry32(83);
  // 12 channels × 9 taps per group: more rows than one block of a symmetric product
  const x = randomFloatTensor(rng, [3, 24, 10, 9], "float32");
  const expr = convKfc(x, [3, 3], { padding: 1, groups: 2 });
  const plan = contractPath(expr.equation, ...expr.operands);
  const whole = executePlan(plan, expr.operands);
  for (
    const [index, cuts] of plan.parsed.output.slice(0, 3).map((name) => {
      const size = plan.sizes.get(name)!;
      return [name, [0, Math.max(1, size >> 1), size]] as const;
    })
  ) {
    if (cuts[1] === cuts[2]) continue;
    const out = shardedRun(plan, expr.operands, index, cuts, "float32");
    assert.deepEqual(Array.from(out.data), Array.from(whole.data), `shards along ${index}`);
  }
});

Deno.test("a KFC over more outputs than one band sums band by band like the product", () => {
  // 448 unfolded rows × 4698 outputs: more than one band of 2^21 elements
  const rng = mulberry32(84);
  const x = randomFloatTensor(rng, [1, 64, 4704], "float32");
  const virtual = { patternOperands: "virtual" } as const;
  const expr = convKfc(x, [7], virtual);
  const result = einsumSync(expr.equation, ...expr.operands);
  const unfold = convUnfold(x, [7], virtual);
  const unfolded = reshaped(einsumSync(unfold.equation, ...unfold.operands), [448, 4698]);
  const expected = einsumSync("ao,bo->ab", unfolded, unfolded);
  assertAllClose(reshaped(result, expected.shape), expected, { rtol: 1e-4 });
});
