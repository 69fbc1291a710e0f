// Seeded random convolution problems (shapes and hyperparameters) for N = 1..5, small
// enough that the direct-loop reference and the functionals run a few hundred in seconds.
import type { IntOrTuple } from "../_reference_conv.ts";
import { referenceOutputSize, referenceTransposeSize } from "../_reference_conv.ts";

/** A convolution: shapes and the options every functional takes. */
export interface ConvProblem {
  N: number;
  batch: number;
  inChannels: number;
  outChannels: number;
  groups: number;
  inputSize: number[];
  kernelSize: number[];
  outputSize: number[];
  stride: IntOrTuple;
  padding: IntOrTuple | "same" | "valid";
  dilation: IntOrTuple;
}

/** A transpose convolution, described by its associated convolution. */
export interface TransposeProblem {
  N: number;
  batch: number;
  /** Channels of the transpose convolution's input (the associated conv's output). */
  inChannels: number;
  /** Channels of the transpose convolution's output. */
  outChannels: number;
  groups: number;
  /** Spatial size of the transpose convolution's input (the associated conv's `O`). */
  inputSize: number[];
  kernelSize: number[];
  /** Spatial size of the transpose convolution's output (the associated conv's `I`). */
  outputSize: number[];
  stride: IntOrTuple;
  padding: IntOrTuple;
  outputPadding: IntOrTuple;
  dilation: IntOrTuple;
}

/** Options of the random problems. */
export interface RandomProblemOptions {
  /** Draw groups > 1 (default true). */
  groups?: boolean;
  /** Allow `"same"` and `"valid"` (default true). */
  stringPadding?: boolean;
  /** Keep the output padding below the stride, as the input VJP needs (default false:
   * below `max(stride, dilation)`, as PyTorch allows). */
  outputPaddingBelowStride?: boolean;
}

interface Limits {
  maxInput: number;
  maxKernel: number;
  maxStride: number;
  maxPadding: number;
  maxBatch: number;
  maxChannels: number;
}

/** Smaller sizes for more dimensions, so that every problem stays cheap. */
function limits(n: number): Limits {
  if (n <= 2) {
    return {
      maxInput: 7,
      maxKernel: 3,
      maxStride: 3,
      maxPadding: 2,
      maxBatch: 3,
      maxChannels: 4,
    };
  }
  if (n === 3) {
    return {
      maxInput: 5,
      maxKernel: 3,
      maxStride: 2,
      maxPadding: 1,
      maxBatch: 2,
      maxChannels: 4,
    };
  }
  return { maxInput: 3, maxKernel: 2, maxStride: 2, maxPadding: 1, maxBatch: 2, maxChannels: 2 };
}

/** An integer in `lo..hi`. */
export function randomInt(rng: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

/** One entry per dimension, spelled as one integer when all are equal about half the time. */
function spell(rng: () => number, values: number[]): IntOrTuple {
  return values.every((v) => v === values[0]) && rng() < 0.5 ? values[0] : values;
}

/** Groups and channels per group, at most `maxChannels` channels in all. */
function channels(rng: () => number, limit: Limits, withGroups: boolean) {
  const groups = withGroups ? [1, 1, 2, 3][randomInt(rng, 0, 3)] : 1;
  const per = Math.max(1, Math.floor(limit.maxChannels / groups));
  return {
    groups,
    inChannels: groups * randomInt(rng, 1, per),
    outChannels: groups * randomInt(rng, 1, per),
  };
}

/**
 * Draws a convolution with `n` spatial dimensions: kernel, stride, dilation, padding (an
 * integer, a tuple, `"same"` when the stride is 1, or `"valid"`), then an input size that
 * the dilated kernel fits.
 *
 * @param rng A generator from `mulberry32`.
 * @param n Spatial dimensions.
 * @param options What may vary.
 * @returns The problem.
 */
export function randomConvProblem(
  rng: () => number,
  n: number,
  options: RandomProblemOptions = {},
): ConvProblem {
  const { groups: withGroups = true, stringPadding = true } = options;
  const limit = limits(n);
  const dims = Array.from({ length: n }, () => 0);
  const kernelSize = dims.map(() => randomInt(rng, 1, limit.maxKernel));
  const dilation = dims.map(() => randomInt(rng, 1, 2));
  const stride = dims.map(() => randomInt(rng, 1, limit.maxStride));
  const r = rng();
  let padding: ConvProblem["padding"];
  if (stringPadding && r < 0.15 && stride.every((s) => s === 1)) padding = "same";
  else if (stringPadding && r < 0.25) padding = "valid";
  else padding = spell(rng, dims.map(() => randomInt(rng, 0, limit.maxPadding)));
  const paddings = padding;
  const inputSize = kernelSize.map((k, d) => {
    const span = dilation[d] * (k - 1) + 1;
    let pad = 0;
    if (paddings === "same") pad = span;
    else if (typeof paddings === "number") pad = paddings;
    else if (paddings !== "valid") pad = paddings[d];
    const smallest = Math.max(1, span - 2 * pad);
    return randomInt(rng, smallest, Math.max(smallest, limit.maxInput));
  });
  const problem = {
    N: n,
    batch: randomInt(rng, 1, limit.maxBatch),
    ...channels(rng, limit, withGroups),
    inputSize,
    kernelSize,
    stride: spell(rng, stride),
    padding,
    dilation: spell(rng, dilation),
  };
  return { ...problem, outputSize: referenceOutputSize(inputSize, kernelSize, problem) };
}

/**
 * Draws a transpose convolution with `n` spatial dimensions: kernel, stride, dilation,
 * integer padding and output padding, and an input size whose output has size ≥ 1.
 *
 * @param rng A generator from `mulberry32`.
 * @param n Spatial dimensions.
 * @param options What may vary.
 * @returns The problem.
 */
export function randomTransposeProblem(
  rng: () => number,
  n: number,
  options: RandomProblemOptions = {},
): TransposeProblem {
  const { groups: withGroups = true, outputPaddingBelowStride = false } = options;
  const limit = limits(n);
  const dims = Array.from({ length: n }, () => 0);
  const kernelSize = dims.map(() => randomInt(rng, 1, limit.maxKernel));
  const dilation = dims.map(() => randomInt(rng, 1, 2));
  const stride = dims.map(() => randomInt(rng, 1, limit.maxStride));
  const inputSize = dims.map(() => randomInt(rng, 1, Math.min(limit.maxInput, 5)));
  const outputPadding = dims.map((_, d) =>
    randomInt(rng, 0, (outputPaddingBelowStride ? stride[d] : Math.max(stride[d], dilation[d])) - 1)
  );
  const padding = dims.map((_, d) => {
    let p = randomInt(rng, 0, limit.maxPadding);
    while (
      p > 0 &&
      referenceTransposeSize(
          inputSize[d],
          kernelSize[d],
          stride[d],
          p,
          outputPadding[d],
          dilation[d],
        ) < 1
    ) p--;
    return p;
  });
  const outputSize = dims.map((_, d) =>
    referenceTransposeSize(
      inputSize[d],
      kernelSize[d],
      stride[d],
      padding[d],
      outputPadding[d],
      dilation[d],
    )
  );
  return {
    N: n,
    batch: randomInt(rng, 1, limit.maxBatch),
    ...channels(rng, limit, withGroups),
    inputSize,
    kernelSize,
    outputSize,
    stride: spell(rng, stride),
    padding: spell(rng, padding),
    outputPadding: spell(rng, outputPadding),
    dilation: spell(rng, dilation),
  };
}

/** The hyperparameters of a problem as the grouped functionals take them. */
export function groupedOptions(p: ConvProblem) {
  return { stride: p.stride, padding: p.padding, dilation: p.dilation, groups: p.groups };
}

/** A problem's description for failure messages. */
export function describeProblem(p: ConvProblem | TransposeProblem): string {
  return JSON.stringify(p);
}
