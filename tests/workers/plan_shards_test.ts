import assert from "node:assert/strict";
import {
  contractPath,
  DEFAULT_SHARD_MIN_FLOPS,
  type DType,
  einsumSync,
  planShards,
} from "@einconv/runtime";
import { mulberry32, randomEinsumProblem, randomFloatTensor, randomView } from "../_random.ts";
import { shardedRun } from "../_shards.ts";

// Benchmark case A: conv2d forward as input, two index patterns and the weight.
const CONV = "nchw,koh,lpw,dckl->ndop";
const CONV_SHAPES = [[8, 64, 56, 56], [3, 56, 56], [3, 56, 56], [64, 64, 3, 3]];

Deno.test("planShards() splits the convolution forward along the batch index, in shards that shrink", () => {
  const plan = contractPath(CONV, ...CONV_SHAPES);
  // 2 workers take 4 shards as they come free (3, 2, 2 and 1 images): the weight, which
  // every shard reads, is small, and each image is 231 MFLOP.
  assert.deepEqual(planShards(plan, 2), {
    index: "n",
    boundaries: [0, 3, 5, 7, 8],
    shardFlops: 3 * plan.flops / 8,
    repeatedFlops: 0,
  });
  // Case F's batch of 16 (conv1d C64→64 L4096 k5): each round even, larger first, so that the
  // worker done first with 5 takes 3 and the other 2 (8 each; cumulative rounding gave 5,
  // 6, 2, 3: 7 and 9).
  const conv1d = contractPath("ncl,kol,dck->ndo", [16, 64, 4096], [5, 4096, 4096], [64, 64, 5], {
    patterns: [undefined, {
      ...PATTERN_56,
      inputSize: 4096,
      kernelSize: 5,
      outputSize: 4096,
      paddingLeft: 2,
      paddingRight: 2,
    }, undefined],
  });
  assert.deepEqual(planShards(conv1d, 2)?.boundaries, [0, 6, 11, 14, 16]);
  // A smaller batch of smaller images: no shard under 8·10⁷ FLOPs beyond one per worker.
  const small = contractPath(CONV, [8, 8, 16, 16], [3, 16, 16], [3, 16, 16], [8, 8, 3, 3]);
  assert.deepEqual(planShards(small, 2, { minFlops: 0 })?.boundaries, [0, 4, 8]);
  // Case C's 1×1 convolution, 2·10⁸ FLOPs: two shards, not six that each cost round trips.
  const pointwise = contractPath("ncp,dc->ndp", [8, 256, 196], [256, 256]);
  assert.deepEqual(planShards(pointwise, 2)?.boundaries, [0, 4, 8]);
});

/** The virtual pattern of case A's spatial dimensions: 56 inputs, kernel 3, padding 1. */
const PATTERN_56 = {
  inputSize: 56,
  kernelSize: 3,
  outputSize: 56,
  stride: 1,
  paddingLeft: 1,
  paddingRight: 1,
  dilation: 1,
};

Deno.test("planShards() splits a weight gradient along input channels, into few shards", () => {
  const plan = contractPath(
    "nchw,koh,lpw,ndop->dckl",
    [8, 64, 56, 56],
    [3, 56, 56],
    [3, 56, 56],
    [8, 64, 56, 56],
    { patterns: [undefined, PATTERN_56, PATTERN_56, undefined] },
  );
  assert.equal(plan.implicitGemm?.kind, "weight");
  // Split along d, every shard would unfold all of x (9 reads an element); along c, it
  // reads all of dy once. Extra shards may re-read 5% of the FLOPs: 3 shards, not 8, and
  // then 2, a whole round (on two equally fast workers, a third shard would run alone:
  // 28 → 22 ms a call here).
  const shards = planShards(plan, 2)!;
  assert.equal(shards.index, "c");
  assert.deepEqual(shards.boundaries, [0, 32, 64]);
  assert.equal(shards.shardFlops, plan.flops / 2);
  // A 1024³ product re-reads B per shard: 16·2²⁰ FLOPs each, 5% of 2³¹ would allow 6
  // shards, two per worker allow 4; a 2048³ one re-reads 4× as much for 8× the FLOPs.
  const gemm = contractPath("ij,jk->ik", [1024, 1024], [1024, 1024]);
  assert.equal(planShards(gemm, 2)?.boundaries.length, 5);
  const big = contractPath("ij,jk->ik", [2048, 2048], [2048, 2048]);
  assert.equal(planShards(big, 2)?.boundaries.length, 5);
  assert.equal(planShards(gemm, 3)?.boundaries.length, 7);
});

Deno.test("planShards() splits for one worker only when the copies of a new result overlap", () => {
  const plan = contractPath(
    "nchw,koh,lpw,dckl->ndop",
    [8, 64, 56, 56],
    [3, 56, 56],
    [3, 56, 56],
    [64, 64, 3, 3],
    { patterns: [undefined, PATTERN_56, PATTERN_56, undefined] },
  );
  // Into `out` the result is copied at the end: one shard. Into new memory each shard's part
  // is copied as it finishes, while the worker runs the next: four, shrinking.
  assert.deepEqual(planShards(plan, 1)!.boundaries, [0, 8]);
  assert.deepEqual(planShards(plan, 1, { copiesOverlap: true })!.boundaries, [0, 4, 6, 7, 8]);
  assert.deepEqual(
    planShards(plan, 2, { copiesOverlap: true })!.boundaries,
    planShards(plan, 2)!.boundaries,
  );
  assert.throws(() => planShards(plan, 1, { copiesOverlap: 1 as unknown as boolean }), {
    name: "TypeError",
    message: "Cannot read copiesOverlap: expected a boolean, got 1",
  });
});

Deno.test("planShards() picks the output index whose split repeats the least work", () => {
  // The plan contracts ij,jk first: that step lacks b, so splitting b would repeat it,
  // while every step holds k.
  const plan = contractPath("bi,ij,jk->bk", [10000, 20], [20, 20], [20, 20]);
  assert.deepEqual(plan.path, [[1, 2], [0, 1]]);
  const any = { minFlops: 0, minFlopsPerOutput: 0 };
  const shards = planShards(plan, 2, any);
  assert.equal(shards?.index, "k");
  assert.equal(shards?.repeatedFlops, 0);
  // When every index leaves work behind, the repeated work is what the others recompute.
  const chain = contractPath("ai,ij,jb->ab", [300, 4], [4, 4], [4, 300]);
  const split = planShards(chain, 3, any)!;
  const uncarried = chain.steps.filter((step) => !step.inputs.flat().includes(split.index));
  const repeated = uncarried.reduce((sum, step) => sum + step.flops, 0) * 2;
  assert.equal(split.repeatedFlops, repeated);
});

Deno.test("planShards() makes even shards, at most one per worker and per index value", () => {
  const plan = contractPath("ij,jk->ik", [5, 3000], [3000, 1000]);
  assert.deepEqual(planShards(plan, 2)?.boundaries, [0, 1000 / 2, 1000]);
  assert.deepEqual(planShards(plan, 3)?.boundaries, [0, 334, 667, 1000]);
  const narrow = contractPath("ij,jk->ik", [5, 3000], [3000, 2]);
  assert.deepEqual(planShards(narrow, 4, { minFlops: 0 }), {
    index: "i",
    boundaries: [0, 2, 3, 4, 5],
    shardFlops: narrow.flops * 2 / 5,
    repeatedFlops: 0,
  });
});

Deno.test("planShards() gives one shard for one worker and when splitting does not pay", () => {
  const plan = contractPath("ij,jk->ik", [500, 500], [500, 500]);
  assert.deepEqual(planShards(plan, 1), {
    index: "i",
    boundaries: [0, 500],
    shardFlops: plan.flops,
    repeatedFlops: 0,
  });
  // Splitting i leaves the expensive jk,k step to every shard.
  const lopsided = contractPath("ij,jk,k->i", [2, 3000], [3000, 3000], [3000]);
  assert.deepEqual(planShards(lopsided, 2)?.boundaries, [0, 2]);
});

Deno.test("planShards() leaves small plans, scalar outputs and 0 workers to the calling thread", () => {
  assert.equal(planShards(contractPath("ij,jk->ik", [10, 10], [10, 10]), 2), null);
  assert.equal(planShards(contractPath("ij,ij->", [3000, 3000], [3000, 3000]), 2), null);
  assert.equal(planShards(contractPath("ij,jk->ik", [500, 500], [500, 500]), 0), null);
  assert.equal(
    planShards(contractPath("ij,jk->ik", [0, 500], [500, 500]), 2, { minFlops: 0 })
      ?.index,
    "k",
  );
});

Deno.test("planShards() rejects bad workers and minFlops, naming them", () => {
  const plan = contractPath("ij,jk->ik", [2, 2], [2, 2]);
  assert.throws(() => planShards(plan, -1), {
    name: "RangeError",
    message: "Cannot read workers: expected a non-negative integer, got -1",
  });
  assert.throws(() => planShards(plan, 1.5), { name: "RangeError", message: /got 1.5$/ });
  assert.throws(() => planShards(plan, 2, { minFlops: NaN }), {
    name: "RangeError",
    message: "Cannot read minFlops: expected a non-negative number, got NaN",
  });
});

Deno.test("contractPath() shows the sharding decision for a number of workers", () => {
  const plan = contractPath(CONV, ...CONV_SHAPES, { workers: 2 });
  assert.deepEqual(plan.shards, planShards(contractPath(CONV, ...CONV_SHAPES), 2));
  assert.match(
    plan.toString(),
    /\n {16}Shards: {2}4 along "n": \[0, 3\) \[3, 5\) \[5, 7\) \[7, 8\), repeated 0 FLOPs\n/,
  );
  const small = contractPath("ij,jk->ik", [2, 2], [2, 2], { workers: 2 });
  assert.equal(small.shards, null);
  assert.match(small.toString(), /Shards: {2}none \(calling thread\)/);
  const plain = contractPath(CONV, ...CONV_SHAPES);
  assert.equal(plain.shards, undefined);
  assert.doesNotMatch(plain.toString(), /Shards/);
  assert.throws(() => contractPath("ij", [2, 2], { workers: -2 }), { name: "RangeError" });
});

Deno.test("shards put together equal the whole result bit for bit (random problems)", () => {
  const rng = mulberry32(4242);
  for (let p = 0; p < 200; p++) {
    const dtype: DType = p % 2 === 0 ? "float32" : "float64";
    const { equation, shapes } = randomEinsumProblem(rng, { maxOperands: 4, maxSize: 5 });
    const operands = shapes.map((shape) => {
      const t = randomFloatTensor(rng, shape, dtype);
      return rng() < 0.4 ? randomView(rng, t) : t;
    });
    const plan = contractPath(equation, ...operands);
    const shards = planShards(plan, 1 + Math.floor(rng() * 4), { minFlops: 0 });
    if (shards === null) continue;
    const out = shardedRun(plan, operands, shards.index, shards.boundaries, dtype);
    assert.deepEqual(out.data, einsumSync(equation, ...operands).data, `${equation} [${shapes}]`);
  }
});

Deno.test("planShards() leaves memory-bound plans such as a depthwise convolution to the calling thread", () => {
  // Case D: 2.9·10⁷ FLOPs, above the 10⁷ threshold, but 18 FLOPs per output element.
  const plan = contractPath(
    "ngchw,koh,lpw,gdckl->ngdop",
    [8, 64, 1, 56, 56],
    [3, 56, 56],
    [3, 56, 56],
    [64, 1, 1, 3, 3],
    { patterns: [undefined, PATTERN_56, PATTERN_56, undefined] },
  );
  assert.equal(plan.implicitGemm?.kind, "forward");
  assert.ok(plan.flops > DEFAULT_SHARD_MIN_FLOPS);
  assert.equal(planShards(plan, 2), null);
  // Along the groups, which every operand but the patterns holds: nothing is re-read.
  assert.equal(planShards(plan, 2, { minFlopsPerOutput: 0 })?.index, "g");
  assert.throws(() => planShards(plan, 2, { minFlopsPerOutput: -1 }), {
    name: "RangeError",
    message: "Cannot read minFlopsPerOutput: expected a non-negative number, got -1",
  });
});

Deno.test("planShards() makes extra shards smaller and smaller, whole index values each", () => {
  for (const size of [5, 8, 64, 1000]) {
    for (const workers of [2, 3]) {
      // One output index: the split is along b.
      const plan = contractPath("bij,bjk->b", [size, 512, 512], [size, 512, 512]);
      const shards = planShards(plan, workers, { minFlops: 0, minFlopsPerOutput: 0 })!;
      const { boundaries } = shards;
      const sizes = boundaries.slice(1).map((end, s) => end - boundaries[s]);
      const label = `size ${size}, ${workers} workers: [${boundaries}]`;
      assert.equal(boundaries[0], 0, label);
      assert.equal(boundaries.at(-1), size, label);
      assert.ok(sizes.every((n) => n >= 1), label);
      // Whole rounds: as many shards as workers, or twice as many, …
      assert.equal(sizes.length % workers, 0, label);
      assert.ok(sizes.length > workers || size < 2 * workers, label);
      // The first shard of each worker is at least as large as any later one.
      const first = Math.min(...sizes.slice(0, workers));
      assert.ok(sizes.slice(workers).every((n) => n <= first), label);
      if (size >= 64) assert.ok(sizes.at(-1)! < first, label);
      assert.equal(shards.shardFlops, plan.flops * Math.max(...sizes) / size, label);
    }
  }
});
