// Square products n×n×n of C-contiguous matrices, grouped by size. Each group's baseline is a
// naive i-k-j triple loop over float64 arrays (at 256 and 512 only; at 1024 it takes seconds).
//
// `deno bench` reports the time per iteration; one product does 2n³ floating-point operations,
// so GFLOP/s = 2n³ / (time per iteration in nanoseconds): 512³ in 50 ms is 2·512³ / 5e7 ns =
// 5.4 GFLOP/s.
import { gemm, type StridedMatrix } from "../runtime/gemm.ts";

/** A C-contiguous n×n matrix of values in [-1, 1). */
function randomSquare(Type: typeof Float32Array | typeof Float64Array, n: number): StridedMatrix {
  const data = new Type(n * n);
  for (let i = 0; i < data.length; i++) data[i] = 2 * Math.random() - 1;
  return { data, offset: 0, rowStride: n, colStride: 1 };
}

/** The naive product C = A·B of C-contiguous n×n arrays, in i-k-j order. */
function naiveGemm(n: number, a: Float64Array, b: Float64Array, c: Float64Array): void {
  c.fill(0);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < n; p++) {
      const x = a[i * n + p];
      for (let j = 0, from = p * n, to = i * n; j < n; j++) c[to + j] += x * b[from + j];
    }
  }
}

for (const n of [256, 512, 1024]) {
  const group = `gemm ${n}³`;
  // Few iterations of the slow cases keep the whole run near a minute.
  const iterations = n === 256 ? undefined : 10;
  if (n <= 512) {
    const [a, b, c] = [0, 1, 2].map(() => randomSquare(Float64Array, n).data as Float64Array);
    Deno.bench({
      name: `naive float64 ${n}`,
      group,
      baseline: true,
      n: iterations,
      fn: () => naiveGemm(n, a, b, c),
    });
  }
  for (const Type of [Float64Array, Float32Array]) {
    const [a, b, c] = [0, 1, 2].map(() => randomSquare(Type, n));
    Deno.bench({
      name: `gemm ${Type === Float64Array ? "float64" : "float32"} ${n}`,
      group,
      n: iterations,
      fn: () => gemm(n, n, n, a, b, c),
    });
  }
}
