import assert from "node:assert/strict";
import {
  assertAllClose,
  contractPath,
  einsumSync,
  executePlan,
  type NdArray,
  virtualIndexPattern,
  zeros,
} from "@einconv/runtime";
import { indexPattern } from "@einconv/expressions";
import { mulberry32, randomFloatTensor, randomTensor, randomView } from "../_random.ts";
import { referenceEinsum } from "../_reference_einsum.ts";
import { shardedRun } from "../_shards.ts";

/** A registered pattern, and the same numbers as an anonymous (dense) tensor. */
function patterns(
  inputSize: number,
  kernelSize: number,
  options: { stride?: number; padding?: number | "same"; dilation?: number } = {},
): [NdArray, NdArray] {
  const pattern = indexPattern(inputSize, kernelSize, { ...options, dtype: "float64" });
  const dense = randomTensor(() => 0, pattern.shape);
  dense.data.set(pattern.data);
  return [pattern, dense];
}

const rng = mulberry32(404);
const [ph, phDense] = patterns(9, 3, { stride: 2, padding: 1 });
const [pw, pwDense] = patterns(7, 2, { dilation: 2 });
const x = randomView(rng, randomTensor(rng, [2, 3, 9, 7]));
const w = randomTensor(rng, [4, 3, 3, 2]);
const v = randomTensor(rng, [2, 4, 5, 5]);

const CASES: [string, string, NdArray[], NdArray[]][] = [
  ["conv forward", "nchw,koh,lpw,dckl->ndop", [x, ph, pw, w], [x, phDense, pwDense, w]],
  ["input VJP", "ndop,koh,lpw,dckl->nchw", [v, ph, pw, w], [v, phDense, pwDense, w]],
  ["weight VJP", "nchw,koh,lpw,ndop->dckl", [x, ph, pw, v], [x, phDense, pwDense, v]],
  ["unfold", "nchw,koh,lpw->nckop", [x, ph, pw], [x, phDense, pwDense]],
  ["KFC", "nchw,koh,lpw,mog,qpr,ncgr->cklmq", [x, ph, pw, ph, pw, x], [
    x,
    phDense,
    pwDense,
    phDense,
    pwDense,
    x,
  ]],
  ["KFAC-reduce", "nchw,koh,lpw,mag,qbr,ncgr->cklmq", [x, ph, pw, ph, pw, x], [
    x,
    phDense,
    pwDense,
    phDense,
    pwDense,
    x,
  ]],
];

Deno.test("einsumSync() gathers and scatters through index patterns like dense products", () => {
  for (const [label, equation, operands, dense] of CASES) {
    const plan = contractPath(equation, ...operands);
    assert.ok(plan.patterns.some((p) => p !== undefined), label);
    const kinds = plan.steps.map((s) => s.kind);
    if (["conv forward", "weight VJP", "input VJP", "KFC"].includes(label)) {
      assert.deepEqual(kinds.slice(0, 1), ["implicit GEMM"]);
    } else assert.ok(kinds.includes("gather") || kinds.includes("scatter"), label);
    // The dense route is checked against the direct-loop reference elsewhere; the full
    // reference loop over every index of these networks would take minutes.
    const expected = operands.length <= 3
      ? referenceEinsum(equation, ...dense)
      : einsumSync(equation, ...dense);
    assertAllClose(einsumSync(equation, ...operands), expected, { message: label });
  }
});

Deno.test("contractPath() costs a pattern step as the size of what it moves", () => {
  const plan = contractPath("nchw,koh->nckow", x, ph);
  assert.equal(plan.steps[0].kind, "gather");
  assert.deepEqual(plan.steps.slice(1).map((s) => s.flops), [0]);
  // 3 taps × 5 outputs, 2 of them reading the padding: 13 ones, each moving [n, c, w]
  assert.equal(plan.steps[0].flops, 13 * 2 * 3 * 7);
  const dense = contractPath("nchw,koh->nckow", x, phDense);
  assert.equal(dense.patterns.every((p) => p === undefined), true);
  assert.equal(dense.steps[0].flops, 2 * (2 * 3 * 9 * 7 * 3 * 5)); // opt_einsum: union size × 2
  assert.match(plan.toString(), /gather/);
  const opted = contractPath("nchw,koh->nckow", x, ph, { patterns: false });
  assert.equal(opted.steps[0].flops, dense.steps[0].flops);
});

Deno.test("contractPath() with patterns plans conv A in fewer FLOPs than dense patterns", () => {
  const shapes = [[8, 64, 56, 56], [3, 56, 56], [3, 56, 56], [64, 64, 3, 3]];
  const pattern = indexPattern(56, 3, { padding: 1 });
  const info = contractPath(
    "nchw,koh,lpw,dckl->ndop",
    zeros(shapes[0], "float32"),
    pattern,
    pattern,
    zeros(shapes[3], "float32"),
  ).patterns[1]!;
  const aware = contractPath("nchw,koh,lpw,dckl->ndop", ...shapes, {
    patterns: [undefined, info, info, undefined],
  });
  const dense = contractPath("nchw,koh,lpw,dckl->ndop", ...shapes);
  assert.ok(aware.flops < dense.flops, `${aware.flops} < ${dense.flops}`);
  // the only dense product left is the convolution's own: 2·B·C_out·O²·C_in·K²
  const gemm = aware.steps.filter((s) => s.kind.includes("GEMM"));
  assert.equal(gemm.length, 1);
  assert.equal(gemm[0].flops, 2 * 8 * 64 * 56 * 56 * 64 * 9);
});

Deno.test("contractPath() runs a convolution as one implicit GEMM unless told otherwise", () => {
  const plan = contractPath("nchw,koh,lpw,dckl->ndop", x, ph, pw, w);
  assert.notEqual(plan.implicitGemm, null);
  assert.deepEqual(plan.implicitGemm!.channels, ["d"]);
  assert.deepEqual(plan.implicitGemm!.rows, ["n"]);
  assert.deepEqual(plan.implicitGemm!.contracted, ["c"]);
  // the equivalent pairwise order: x with each pattern, then the weight
  assert.deepEqual(plan.path, [[0, 1], [0, 2], [0, 1]]);
  assert.equal(plan.steps[0].flops, 2 * 2 * 4 * 5 * 5 * 3 * 3 * 2);
  assert.match(plan.toString(), /implicit GEMM/);
  assert.equal(
    contractPath("nchw,koh,lpw,dckl->ndop", x, ph, pw, w, { optimize: "naive" }).implicitGemm,
    null,
  );
  assert.equal(
    contractPath("nchw,koh,lpw,dckl->ndop", x, ph, pw, w, { patterns: false }).implicitGemm,
    null,
  );
  // a weight VJP is the other motif: the gradient holds the outputs, the result the taps
  assert.equal(contractPath("nchw,koh,lpw,ndop->dckl", x, ph, pw, v).implicitGemm?.kind, "weight");
  // an input VJP is the third: Wᵀ · V scattered back to the inputs
  assert.equal(contractPath("ndop,koh,lpw,dckl->nchw", v, ph, pw, w).implicitGemm?.kind, "input");
  // unfolding has no weight: pairwise gathers
  assert.equal(contractPath("nchw,koh,lpw->nckop", x, ph, pw).implicitGemm, null);
});

Deno.test("an implicit GEMM writes the output's order when it ends with the kernel's block", () => {
  // Grouped: 3 groups g of 2 channels c, between the batch n and the output channels d.
  const xg = randomTensor(rng, [2, 3, 2, 9, 7]);
  const wg = randomTensor(rng, [3, 4, 2, 3, 2]);
  const reference = referenceEinsum("ngchw,koh,lpw,gdckl->ngdop", xg, phDense, pwDense, wg);
  for (
    const [equation, steps] of [
      ["ngchw,koh,lpw,gdckl->ngdop", 1], // the kernel's [d, o, p] blocks last: written in place
      ["ngchw,koh,lpw,gdckl->gndop", 1], // the kernel's natural order
      ["ngchw,koh,lpw,gdckl->ndgop", 2], // blocks split: a permutation follows
    ] as const
  ) {
    const plan = contractPath(equation, xg, ph, pw, wg);
    assert.equal(plan.steps.length, steps, equation);
    assert.equal(plan.steps[0].kind, "implicit GEMM", equation);
    const order = equation.split("->")[1];
    assertAllClose(
      executePlan(plan, [xg, ph, pw, wg]),
      referenceEinsum(`ngdop->${order}`, reference),
      {
        message: equation,
      },
    );
  }
});

Deno.test("executePlan() shards pattern contractions bit for bit", () => {
  for (const [label, equation, operands] of CASES) {
    const plan = contractPath(equation, ...operands);
    const whole = executePlan(plan, operands);
    plan.parsed.output.forEach((index, d) => {
      const size = whole.shape[d];
      const out = shardedRun(plan, operands, index, [0, Math.max(1, Math.floor(size / 2)), size]);
      assert.deepEqual(out.data, whole.data, `${label} split on ${index}`);
    });
  }
});

Deno.test("a pattern changed after registration is contracted as a dense tensor", () => {
  const [pattern] = patterns(6, 2);
  pattern.data[1] = 0.5;
  const plan = contractPath("nci,koi->ncko", randomTensor(rng, [1, 1, 6]), pattern);
  assert.equal(plan.patterns[1], undefined);
});

Deno.test("virtual index patterns contract like dense ones and are never read as dense", () => {
  const info = contractPath("nchw,koh->nckow", x, ph).patterns[1]!;
  const virtual = virtualIndexPattern(info, "float64");
  assert.deepEqual(virtual.shape, ph.shape);
  assert.equal(virtual.data.length, 1);
  assertAllClose(einsumSync("nchw,koh->nckow", x, virtual), einsumSync("nchw,koh->nckow", x, ph));
  const both = "nchw,koh,lpw,mog,qpr,ncgr->cklmq";
  const virtualOperands = [x, virtual, pw, virtual, pw, x];
  assertAllClose(einsumSync(both, ...virtualOperands), einsumSync(both, x, ph, pw, ph, pw, x));
  const dense = contractPath("nchw,koh->nckow", x, virtual, { patterns: false });
  assert.throws(() => executePlan(dense, [x, virtual]), {
    name: "RangeError",
    message: /operand 1: a virtual index pattern must be planned as a pattern/,
  });
});

Deno.test("pattern steps that sum outputs or inputs away give float32 shards the same bits", () => {
  const random = mulberry32(405);
  const x = randomFloatTensor(random, [2, 10, 16], "float32");
  const pattern = indexPattern(16, 3, { padding: 1 });
  const transposed = randomFloatTensor(random, [2, 10, 16], "float32");
  for (
    const [equation, operands] of [
      ["ncx,kox->nck", [x, pattern]], // outputs summed away (KFAC-reduce)
      ["nco,kox->nck", [transposed, pattern]], // inputs summed away (its transpose)
    ] as const
  ) {
    const plan = contractPath(equation, ...operands);
    const whole = executePlan(plan, operands);
    const dense = contractPath(equation, ...operands, { patterns: false });
    assertAllClose(whole, executePlan(dense, operands), { message: equation });
    for (const index of ["n", "c", "k"]) {
      const size = plan.sizes.get(index)!;
      const shards = shardedRun(plan, operands, index, [0, 1, size], "float32");
      assert.deepEqual(shards.data, whole.data, `${equation} split on ${index}`);
    }
  }
});

Deno.test("a network that keeps a data operand's input index is not taken for a KFC", () => {
  const pattern = indexPattern(3, 2, { padding: 1 });
  const x = randomTensor(rng, [1, 1, 3]);
  const y = randomTensor(rng, [1, 1, 3]);
  const equation = "nca,kpa,mpg,ndg->ckmda";
  const plan = contractPath(equation, x, pattern, pattern, y);
  assert.equal(plan.implicitKfc, null);
  assert.deepEqual(plan.outputShape, [1, 2, 2, 1, 3]);
  const dense = contractPath(equation, x, pattern, pattern, y, { patterns: false });
  assertAllClose(
    executePlan(plan, [x, pattern, pattern, y]),
    executePlan(dense, [x, pattern, pattern, y]),
  );
});
