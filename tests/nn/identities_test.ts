// The identities that tie the functionals together, checked on seeded random problems
// for N = 1..5 with plain loops (no reference convolution involved): conv = weight ·
// unfold, the VJPs are adjoints of conv, transpose conv = input VJP = weight · transpose
// unfold, and the Kronecker factors are products of unfolded inputs.
import assert from "node:assert/strict";
import { assertAllClose, type NdArray, tensor } from "@einconv/runtime";
import {
  convNd,
  convNdInputVjp,
  convNdWeightVjp,
  convTransposeNd,
  kfacReduce,
  kfc,
  transposeKfacReduce,
  unfoldNd,
  unfoldTransposeNd,
} from "@einconv/nn";
import { mulberry32, randomTensor, randomView } from "../_random.ts";
import { checkEvery } from "./_fixture_cases.ts";
import {
  type ConvProblem,
  describeProblem,
  groupedOptions,
  randomConvProblem,
  randomTransposeProblem,
  type TransposeProblem,
} from "./_random_conv.ts";
import { inner, product, values } from "./_tensor_math.ts";

const CASES_PER_N = 5;
const DIMENSIONS = [1, 2, 3, 4, 5];
const RTOL = 1e-10;

/** A random problem and whether its tensors are passed as strided views. */
interface Drawn<P> {
  problem: P;
  view: boolean;
}

/** Seeded problems for every N, and the generator that drew them (for their tensors). */
function drawProblems<P>(
  seed: number,
  draw: (rng: () => number, n: number) => P,
): { list: Drawn<P>[]; rng: () => number } {
  const rng = mulberry32(seed);
  const list = DIMENSIONS.flatMap((n) =>
    Array.from({ length: CASES_PER_N }, () => ({ problem: draw(rng, n), view: rng() < 0.5 }))
  );
  return { list, rng };
}

/** Convolution problems, with or without groups. */
function convProblems(seed: number, groups: boolean) {
  return drawProblems<ConvProblem>(seed, (rng, n) => randomConvProblem(rng, n, { groups }));
}

/** Transpose problems with the output padding below the stride, as the input VJP needs. */
function transposeProblems(seed: number, groups: boolean) {
  return drawProblems<TransposeProblem>(
    seed,
    (rng, n) => randomTransposeProblem(rng, n, { groups, outputPaddingBelowStride: true }),
  );
}

/** A problem's description for failure messages. */
function labelOf({ problem, view }: Drawn<ConvProblem | TransposeProblem>): string {
  return `${describeProblem(problem)}${view ? " (views)" : ""}`;
}

/** A random float64 tensor, as a strided view when `view` is set. */
function random(rng: () => number, shape: number[], view: boolean): NdArray {
  const t = randomTensor(rng, shape, "float64");
  return view ? randomView(rng, t) : t;
}

/** `|a − b| ≤ rtol·scale`, with a message showing both. */
function assertClose(a: number, b: number, scale: number, message: string): void {
  assert.ok(
    Math.abs(a - b) <= RTOL * Math.max(1, Math.abs(scale)),
    `${message}: ${a} vs ${b}`,
  );
}

/**
 * `Σ_j m[r, j] u[b, j, c]` for `m` `[R, J]` and `u` `[B, J, C]`, a new `[B, R, C]` tensor.
 */
function leftMultiply(m: NdArray, u: NdArray): NdArray {
  const [rows, inner] = m.shape;
  const [batch, inner2, cols] = u.shape;
  assert.equal(inner2, inner, "inner sizes");
  const mv = values(m);
  const uv = values(u);
  const out = new Float64Array(batch * rows * cols);
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < inner; j++) {
        const factor = mv[r * inner + j];
        for (let c = 0; c < cols; c++) {
          out[(b * rows + r) * cols + c] += factor * uv[(b * inner + j) * cols + c];
        }
      }
    }
  }
  return tensor(out, { shape: [batch, rows, cols] });
}

/**
 * `scale · Σ_b Σ_c u[b, :, c] u[b, :, c]ᵀ` (`sumFirst` false) or
 * `scale · Σ_b (Σ_c u[b, :, c])(Σ_c u[b, :, c])ᵀ` (`sumFirst` true), as `[1, J, J]`.
 */
function outerProducts(u: NdArray, scale: number, sumFirst: boolean): NdArray {
  const [batch, size, cols] = u.shape;
  const uv = values(u);
  const out = new Float64Array(size * size);
  for (let b = 0; b < batch; b++) {
    const columns = sumFirst ? 1 : cols;
    for (let c = 0; c < columns; c++) {
      const vector = new Float64Array(size);
      for (let j = 0; j < size; j++) {
        if (sumFirst) { for (let k = 0; k < cols; k++) vector[j] += uv[(b * size + j) * cols + k]; }
        else vector[j] = uv[(b * size + j) * cols + c];
      }
      for (let r = 0; r < size; r++) {
        for (let s = 0; s < size; s++) out[r * size + s] += vector[r] * vector[s];
      }
    }
  }
  for (let i = 0; i < out.length; i++) out[i] *= scale;
  return tensor(out, { shape: [1, size, size] });
}

/** A weight `[C_out, C_in/G, *K]` read as the matrix `[C_out, C_in/G·ΠK]`. */
function asMatrix(weight: NdArray): NdArray {
  const [rows, ...rest] = weight.shape;
  return tensor(values(weight), { shape: [rows, product(rest)] });
}

/** Flattens the spatial dimensions: `[B, C, *S]` → `[B, C, ΠS]`. */
function flattenSpatial(x: NdArray): NdArray {
  const [batch, channels, ...spatial] = x.shape;
  return tensor(values(x), { shape: [batch, channels, product(spatial)] });
}

Deno.test("convNd() equals the weight matrix times unfoldNd()", async () => {
  const { list, rng } = convProblems(201, false);
  await checkEvery(list, labelOf, async ({ problem: p, view }) => {
    const x = random(rng, [p.batch, p.inChannels, ...p.inputSize], view);
    const weight = random(rng, [p.outChannels, p.inChannels, ...p.kernelSize], view);
    const options = { stride: p.stride, padding: p.padding, dilation: p.dilation };
    const out = await convNd(x, weight, null, options);
    const unfolded = await unfoldNd(x, p.kernelSize, options);
    assertAllClose(flattenSpatial(out), leftMultiply(asMatrix(weight), unfolded), {
      rtol: RTOL,
    });
  });
});

Deno.test("convNdInputVjp() is the adjoint of convNd(): <conv(x), v> = <x, inputVjp(v)>", async () => {
  const { list, rng } = convProblems(202, true);
  await checkEvery(list, labelOf, async ({ problem: p, view }) => {
    const x = random(rng, [p.batch, p.inChannels, ...p.inputSize], view);
    const weight = random(rng, [p.outChannels, p.inChannels / p.groups, ...p.kernelSize], view);
    const v = random(rng, [p.batch, p.outChannels, ...p.outputSize], view);
    const left = inner(await convNd(x, weight, null, groupedOptions(p)), v);
    const right = inner(x, await convNdInputVjp(weight, v, p.inputSize, groupedOptions(p)));
    assertClose(left, right, left, "inner products");
  });
});

Deno.test("convNdWeightVjp() is the adjoint in the weight: <conv(x), v> = <w, weightVjp(x, v)>", async () => {
  const { list, rng } = convProblems(203, true);
  await checkEvery(list, labelOf, async ({ problem: p, view }) => {
    const x = random(rng, [p.batch, p.inChannels, ...p.inputSize], view);
    const weight = random(rng, [p.outChannels, p.inChannels / p.groups, ...p.kernelSize], view);
    const v = random(rng, [p.batch, p.outChannels, ...p.outputSize], view);
    const left = inner(await convNd(x, weight, null, groupedOptions(p)), v);
    const right = inner(weight, await convNdWeightVjp(x, v, p.kernelSize, groupedOptions(p)));
    assertClose(left, right, left, "inner products");
  });
});

Deno.test("convTransposeNd() equals convNdInputVjp() with the weight read as a conv weight", async () => {
  const { list, rng } = transposeProblems(204, true);
  await checkEvery(list, labelOf, async ({ problem: p, view }) => {
    // the transpose input is the convolution's output gradient
    const v = random(rng, [p.batch, p.inChannels, ...p.inputSize], view);
    const weight = random(rng, [p.inChannels, p.outChannels / p.groups, ...p.kernelSize], view);
    const common = { stride: p.stride, padding: p.padding, dilation: p.dilation, groups: p.groups };
    const transposed = await convTransposeNd(v, weight, null, {
      ...common,
      outputPadding: p.outputPadding,
    });
    assertAllClose(transposed, await convNdInputVjp(weight, v, p.outputSize, common), {
      rtol: RTOL,
    });
  });
});

Deno.test("convTransposeNd() equals the weight matrix times unfoldTransposeNd()", async () => {
  const { list, rng } = transposeProblems(205, false);
  await checkEvery(list, labelOf, async ({ problem: p, view }) => {
    const x = random(rng, [p.batch, p.inChannels, ...p.inputSize], view);
    const weight = random(rng, [p.inChannels, p.outChannels, ...p.kernelSize], view);
    const options = {
      stride: p.stride,
      padding: p.padding,
      outputPadding: p.outputPadding,
      dilation: p.dilation,
    };
    const out = await convTransposeNd(x, weight, null, options);
    const unfolded = await unfoldTransposeNd(x, p.kernelSize, options);
    // out[b, co, i] = Σ_{ci, k} w[ci, co, k] t[b, ci·ΠK + k, i]: the weight transposed
    const kernelCount = product(p.kernelSize);
    const w = values(weight);
    const matrix = new Float64Array(p.outChannels * p.inChannels * kernelCount);
    for (let ci = 0; ci < p.inChannels; ci++) {
      for (let co = 0; co < p.outChannels; co++) {
        for (let k = 0; k < kernelCount; k++) {
          matrix[(co * p.inChannels + ci) * kernelCount + k] =
            w[(ci * p.outChannels + co) * kernelCount + k];
        }
      }
    }
    const m = tensor(matrix, { shape: [p.outChannels, p.inChannels * kernelCount] });
    assertAllClose(flattenSpatial(out), leftMultiply(m, unfolded), { rtol: RTOL });
  });
});

Deno.test("kfc() equals (1/B) Σ unfold·unfoldᵀ for groups=1", async () => {
  const { list, rng } = convProblems(206, false);
  await checkEvery(list, labelOf, async ({ problem: p, view }) => {
    const x = random(rng, [p.batch, p.inChannels, ...p.inputSize], view);
    const options = { stride: p.stride, padding: p.padding, dilation: p.dilation };
    const unfolded = await unfoldNd(x, p.kernelSize, options);
    assertAllClose(
      await kfc(x, p.kernelSize, options),
      outerProducts(unfolded, 1 / p.batch, false),
      { rtol: RTOL },
    );
  });
});

Deno.test("kfacReduce() equals 1/(B·ΠO²) Σ (unfold·1)(unfold·1)ᵀ for groups=1", async () => {
  const { list, rng } = convProblems(207, false);
  await checkEvery(list, labelOf, async ({ problem: p, view }) => {
    const x = random(rng, [p.batch, p.inChannels, ...p.inputSize], view);
    const options = { stride: p.stride, padding: p.padding, dilation: p.dilation };
    const unfolded = await unfoldNd(x, p.kernelSize, options);
    const scale = 1 / (p.batch * product(p.outputSize) ** 2);
    assertAllClose(
      await kfacReduce(x, p.kernelSize, options),
      outerProducts(unfolded, scale, true),
      { rtol: RTOL },
    );
  });
});

Deno.test("transposeKfacReduce() equals 1/(B·ΠI²) Σ (T·1)(T·1)ᵀ of unfoldTransposeNd() for groups=1", async () => {
  const { list, rng } = transposeProblems(208, false);
  await checkEvery(list, labelOf, async ({ problem: p, view }) => {
    const x = random(rng, [p.batch, p.inChannels, ...p.inputSize], view);
    const options = {
      stride: p.stride,
      padding: p.padding,
      outputPadding: p.outputPadding,
      dilation: p.dilation,
    };
    const unfolded = await unfoldTransposeNd(x, p.kernelSize, options);
    const scale = 1 / (p.batch * product(p.outputSize) ** 2);
    assertAllClose(
      await transposeKfacReduce(x, p.kernelSize, options),
      outerProducts(unfolded, scale, true),
      { rtol: RTOL },
    );
  });
});
