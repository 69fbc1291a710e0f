// Square products n×n×n of C-contiguous matrices, one group per size and dtype, so that
// `deno bench` prints each group's ratios in one run: gemm() (the WebAssembly SIMD kernels,
// copies into WASM memory included), gemmReference() (the pure TypeScript kernel) and, as the
// baseline, a naive i-k-j triple loop over the same typed arrays.
//
//   deno bench --allow-read=. bench/gemm_bench.ts
//
// `deno bench` reports the time per iteration; one product does 2n³ floating-point operations,
// so GFLOP/s = 2n³ / (time per iteration in nanoseconds): 1024³ in 43 ms is 2·1024³ / 4.3e7 ns =
// 50 GFLOP/s. The slow members run few iterations to keep the whole file near two minutes.
import { gemm, type StridedMatrix } from "../runtime/gemm.ts";
import { gemmReference } from "../runtime/gemm_reference.ts";

type FloatArray = Float32Array | Float64Array;

/** A C-contiguous n×n matrix of values in [-1, 1). */
function randomSquare(Type: typeof Float32Array | typeof Float64Array, n: number): StridedMatrix {
  const data = new Type(n * n);
  for (let i = 0; i < data.length; i++) data[i] = 2 * Math.random() - 1;
  return { data, offset: 0, rowStride: n, colStride: 1 };
}

/** The naive product C = A·B of C-contiguous n×n arrays, in i-k-j order. */
function naiveGemm(n: number, a: FloatArray, b: FloatArray, c: FloatArray): void {
  c.fill(0);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < n; p++) {
      const x = a[i * n + p];
      for (let j = 0, from = p * n, to = i * n; j < n; j++) c[to + j] += x * b[from + j];
    }
  }
}

/** Iterations per member at each size (undefined: as many as `deno bench` likes). */
const ITERATIONS: Record<number, { naive?: number; reference?: number; wasm?: number }> = {
  256: {},
  512: { naive: 5, reference: 10, wasm: 50 },
  1024: { naive: 2, reference: 4, wasm: 20 },
};

for (const n of [256, 512, 1024]) {
  const iterations = ITERATIONS[n];
  for (const Type of [Float32Array, Float64Array]) {
    const dtype = Type === Float32Array ? "float32" : "float64";
    const group = `gemm ${dtype} ${n}³`;
    const [a, b, c] = [0, 1, 2].map(() => randomSquare(Type, n));
    Deno.bench({
      name: `naive ${dtype} ${n}`,
      group,
      baseline: true,
      n: iterations.naive,
      warmup: iterations.naive && 1,
      fn: () => naiveGemm(n, a.data, b.data, c.data),
    });
    Deno.bench({
      name: `gemmReference ${dtype} ${n}`,
      group,
      n: iterations.reference,
      warmup: iterations.reference && 1,
      fn: () => gemmReference(n, n, n, a, b, c),
    });
    Deno.bench({
      name: `gemm (wasm) ${dtype} ${n}`,
      group,
      n: iterations.wasm,
      warmup: iterations.wasm && 5,
      fn: () => gemm(n, n, n, a, b, c),
    });
  }
}
