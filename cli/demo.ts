// The Quick-start demo: plans and evaluates an embedded einsum, and checks the result
// against a direct loop. Run it with `deno task demo`.
import { contractPath, einsum, maxRelativeError, type NdArray, tensor } from "../mod.ts";

/** A deterministic tensor of the given shape with values in [-1, 1). */
function sample(shape: number[], seed: number): NdArray {
  const size = shape.reduce((a, b) => a * b, 1);
  let state = seed;
  const data = Float64Array.from({ length: size }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 1073741824 - 1;
  });
  return tensor(data, { shape });
}

// A 1-d convolution written as a tensor network: input x[n, c, i], index pattern
// p[k, o, i] (1 where input i feeds output o through kernel tap k) and weight
// w[d, c, k]; the output is y[n, d, o].
const [N, C, D, I, K] = [4, 8, 16, 32, 3];
const O = I - K + 1;
const x = sample([N, C, I], 1);
const w = sample([D, C, K], 2);
const pattern = tensor(
  Float64Array.from({ length: K * O * I }, (_, at) => {
    const [k, o, i] = [Math.floor(at / (O * I)), Math.floor(at / I) % O, at % I];
    return i === o + k ? 1 : 0;
  }),
  { shape: [K, O, I] },
);
const equation = "nci,koi,dck->ndo";

console.log(`einsum ${equation}  (a valid 1-d convolution, N=${N} C=${C} D=${D} I=${I} K=${K})\n`);
console.log(contractPath(equation, x, pattern, w).toString());

const y = await einsum(equation, x, pattern, w);
const expected = new Float64Array(N * D * O);
for (let n = 0; n < N; n++) {
  for (let d = 0; d < D; d++) {
    for (let o = 0; o < O; o++) {
      let sum = 0;
      for (let c = 0; c < C; c++) {
        for (let k = 0; k < K; k++) sum += x.get(n, c, o + k) * w.get(d, c, k);
      }
      expected[(n * D + d) * O + o] = sum;
    }
  }
}
const error = maxRelativeError(y, { shape: [N, D, O], data: expected });
console.log(
  `\nresult shape [${y.shape}], y[0, 0, :4] = [${
    Array.from({ length: 4 }, (_, o) => y.get(0, 0, o).toFixed(4)).join(", ")
  }]`,
);
console.log(`max relative error against a direct loop: ${error.toExponential(2)}`);
if (!(error < 1e-10)) {
  console.error("demo check FAILED");
  Deno.exit(1);
}
console.log("demo check passed");
