// Direct nested-loop references for convolutions of any number N of spatial dimensions,
// with PyTorch semantics: the oracle the functionals and modules are tested against.
// Written to be obviously correct, not fast: every result is a sum over explicit
// (output position, kernel tap) pairs, accumulated in float64.
// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import type { NdArray } from "@einconv/runtime";

/** A hyperparameter: one integer for all spatial dimensions, or one per dimension. */
export type IntOrTuple = number | readonly number[];

/** Padding: an integer or `[left, right]` pair per dimension, one for all, or a string. */
export type ReferencePadding =
  | number
  | readonly (number | readonly [number, number])[]
  | "same"
  | "valid";

/** How a module fills the padded border, as PyTorch's `padding_mode`. */
export type PaddingMode = "zeros" | "reflect" | "replicate" | "circular";

/** Hyperparameters of a convolution (defaults: stride 1, padding 0, dilation 1, groups 1). */
export interface ReferenceConvOptions {
  /** Stride. */
  stride?: IntOrTuple;
  /** Padding; `"same"` pads `dilation·(K − 1)` in total, the smaller half on the left. */
  padding?: ReferencePadding;
  /** Dilation. */
  dilation?: IntOrTuple;
  /** Channel groups. */
  groups?: number;
}

/** Hyperparameters of a transpose convolution: the associated convolution's. */
export interface ReferenceTransposeOptions {
  /** Stride. */
  stride?: IntOrTuple;
  /** Padding (integers only). */
  padding?: IntOrTuple;
  /** Extra size on the right of the transpose convolution's output. */
  outputPadding?: IntOrTuple;
  /** The transpose convolution's output size; replaces `outputPadding` when given. */
  outputSize?: IntOrTuple;
  /** Dilation. */
  dilation?: IntOrTuple;
  /** Channel groups. */
  groups?: number;
}

/** Hyperparameters of a `ConvNd` module. */
export interface ReferenceModuleOptions extends ReferenceConvOptions {
  /** How the border is filled (default `"zeros"`). */
  paddingMode?: PaddingMode;
}

/** The gradients of a module's backward pass. */
export interface ReferenceGradients {
  /** With respect to the input, `[B, C_in, *I]`. */
  input: NdArray;
  /** With respect to the weight, `[C_out, C_in/G, *K]`. */
  weight: NdArray;
  /** With respect to the bias, `[C_out]`. */
  bias: NdArray;
}

/**
 * The `[left, right]` padding of every spatial dimension, as PyTorch and einconv read it:
 * `"valid"` is 0, `"same"` pads `D·(K − 1)` in total with the smaller half on the left
 * (stride 1 only), an integer pads both sides.
 *
 * @param kernelSize Kernel size of every dimension.
 * @param padding The padding as given.
 * @param stride Stride (default 1).
 * @param dilation Dilation (default 1).
 * @returns One `[left, right]` pair per dimension.
 *
 * @example "same" with an even dilated kernel
 * ```ts
 * import assert from "node:assert/strict";
 * import { referencePaddings } from "./_reference_conv.ts";
 *
 * assert.deepEqual(referencePaddings([4, 3], "same", 1, [3, 1]), [[4, 5], [1, 1]]);
 * assert.deepEqual(referencePaddings([3], [[0, 2]]), [[0, 2]]);
 * ```
 */
export function referencePaddings(
  kernelSize: readonly number[],
  padding: ReferencePadding = 0,
  stride: IntOrTuple = 1,
  dilation: IntOrTuple = 1,
): [number, number][] {
  const n = kernelSize.length;
  const strides = expand("stride", stride, n);
  const dilations = expand("dilation", dilation, n);
  return kernelSize.map((k, d): [number, number] => {
    if (padding === "valid") return [0, 0];
    if (padding === "same") {
      if (strides[d] !== 1) throw new RangeError(`reference: "same" needs stride 1`);
      const total = dilations[d] * (k - 1);
      const left = Math.floor(total / 2);
      return [left, total - left];
    }
    if (typeof padding !== "number" && padding.length !== n) {
      throw new RangeError(`reference: padding needs ${n} entries, got ${padding.length}`);
    }
    const entry = typeof padding === "number" ? padding : padding[d];
    return typeof entry === "number" ? [entry, entry] : [entry[0], entry[1]];
  });
}

/**
 * The output size of a convolution, `⌊(I + left + right − D·(K − 1) − 1) / S⌋ + 1` per
 * dimension; throws when the dilated kernel does not fit the padded input.
 *
 * @param inputSize `I`.
 * @param kernelSize `K`.
 * @param options Stride, padding, dilation.
 * @returns `O`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { referenceOutputSize } from "./_reference_conv.ts";
 *
 * assert.deepEqual(referenceOutputSize([9, 5], [3, 2], { stride: [2, 1], padding: "valid" }), [
 *   4,
 *   4,
 * ]);
 * ```
 */
export function referenceOutputSize(
  inputSize: readonly number[],
  kernelSize: readonly number[],
  options: ReferenceConvOptions = {},
): number[] {
  return convGeometry(inputSize, kernelSize, options).outputSize;
}

/**
 * The input size of a transpose convolution's output along one dimension, as PyTorch:
 * `(O − 1)·S − 2·P + D·(K − 1) + outputPadding + 1`.
 *
 * @param outputSize The associated convolution's output size `O` (the transpose input).
 * @param kernelSize `K`.
 * @param stride `S`.
 * @param padding `P`.
 * @param outputPadding Extra size on the right.
 * @param dilation `D`.
 * @returns The size `I`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { referenceTransposeSize } from "./_reference_conv.ts";
 *
 * assert.equal(referenceTransposeSize(5, 3, 2, 1, 1, 1), 10);
 * ```
 */
export function referenceTransposeSize(
  outputSize: number,
  kernelSize: number,
  stride: number,
  padding: number,
  outputPadding: number,
  dilation: number,
): number {
  return (outputSize - 1) * stride - 2 * padding + dilation * (kernelSize - 1) + outputPadding +
    1;
}

/**
 * Convolution forward pass, PyTorch's `convNd(x, weight, bias, ...)` for any N:
 * `out[b, co, o] = bias[co] + Σ_{ci, k} x[b, g·C_in/G + ci, o·S − P_left + k·D] w[co, ci, k]`,
 * reading zero outside the input.
 *
 * @param x Input `[B, C_in, *I]` (any strides and dtype).
 * @param weight Kernel `[C_out, C_in/G, *K]`.
 * @param bias `[C_out]`, or null/undefined for none.
 * @param options Stride, padding, dilation, groups.
 * @returns A new float64 tensor `[B, C_out, *O]`.
 *
 * @example A 1d convolution with a bias
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { referenceConv } from "./_reference_conv.ts";
 *
 * const out = referenceConv(tensor([[[1, 2, 3]]]), tensor([[[1, -1]]]), tensor([10]));
 * assert.deepEqual(Array.from(out.data), [9, 9]);
 * ```
 */
export function referenceConv(
  x: NdArray,
  weight: NdArray,
  bias?: NdArray | null,
  options: ReferenceConvOptions = {},
): NdArray {
  const [batch, inChannels, ...inputSize] = x.shape;
  const [outChannels, groupChannels, ...kernelSize] = weight.shape;
  const groups = options.groups ?? 1;
  checkChannels(inChannels, outChannels, groupChannels, groups);
  const geometry = convGeometry(inputSize, kernelSize, options);
  const { taps, inputCount, kernelCount, outputCount } = geometry;
  const xs = readFloat64(x);
  const ws = readFloat64(weight);
  const bs = bias ? readFloat64(bias) : new Float64Array(outChannels);
  const outGroup = outChannels / groups;
  const out = new Float64Array(batch * outChannels * outputCount);
  for (let b = 0; b < batch; b++) {
    for (let co = 0; co < outChannels; co++) {
      const g = Math.floor(co / outGroup);
      for (let o = 0; o < outputCount; o++) {
        let sum = bs[co];
        for (let ci = 0; ci < groupChannels; ci++) {
          const xBase = (b * inChannels + g * groupChannels + ci) * inputCount;
          const wBase = (co * groupChannels + ci) * kernelCount;
          for (let k = 0; k < kernelCount; k++) {
            const i = taps[o * kernelCount + k];
            if (i >= 0) sum += xs[xBase + i] * ws[wBase + k];
          }
        }
        out[(b * outChannels + co) * outputCount + o] = sum;
      }
    }
  }
  return ndarray(out, [batch, outChannels, ...geometry.outputSize]);
}

/**
 * Gradient of the convolution with respect to its input for an output gradient `v`:
 * `gx[b, g·C_in/G + ci, o·S − P_left + k·D] += v[b, co, o] w[co, ci, k]`.
 *
 * @param weight Kernel `[C_out, C_in/G, *K]`.
 * @param v Output gradient `[B, C_out, *O]`; `O` must be the convolution's output size.
 * @param inputSize The input's spatial size `I`.
 * @param options Stride, padding, dilation, groups.
 * @returns A new float64 tensor `[B, C_in, *I]`.
 *
 * @example The adjoint of a 1d convolution
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { referenceConvInputVjp } from "./_reference_conv.ts";
 *
 * const gx = referenceConvInputVjp(tensor([[[1, -1]]]), tensor([[[1, 2]]]), [3]);
 * assert.deepEqual(Array.from(gx.data), [1, 1, -2]);
 * ```
 */
export function referenceConvInputVjp(
  weight: NdArray,
  v: NdArray,
  inputSize: readonly number[],
  options: ReferenceConvOptions = {},
): NdArray {
  const kernelSize = weight.shape.slice(2);
  const geometry = convGeometry(inputSize, kernelSize, options);
  if (geometry.outputSize.join() !== v.shape.slice(2).join()) {
    throw new RangeError(
      `reference: v has spatial size [${
        v.shape.slice(2)
      }], the convolution gives [${geometry.outputSize}]`,
    );
  }
  return scatterToInput(weight, v, geometry, options.groups ?? 1);
}

/**
 * Gradient of the convolution with respect to its weight for an output gradient `v`:
 * `gw[co, ci, k] = Σ_{b, o} x[b, g·C_in/G + ci, o·S − P_left + k·D] v[b, co, o]`.
 *
 * @param x Input `[B, C_in, *I]`.
 * @param v Output gradient `[B, C_out, *O]`.
 * @param kernelSize `K`.
 * @param options Stride, padding, dilation, groups.
 * @returns A new float64 tensor `[C_out, C_in/G, *K]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { referenceConvWeightVjp } from "./_reference_conv.ts";
 *
 * const gw = referenceConvWeightVjp(tensor([[[1, 2, 3]]]), tensor([[[1, 1]]]), [2]);
 * assert.deepEqual(Array.from(gw.data), [3, 5]);
 * ```
 */
export function referenceConvWeightVjp(
  x: NdArray,
  v: NdArray,
  kernelSize: readonly number[],
  options: ReferenceConvOptions = {},
): NdArray {
  const [batch, inChannels, ...inputSize] = x.shape;
  const outChannels = v.shape[1];
  const groups = options.groups ?? 1;
  const groupChannels = inChannels / groups;
  checkChannels(inChannels, outChannels, groupChannels, groups);
  const geometry = convGeometry(inputSize, kernelSize, options);
  const { taps, inputCount, kernelCount, outputCount } = geometry;
  const xs = readFloat64(x);
  const vs = readFloat64(v);
  const outGroup = outChannels / groups;
  const out = new Float64Array(outChannels * groupChannels * kernelCount);
  for (let co = 0; co < outChannels; co++) {
    const g = Math.floor(co / outGroup);
    for (let ci = 0; ci < groupChannels; ci++) {
      for (let k = 0; k < kernelCount; k++) {
        let sum = 0;
        for (let b = 0; b < batch; b++) {
          const xBase = (b * inChannels + g * groupChannels + ci) * inputCount;
          const vBase = (b * outChannels + co) * outputCount;
          for (let o = 0; o < outputCount; o++) {
            const i = taps[o * kernelCount + k];
            if (i >= 0) sum += xs[xBase + i] * vs[vBase + o];
          }
        }
        out[(co * groupChannels + ci) * kernelCount + k] = sum;
      }
    }
  }
  return ndarray(out, [outChannels, groupChannels, ...kernelSize]);
}

/**
 * Unfold (im2col) in PyTorch's layout: `u[b, c·ΠK + k, o] = x[b, c, o·S − P_left + k·D]`,
 * zero outside the input; `k` and `o` are row-major flat indices.
 *
 * @param x Input `[B, C, *I]`.
 * @param kernelSize `K`.
 * @param options Stride, padding, dilation (groups must be 1).
 * @returns A new float64 tensor `[B, C·ΠK, ΠO]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { referenceUnfold } from "./_reference_conv.ts";
 *
 * const u = referenceUnfold(tensor([[[1, 2, 3]]]), [2]);
 * assert.deepEqual(u.shape, [1, 2, 2]);
 * assert.deepEqual(Array.from(u.data), [1, 2, 2, 3]);
 * ```
 */
export function referenceUnfold(
  x: NdArray,
  kernelSize: readonly number[],
  options: ReferenceConvOptions = {},
): NdArray {
  const [batch, channels, ...inputSize] = x.shape;
  const { taps, inputCount, kernelCount, outputCount } = convGeometry(
    inputSize,
    kernelSize,
    options,
  );
  const xs = readFloat64(x);
  const out = new Float64Array(batch * channels * kernelCount * outputCount);
  for (let bc = 0; bc < batch * channels; bc++) {
    for (let k = 0; k < kernelCount; k++) {
      for (let o = 0; o < outputCount; o++) {
        const i = taps[o * kernelCount + k];
        if (i >= 0) out[(bc * kernelCount + k) * outputCount + o] = xs[bc * inputCount + i];
      }
    }
  }
  return ndarray(out, [batch, channels * kernelCount, outputCount]);
}

/**
 * The KFC factor: per group `g`, `(1/B) Σ_{b, o} u_g[b, :, o] u_g[b, :, o]ᵀ` where
 * `u_g[b, ci·ΠK + k, o] = x[b, g·C/G + ci, o·S − P_left + k·D]`.
 *
 * @param x Input `[B, C, *I]`.
 * @param kernelSize `K`.
 * @param options Stride, padding, dilation, groups.
 * @returns A new float64 tensor `[G, C/G·ΠK, C/G·ΠK]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { referenceKfc } from "./_reference_conv.ts";
 *
 * const omega = referenceKfc(tensor([[[1, 2, 3]]]), [2]);
 * assert.deepEqual(Array.from(omega.data), [5, 8, 8, 13]);
 * ```
 */
export function referenceKfc(
  x: NdArray,
  kernelSize: readonly number[],
  options: ReferenceConvOptions = {},
): NdArray {
  const geometry = convGeometry(x.shape.slice(2), kernelSize, options);
  return kroneckerFactor(x, geometry, options.groups ?? 1, false, 1 / x.shape[0]);
}

/**
 * The KFAC-reduce factor: per group, `1/(B·ΠO²) Σ_b (u_g[b] 1)(u_g[b] 1)ᵀ`, with the unfolded
 * input `u_g` of {@linkcode referenceKfc} summed over output positions.
 *
 * @param x Input `[B, C, *I]`.
 * @param kernelSize `K`.
 * @param options Stride, padding, dilation, groups.
 * @returns A new float64 tensor `[G, C/G·ΠK, C/G·ΠK]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { referenceKfacReduce } from "./_reference_conv.ts";
 *
 * const omega = referenceKfacReduce(tensor([[[1, 2, 3]]]), [2]);
 * assert.deepEqual(Array.from(omega.data), [9 / 4, 15 / 4, 15 / 4, 25 / 4]);
 * ```
 */
export function referenceKfacReduce(
  x: NdArray,
  kernelSize: readonly number[],
  options: ReferenceConvOptions = {},
): NdArray {
  const geometry = convGeometry(x.shape.slice(2), kernelSize, options);
  const scale = 1 / (x.shape[0] * geometry.outputCount ** 2);
  return kroneckerFactor(x, geometry, options.groups ?? 1, true, scale);
}

/**
 * The unfolded input of a transpose convolution: `t[b, c·ΠK + k, i] = x[b, c, o]` where
 * `i = o·S − P + k·D` (the associated convolution's taps, summed over `o`), with
 * `I = (O − 1)·S − 2·P + D·(K − 1) + outputPadding + 1`.
 *
 * @param x The transpose convolution's input `[B, C, *O]`.
 * @param kernelSize `K`.
 * @param options The associated convolution's stride, padding, dilation, and the output
 *   padding (or output size).
 * @returns A new float64 tensor `[B, C·ΠK, ΠI]`.
 *
 * @example Stride 2 spreads the input out
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { referenceUnfoldTranspose } from "./_reference_conv.ts";
 *
 * const t = referenceUnfoldTranspose(tensor([[[1, 2]]]), [1], { stride: 2 });
 * assert.deepEqual(Array.from(t.data), [1, 0, 2]);
 * ```
 */
export function referenceUnfoldTranspose(
  x: NdArray,
  kernelSize: readonly number[],
  options: ReferenceTransposeOptions = {},
): NdArray {
  const [batch, channels] = x.shape;
  const geometry = transposeGeometry(x.shape.slice(2), kernelSize, options);
  const { taps, inputCount, kernelCount, outputCount } = geometry;
  const xs = readFloat64(x);
  const out = new Float64Array(batch * channels * kernelCount * inputCount);
  for (let bc = 0; bc < batch * channels; bc++) {
    for (let o = 0; o < outputCount; o++) {
      for (let k = 0; k < kernelCount; k++) {
        const i = taps[o * kernelCount + k];
        if (i >= 0) out[(bc * kernelCount + k) * inputCount + i] += xs[bc * outputCount + o];
      }
    }
  }
  return ndarray(out, [batch, channels * kernelCount, inputCount]);
}

/**
 * The KFAC-reduce factor of a transpose convolution: per group,
 * `1/(B·ΠI²) Σ_b (t_g[b] 1)(t_g[b] 1)ᵀ` with `t` the unfolded input of
 * {@linkcode referenceUnfoldTranspose}.
 *
 * @param x The transpose convolution's input `[B, C, *O]`.
 * @param kernelSize `K`.
 * @param options Stride, padding, dilation, groups, and output padding or output size.
 * @returns A new float64 tensor `[G, C/G·ΠK, C/G·ΠK]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { referenceTransposeKfacReduce } from "./_reference_conv.ts";
 *
 * const omega = referenceTransposeKfacReduce(tensor([[[1, 2]]]), [1], { stride: 2 });
 * assert.deepEqual(Array.from(omega.data), [1]);
 * ```
 */
export function referenceTransposeKfacReduce(
  x: NdArray,
  kernelSize: readonly number[],
  options: ReferenceTransposeOptions = {},
): NdArray {
  const geometry = transposeGeometry(x.shape.slice(2), kernelSize, options);
  const [batch, channels] = x.shape;
  const groups = options.groups ?? 1;
  if (channels % groups !== 0) throw new RangeError("reference: groups must divide channels");
  const { taps, kernelCount, outputCount } = geometry;
  const groupChannels = channels / groups;
  const size = groupChannels * kernelCount;
  const xs = readFloat64(x);
  const out = new Float64Array(groups * size * size);
  const sums = new Float64Array(size);
  for (let b = 0; b < batch; b++) {
    for (let g = 0; g < groups; g++) {
      sums.fill(0);
      for (let ci = 0; ci < groupChannels; ci++) {
        const xBase = (b * channels + g * groupChannels + ci) * outputCount;
        for (let o = 0; o < outputCount; o++) {
          for (let k = 0; k < kernelCount; k++) {
            if (taps[o * kernelCount + k] >= 0) sums[ci * kernelCount + k] += xs[xBase + o];
          }
        }
      }
      addOuter(out, g * size * size, sums);
    }
  }
  const scale = 1 / (batch * geometry.inputCount ** 2);
  for (let j = 0; j < out.length; j++) out[j] *= scale;
  return ndarray(out, [groups, size, size]);
}

/**
 * PyTorch's `conv_transposeNd(x, weight, bias, ...)`: the input VJP of the associated
 * convolution, whose weight `[C_out_conv, C_in_conv/G, *K]` is the transpose weight
 * `[C_in, C_out/G, *K]`, plus the bias; output padding may reach up to
 * `max(stride, dilation) − 1` as in PyTorch.
 *
 * @param x Input `[B, C_in, *O]`.
 * @param weight Kernel `[C_in, C_out/G, *K]`.
 * @param bias `[C_out]`, or null/undefined for none.
 * @param options Stride, padding (integers), output padding, dilation, groups.
 * @returns A new float64 tensor `[B, C_out, *I]`,
 *   `I = (O − 1)·S − 2·P + D·(K − 1) + outputPadding + 1`.
 *
 * @example Stride 2 upsamples
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { referenceConvTranspose } from "./_reference_conv.ts";
 *
 * const y = referenceConvTranspose(tensor([[[1, 2]]]), tensor([[[1, 1]]]), null, { stride: 2 });
 * assert.deepEqual(Array.from(y.data), [1, 1, 2, 2]);
 * ```
 */
export function referenceConvTranspose(
  x: NdArray,
  weight: NdArray,
  bias?: NdArray | null,
  options: ReferenceTransposeOptions = {},
): NdArray {
  const groups = options.groups ?? 1;
  const geometry = transposeGeometry(x.shape.slice(2), weight.shape.slice(2), options);
  const out = scatterToInput(weight, x, geometry, groups);
  if (bias) addBias(out, readFloat64(bias));
  return out;
}

/**
 * Pads the spatial dimensions of `[B, C, *I]` as PyTorch's `F.pad` with mode `"constant"`
 * (zeros), `"reflect"` (mirror without repeating the edge), `"replicate"` (repeat the
 * edge) or `"circular"` (wrap around).
 *
 * @param x Input `[B, C, *I]`.
 * @param paddings `[left, right]` per spatial dimension.
 * @param mode The padding mode.
 * @returns A new float64 tensor `[B, C, *(I + left + right)]`.
 *
 * @example The four modes in 1d
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { referencePad } from "./_reference_conv.ts";
 *
 * const x = tensor([[[1, 2, 3]]]);
 * assert.deepEqual(Array.from(referencePad(x, [[2, 1]], "zeros").data), [0, 0, 1, 2, 3, 0]);
 * assert.deepEqual(Array.from(referencePad(x, [[2, 1]], "reflect").data), [3, 2, 1, 2, 3, 2]);
 * assert.deepEqual(Array.from(referencePad(x, [[2, 1]], "replicate").data), [1, 1, 1, 2, 3, 3]);
 * assert.deepEqual(Array.from(referencePad(x, [[2, 1]], "circular").data), [2, 3, 1, 2, 3, 1]);
 * ```
 */
export function referencePad(
  x: NdArray,
  paddings: readonly (readonly [number, number])[],
  mode: PaddingMode,
): NdArray {
  const [batch, channels, ...inputSize] = x.shape;
  const { sources, paddedSize, paddedCount } = padSources(inputSize, paddings, mode);
  const inputCount = product(inputSize);
  const xs = readFloat64(x);
  const out = new Float64Array(batch * channels * paddedCount);
  for (let bc = 0; bc < batch * channels; bc++) {
    for (let q = 0; q < paddedCount; q++) {
      const i = sources[q];
      if (i >= 0) out[bc * paddedCount + q] = xs[bc * inputCount + i];
    }
  }
  return ndarray(out, [batch, channels, ...paddedSize]);
}

/**
 * The adjoint of {@linkcode referencePad}: every padded position's gradient is added to
 * the input position it was copied from.
 *
 * @param gradPadded Gradient of the padded tensor `[B, C, *(I + left + right)]`.
 * @param inputSize The unpadded spatial size `I`.
 * @param paddings `[left, right]` per spatial dimension.
 * @param mode The padding mode.
 * @returns A new float64 tensor `[B, C, *I]`.
 *
 * @example Reflection adds the mirrored gradients
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { referencePadVjp } from "./_reference_conv.ts";
 *
 * const g = referencePadVjp(tensor([[[1, 1, 1, 1, 1]]]), [3], [[1, 1]], "reflect");
 * assert.deepEqual(Array.from(g.data), [1, 3, 1]);
 * ```
 */
export function referencePadVjp(
  gradPadded: NdArray,
  inputSize: readonly number[],
  paddings: readonly (readonly [number, number])[],
  mode: PaddingMode,
): NdArray {
  const [batch, channels] = gradPadded.shape;
  const { sources, paddedCount } = padSources(inputSize, paddings, mode);
  const inputCount = product(inputSize);
  const gs = readFloat64(gradPadded);
  const out = new Float64Array(batch * channels * inputCount);
  for (let bc = 0; bc < batch * channels; bc++) {
    for (let q = 0; q < paddedCount; q++) {
      const i = sources[q];
      if (i >= 0) out[bc * inputCount + i] += gs[bc * paddedCount + q];
    }
  }
  return ndarray(out, [batch, channels, ...inputSize]);
}

/**
 * PyTorch's `ConvNd` module forward pass: zero padding inside the convolution, other
 * modes pad explicitly (`"same"` as for zeros) and then convolve without padding.
 *
 * @param x Input `[B, C_in, *I]`.
 * @param weight Kernel `[C_out, C_in/G, *K]`.
 * @param bias `[C_out]`, or null for none.
 * @param options Stride, padding, dilation, groups, padding mode.
 * @returns A new float64 tensor `[B, C_out, *O]`.
 *
 * @example Circular padding
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { referenceConvModuleForward } from "./_reference_conv.ts";
 *
 * const x = tensor([[[1, 2, 3]]]);
 * const y = referenceConvModuleForward(x, tensor([[[1, 0, 0]]]), null, {
 *   padding: 1,
 *   paddingMode: "circular",
 * });
 * assert.deepEqual(Array.from(y.data), [3, 1, 2]);
 * ```
 */
export function referenceConvModuleForward(
  x: NdArray,
  weight: NdArray,
  bias: NdArray | null,
  options: ReferenceModuleOptions = {},
): NdArray {
  const { paddingMode = "zeros", ...conv } = options;
  if (paddingMode === "zeros") return referenceConv(x, weight, bias, conv);
  const paddings = modulePaddings(weight, conv);
  return referenceConv(referencePad(x, paddings, paddingMode), weight, bias, {
    ...conv,
    padding: 0,
  });
}

/**
 * PyTorch's `ConvNd` module backward pass for an output gradient: the gradients with
 * respect to input, weight and bias.
 *
 * @param x Input `[B, C_in, *I]`.
 * @param weight Kernel `[C_out, C_in/G, *K]`.
 * @param gradOutput `[B, C_out, *O]`.
 * @param options Stride, padding, dilation, groups, padding mode.
 * @returns New float64 tensors `{ input, weight, bias }`.
 *
 * @example Replicate padding sends the border's gradient to the edge
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { referenceConvModuleBackward } from "./_reference_conv.ts";
 *
 * const grads = referenceConvModuleBackward(
 *   tensor([[[1, 2]]]),
 *   tensor([[[1]]]),
 *   tensor([[[1, 1, 1, 1]]]),
 *   { padding: 1, paddingMode: "replicate" },
 * );
 * assert.deepEqual(Array.from(grads.input.data), [2, 2]);
 * assert.deepEqual(Array.from(grads.weight.data), [6]);
 * assert.deepEqual(Array.from(grads.bias.data), [4]);
 * ```
 */
export function referenceConvModuleBackward(
  x: NdArray,
  weight: NdArray,
  gradOutput: NdArray,
  options: ReferenceModuleOptions = {},
): ReferenceGradients {
  const { paddingMode = "zeros", ...conv } = options;
  const inputSize = x.shape.slice(2);
  const kernelSize = weight.shape.slice(2);
  const bias = sumToChannels(gradOutput);
  if (paddingMode === "zeros") {
    return {
      input: referenceConvInputVjp(weight, gradOutput, inputSize, conv),
      weight: referenceConvWeightVjp(x, gradOutput, kernelSize, conv),
      bias,
    };
  }
  const paddings = modulePaddings(weight, conv);
  const padded = referencePad(x, paddings, paddingMode);
  const unpadded = { ...conv, padding: 0 };
  const gradPadded = referenceConvInputVjp(weight, gradOutput, padded.shape.slice(2), unpadded);
  return {
    input: referencePadVjp(gradPadded, inputSize, paddings, paddingMode),
    weight: referenceConvWeightVjp(padded, gradOutput, kernelSize, unpadded),
    bias,
  };
}

/** Where every (output position, kernel tap) pair reads the input. */
interface Geometry {
  inputSize: number[];
  outputSize: number[];
  inputCount: number;
  kernelCount: number;
  outputCount: number;
  /** `taps[o·ΠK + k]`: the row-major input position read, or -1 for padding. */
  taps: Int32Array;
}

/** The geometry of a convolution, its output size computed from the input size. */
function convGeometry(
  inputSize: readonly number[],
  kernelSize: readonly number[],
  options: ReferenceConvOptions,
): Geometry {
  const n = inputSize.length;
  if (kernelSize.length !== n) throw new RangeError("reference: kernel and input ranks differ");
  const stride = expand("stride", options.stride ?? 1, n);
  const dilation = expand("dilation", options.dilation ?? 1, n);
  const paddings = referencePaddings(kernelSize, options.padding ?? 0, stride, dilation);
  const outputSize = inputSize.map((size, d) => {
    const span = dilation[d] * (kernelSize[d] - 1) + 1;
    const padded = size + paddings[d][0] + paddings[d][1];
    if (padded < span) throw new RangeError("reference: the kernel does not fit the input");
    return Math.floor((padded - span) / stride[d]) + 1;
  });
  return tapGeometry(
    inputSize,
    kernelSize,
    outputSize,
    stride,
    paddings.map(([left]) => left),
    dilation,
  );
}

/** The geometry of the convolution associated with a transpose convolution, whose input
 * (the convolution's output) has size `outputSize`. */
function transposeGeometry(
  outputSize: readonly number[],
  kernelSize: readonly number[],
  options: ReferenceTransposeOptions,
): Geometry {
  const n = outputSize.length;
  const stride = expand("stride", options.stride ?? 1, n);
  const padding = expand("padding", options.padding ?? 0, n);
  const dilation = expand("dilation", options.dilation ?? 1, n);
  const inputSize = options.outputSize !== undefined
    ? expand("outputSize", options.outputSize, n)
    : expand("outputPadding", options.outputPadding ?? 0, n).map((extra, d) =>
      referenceTransposeSize(
        outputSize[d],
        kernelSize[d],
        stride[d],
        padding[d],
        extra,
        dilation[d],
      )
    );
  return tapGeometry(inputSize, kernelSize, outputSize, stride, padding, dilation);
}

/** Builds the tap table with two odometers, over output positions and kernel taps. */
function tapGeometry(
  inputSize: readonly number[],
  kernelSize: readonly number[],
  outputSize: readonly number[],
  stride: readonly number[],
  paddingLeft: readonly number[],
  dilation: readonly number[],
): Geometry {
  const n = inputSize.length;
  const kernelCount = product(kernelSize);
  const outputCount = product(outputSize);
  const taps = new Int32Array(outputCount * kernelCount);
  const o = new Array<number>(n).fill(0);
  const k = new Array<number>(n).fill(0);
  for (let of = 0; of < outputCount; of++) {
    for (let kf = 0; kf < kernelCount; kf++) {
      let flat = 0;
      for (let d = 0; d < n; d++) {
        const i = o[d] * stride[d] - paddingLeft[d] + k[d] * dilation[d];
        if (i < 0 || i >= inputSize[d]) {
          flat = -1;
          break;
        }
        flat = flat * inputSize[d] + i;
      }
      taps[of * kernelCount + kf] = flat;
      advance(k, kernelSize);
    }
    advance(o, outputSize);
  }
  return {
    inputSize: [...inputSize],
    outputSize: [...outputSize],
    inputCount: product(inputSize),
    kernelCount,
    outputCount,
    taps,
  };
}

/** `gx[b, g·C_in/G + ci, tap(o, k)] += v[b, co, o] w[co, ci, k]` over a geometry. */
function scatterToInput(
  weight: NdArray,
  v: NdArray,
  geometry: Geometry,
  groups: number,
): NdArray {
  const [outChannels, groupChannels] = weight.shape;
  const batch = v.shape[0];
  if (v.shape[1] !== outChannels) throw new RangeError("reference: v and weight channels differ");
  const inChannels = groupChannels * groups;
  checkChannels(inChannels, outChannels, groupChannels, groups);
  const { taps, inputCount, kernelCount, outputCount } = geometry;
  const { inputSize } = geometry;
  const ws = readFloat64(weight);
  const vs = readFloat64(v);
  const outGroup = outChannels / groups;
  const out = new Float64Array(batch * inChannels * inputCount);
  for (let b = 0; b < batch; b++) {
    for (let co = 0; co < outChannels; co++) {
      const g = Math.floor(co / outGroup);
      for (let o = 0; o < outputCount; o++) {
        const value = vs[(b * outChannels + co) * outputCount + o];
        for (let ci = 0; ci < groupChannels; ci++) {
          const xBase = (b * inChannels + g * groupChannels + ci) * inputCount;
          const wBase = (co * groupChannels + ci) * kernelCount;
          for (let k = 0; k < kernelCount; k++) {
            const i = taps[o * kernelCount + k];
            if (i >= 0) out[xBase + i] += value * ws[wBase + k];
          }
        }
      }
    }
  }
  return ndarray(out, [batch, inChannels, ...inputSize]);
}

/** KFC (`reduce` false: outer products per output position) or KFAC-reduce (`reduce`
 * true: outer product of the sum over output positions), times `scale`. */
function kroneckerFactor(
  x: NdArray,
  geometry: Geometry,
  groups: number,
  reduce: boolean,
  scale: number,
): NdArray {
  const [batch, channels] = x.shape;
  if (channels % groups !== 0) throw new RangeError("reference: groups must divide channels");
  const { taps, inputCount, kernelCount, outputCount } = geometry;
  const groupChannels = channels / groups;
  const size = groupChannels * kernelCount;
  const xs = readFloat64(x);
  const out = new Float64Array(groups * size * size);
  const column = new Float64Array(size);
  for (let b = 0; b < batch; b++) {
    for (let g = 0; g < groups; g++) {
      column.fill(0);
      for (let o = 0; o < outputCount; o++) {
        if (!reduce) column.fill(0);
        for (let ci = 0; ci < groupChannels; ci++) {
          const xBase = (b * channels + g * groupChannels + ci) * inputCount;
          for (let k = 0; k < kernelCount; k++) {
            const i = taps[o * kernelCount + k];
            if (i >= 0) column[ci * kernelCount + k] += xs[xBase + i];
          }
        }
        if (!reduce) addOuter(out, g * size * size, column);
      }
      if (reduce) addOuter(out, g * size * size, column);
    }
  }
  for (let j = 0; j < out.length; j++) out[j] *= scale;
  return ndarray(out, [groups, size, size]);
}

/** `out[at + r·n + c] += u[r] u[c]`. */
function addOuter(out: Float64Array, at: number, u: Float64Array): void {
  const n = u.length;
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) out[at + r * n + c] += u[r] * u[c];
  }
}

/** For every padded position (row-major), the input position it copies, or -1. */
function padSources(
  inputSize: readonly number[],
  paddings: readonly (readonly [number, number])[],
  mode: PaddingMode,
): { sources: Int32Array; paddedSize: number[]; paddedCount: number } {
  const n = inputSize.length;
  const paddedSize = inputSize.map((size, d) => size + paddings[d][0] + paddings[d][1]);
  const paddedCount = product(paddedSize);
  const sources = new Int32Array(paddedCount);
  const q = new Array<number>(n).fill(0);
  for (let flat = 0; flat < paddedCount; flat++) {
    let source = 0;
    for (let d = 0; d < n; d++) {
      const i = sourceIndex(q[d] - paddings[d][0], inputSize[d], mode);
      if (i < 0) {
        source = -1;
        break;
      }
      source = source * inputSize[d] + i;
    }
    sources[flat] = source;
    advance(q, paddedSize);
  }
  return { sources, paddedSize, paddedCount };
}

/** The input index that padded index `p` (relative to the input's start) copies. */
function sourceIndex(p: number, size: number, mode: PaddingMode): number {
  if (p >= 0 && p < size) return p;
  switch (mode) {
    case "zeros":
      return -1;
    case "replicate":
      return p < 0 ? 0 : size - 1;
    case "circular":
      if (p < -size || p >= 2 * size) throw new RangeError("reference: circular pad too large");
      return ((p % size) + size) % size;
    case "reflect": {
      const i = p < 0 ? -p : 2 * (size - 1) - p;
      if (i < 0 || i >= size) throw new RangeError("reference: reflect pad too large");
      return i;
    }
  }
}

/** The `[left, right]` paddings of a module, from its padding and weight. */
function modulePaddings(weight: NdArray, conv: ReferenceConvOptions): [number, number][] {
  return referencePaddings(
    weight.shape.slice(2),
    conv.padding ?? 0,
    conv.stride ?? 1,
    conv.dilation ?? 1,
  );
}

/** `Σ_{b, spatial} g[b, c, ...]` as a new `[C]` tensor. */
function sumToChannels(g: NdArray): NdArray {
  const [batch, channels] = g.shape;
  const inner = product(g.shape.slice(2));
  const gs = readFloat64(g);
  const out = new Float64Array(channels);
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      for (let j = 0; j < inner; j++) out[c] += gs[(b * channels + c) * inner + j];
    }
  }
  return ndarray(out, [channels]);
}

/** Adds `bias[c]` to a C-contiguous `[B, C, ...]` float64 tensor in place. */
function addBias(out: NdArray, bias: Float64Array): void {
  const [batch, channels] = out.shape;
  if (bias.length !== channels) throw new RangeError("reference: bias length differs");
  const inner = product(out.shape.slice(2));
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      for (let j = 0; j < inner; j++) out.data[(b * channels + c) * inner + j] += bias[c];
    }
  }
}

/** Reads any strided tensor into a new row-major Float64Array. */
function readFloat64(x: NdArray): Float64Array {
  const count = product(x.shape);
  const out = new Float64Array(count);
  const index = new Array<number>(x.shape.length).fill(0);
  for (let flat = 0; flat < count; flat++) {
    let at = x.offset;
    for (let d = 0; d < index.length; d++) at += index[d] * x.stride[d];
    out[flat] = x.data[at];
    advance(index, x.shape);
  }
  return out;
}

/** Steps a row-major odometer; the last axis moves fastest. */
function advance(index: number[], shape: readonly number[]): void {
  for (let d = index.length - 1; d >= 0; d--) {
    if (++index[d] < shape[d]) return;
    index[d] = 0;
  }
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** One entry per dimension from an integer or a tuple. */
function expand(name: string, value: IntOrTuple, n: number): number[] {
  const values = typeof value === "number" ? new Array<number>(n).fill(value) : [...value];
  if (values.length !== n) throw new RangeError(`reference: ${name} needs ${n} entries`);
  return values;
}

function checkChannels(
  inChannels: number,
  outChannels: number,
  groupChannels: number,
  groups: number,
): void {
  if (groupChannels * groups !== inChannels || outChannels % groups !== 0) {
    throw new RangeError(
      `reference: groups=${groups} does not fit inChannels=${inChannels}, outChannels=${outChannels}`,
    );
  }
}
