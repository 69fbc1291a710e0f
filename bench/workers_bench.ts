// The worker pool's speed-up, measured in one run: each group's baseline is einsum() on one
// worker (the whole contraction in one shard), against two workers (two shards) and against
// einsumSync on the calling thread. Run with `deno task bench:deno` or
// `deno bench --allow-read=. bench/workers_bench.ts` (workers need read access to their module).
// Both workers need a core each: on a machine busy with other work the ratio shrinks.
//
// Case A is conv2d forward (batch 8, 64 → 64 channels, 56×56, kernel 3, padding 1, float32)
// written as einconv's tensor network: input x[n,c,h,w], the dense index patterns P[k,o,i]
// (1 iff i = o + k - 1) of both spatial dimensions and the weight w[d,c,k,l]. Built by hand,
// the patterns are plain tensors that the executor contracts as dense GEMMs (2.9 GFLOP by
// opt_einsum's count); built by indexPattern() the planner knows them and runs gathers around
// one GEMM (1.9 GFLOP, more of it memory-bound). Either way the pool splits the batch index.
// Case A's KFC (the Kronecker factor of its input with itself, 16.6 GFLOP counted as the
// full product) is symmetric: one worker computes the blocks from the diagonal on, two split
// the upper triangle into bands of rows of even work (see `triangleShards`).
import {
  configureWorkers,
  einsum,
  einsumSync,
  expressions,
  indexPattern,
  type NdArray,
  tensor,
} from "../mod.ts";

/** A float32 tensor of values in [-1, 1) from a fixed linear congruential sequence. */
function sample(shape: number[], seed: number): NdArray {
  let state = seed;
  const size = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: size }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 1073741824 - 1;
  });
  return tensor(data, { shape });
}

/** The `[K, O, I]` index pattern of kernel `k`, padding `(k - 1) / 2`, stride 1. */
function samePattern(size: number, k: number): NdArray {
  const pattern = tensor(new Float32Array(k * size * size), { shape: [k, size, size] });
  for (let tap = 0; tap < k; tap++) {
    for (let o = 0; o < size; o++) {
      const i = o + tap - (k - 1) / 2;
      if (i >= 0 && i < size) pattern.set(tap, o, i, 1);
    }
  }
  return pattern;
}

const cases = [
  {
    group: "matmul 1024³ float32",
    equation: "ij,jk->ik",
    operands: [sample([1024, 1024], 1), sample([1024, 1024], 2)],
    n: 10,
  },
  {
    group: "case A: conv2d forward 8×64×56×56, 64 out, 3×3, float32",
    equation: "nchw,koh,lpw,dckl->ndop",
    operands: [
      sample([8, 64, 56, 56], 3),
      samePattern(56, 3),
      samePattern(56, 3),
      sample([64, 64, 3, 3], 4),
    ],
    n: 6,
  },
  {
    group: "case A with indexPattern() patterns (gathers + GEMM)",
    equation: "nchw,koh,lpw,dckl->ndop",
    operands: [
      sample([8, 64, 56, 56], 3),
      indexPattern(56, 3, { padding: 1, dtype: "float32" }),
      indexPattern(56, 3, { padding: 1, dtype: "float32" }),
      sample([64, 64, 3, 3], 4),
    ],
    n: 6,
  },
  {
    group: "case A's KFC (one tensor with itself)",
    ...kfcOf(sample([8, 64, 56, 56], 5)),
    n: 4,
  },
];

/** The KFC expression of `x` (3×3 kernel, padding 1) as an einsum. */
function kfcOf(x: NdArray): { equation: string; operands: NdArray[] } {
  const { equation, operands } = expressions.convKfc(x, 3, { padding: 1 });
  return { equation, operands: [...operands] };
}

for (const { group, equation, operands, n } of cases) {
  for (const count of [1, 2]) {
    Deno.bench({
      name: `einsum, ${count} worker${count === 1 ? "" : "s"}`,
      group,
      baseline: count === 1,
      n,
      warmup: 3,
      async fn() {
        configureWorkers({ count });
        await einsum(equation, ...operands);
      },
    });
  }
  Deno.bench({
    name: "einsumSync, calling thread",
    group,
    n,
    warmup: 1,
    fn() {
      einsumSync(equation, ...operands);
    },
  });
}
