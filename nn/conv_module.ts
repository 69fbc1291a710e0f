import {
  assign,
  checkOptionKeys,
  checkOutput,
  checkTensor,
  describeValue,
  type DType,
  dtypeOf,
  type NdArray,
  zeros,
} from "@einconv/runtime";
import { einsum } from "@einconv/workers";
import {
  convOutputSize,
  convPaddings,
  type IntOrTuple,
  type Padding,
  readHyperparameter,
  readPadding,
} from "@einconv/expressions";
import { checkBias } from "./_bias.ts";
import { type PaddingMode, padNd, padNdAdjoint } from "./_pad.ts";
import { seededUniform } from "./_seeded_uniform.ts";
import { convNd } from "./conv_nd.ts";
import { convNdInputVjp } from "./conv_nd_input_vjp.ts";
import { convNdWeightVjp } from "./conv_nd_weight_vjp.ts";
import type { OutputOptions } from "./output_options.ts";

export type { PaddingMode } from "./_pad.ts";

/** Options of {@linkcode ConvNd}, as PyTorch's `nn.ConvNd` takes them. */
export interface ConvNdOptions {
  /** Input channels `C_in`. */
  inChannels: number;
  /** Output channels `C_out`. */
  outChannels: number;
  /** Kernel size; its length sets N, or give `N` with a number. */
  kernelSize: IntOrTuple;
  /** Number of spatial dimensions when `kernelSize` is a number (default 2). */
  N?: number;
  /** Stride (default 1). */
  stride?: IntOrTuple;
  /** Padding: integers, `"same"` or `"valid"` (default 0). */
  padding?: Padding;
  /** Dilation (default 1). */
  dilation?: IntOrTuple;
  /** Channel groups (default 1), dividing both channel counts. */
  groups?: number;
  /** Whether the module has a bias (default true). */
  bias?: boolean;
  /** How to pad: `"zeros"` (default), `"reflect"`, `"replicate"` or `"circular"`. */
  paddingMode?: PaddingMode;
  /** Element type of the parameters (default `"float32"`). */
  dtype?: DType;
  /** Seed of the reproducible initialisation (default: random). */
  seed?: number;
}

/** Gradients returned by {@linkcode ConvNd.backward}. */
export interface ConvNdGradients {
  /** Gradient with respect to the input. */
  input: NdArray;
  /** Gradient with respect to the weight. */
  weight: NdArray;
  /** Gradient with respect to the bias, `null` without bias. */
  bias: NdArray | null;
}

/** Where {@linkcode ConvNd.backward} writes its gradients: each one given receives its
 * gradient (of its shape, any strides) and is returned in place of a new array. Reusing
 * them across steps spares the page faults of fresh memory. */
export interface ConvNdGradientOutputs {
  /** Receives the gradient with respect to the input (the shape of `x`). */
  input?: NdArray;
  /** Receives the gradient with respect to the weight (the weight's shape). */
  weight?: NdArray;
  /** Receives the gradient with respect to the bias (`[outChannels]`); only for a layer
   * with a bias. */
  bias?: NdArray;
}

const PADDING_MODES: readonly PaddingMode[] = ["zeros", "reflect", "replicate", "circular"];

/**
 * An N-d convolution layer with PyTorch's `nn.Conv1d/2d/3d` semantics for any N:
 * parameters initialised like PyTorch (uniform in ±1/sqrt(fan_in)), padding modes,
 * `forward` and `backward`.
 *
 * @example Forward and backward of a 2-d layer
 * ```ts
 * import assert from "node:assert/strict";
 * import { zeros } from "@einconv/runtime";
 * import { ConvNd } from "@einconv/nn";
 *
 * const conv = new ConvNd({ inChannels: 3, outChannels: 4, kernelSize: [3, 3], padding: 1, seed: 0 });
 * const x = zeros([2, 3, 8, 8], "float32");
 * const y = await conv.forward(x);
 * assert.deepEqual(y.shape, [2, 4, 8, 8]);
 * const grads = await conv.backward(x, y);
 * assert.deepEqual(grads.weight.shape, [4, 3, 3, 3]);
 * assert.deepEqual(grads.bias?.shape, [4]);
 * ```
 */
export class ConvNd {
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels. */
  readonly outChannels: number;
  /** Kernel size per spatial dimension. */
  readonly kernelSize: readonly number[];
  /** Stride per spatial dimension. */
  readonly stride: readonly number[];
  /** Padding per spatial dimension, or `"same"` / `"valid"`. */
  readonly padding: readonly number[] | "same" | "valid";
  /** Dilation per spatial dimension. */
  readonly dilation: readonly number[];
  /** Channel groups. */
  readonly groups: number;
  /** How the input is padded. */
  readonly paddingMode: PaddingMode;
  /** Element type of the parameters. */
  readonly dtype: DType;
  #weight: NdArray;
  #bias: NdArray | null;

  /**
   * Creates the layer and initialises its parameters.
   *
   * @param options Channels, kernel size and the hyperparameters of PyTorch's ConvNd.
   */
  constructor(options: ConvNdOptions) {
    if (options === null || typeof options !== "object") {
      throw new TypeError(`Cannot read options: expected an object, got ${describeValue(options)}`);
    }
    const n = Array.isArray(options.kernelSize)
      ? options.kernelSize.length
      : readPositive("N", options.N ?? 2);
    this.inChannels = readPositive("inChannels", options.inChannels);
    this.outChannels = readPositive("outChannels", options.outChannels);
    this.kernelSize = readHyperparameter("kernelSize", options.kernelSize, n);
    this.stride = readHyperparameter("stride", options.stride ?? 1, n);
    this.padding = readPadding(options.padding ?? 0, n);
    this.dilation = readHyperparameter("dilation", options.dilation ?? 1, n);
    this.groups = readPositive("groups", options.groups ?? 1);
    for (
      const [name, channels] of [["inChannels", this.inChannels], [
        "outChannels",
        this.outChannels,
      ]] as const
    ) {
      if (channels % this.groups !== 0) {
        throw new RangeError(
          `Cannot build ConvNd: groups=${this.groups} does not divide ${name}=${channels}`,
        );
      }
    }
    this.paddingMode = options.paddingMode ?? "zeros";
    if (!PADDING_MODES.includes(this.paddingMode)) {
      throw new RangeError(
        `Cannot read paddingMode: expected one of ${
          PADDING_MODES.map((m) => JSON.stringify(m)).join(", ")
        }, got ${describeValue(this.paddingMode)}`,
      );
    }
    this.dtype = options.dtype ?? "float32";
    if (this.dtype !== "float32" && this.dtype !== "float64") {
      throw new TypeError(
        `Cannot read dtype: expected "float32" or "float64", got ${describeValue(this.dtype)}`,
      );
    }
    const bias = options.bias ?? true;
    if (typeof bias !== "boolean") {
      throw new TypeError(`Cannot read bias: expected true or false, got ${describeValue(bias)}`);
    }
    if (options.seed !== undefined && !Number.isInteger(options.seed)) {
      throw new TypeError(
        `Cannot read seed: expected an integer, got ${describeValue(options.seed)}`,
      );
    }
    this.#paddings(); // rejects "same" with a stride other than 1
    const groupChannels = this.inChannels / this.groups;
    const fanIn = groupChannels * this.kernelSize.reduce((a, b) => a * b, 1);
    const bound = 1 / Math.sqrt(fanIn);
    const uniform = seededUniform(options.seed);
    this.#weight = zeros([this.outChannels, groupChannels, ...this.kernelSize], this.dtype);
    this.#weight.data.forEach((_, i, data) => (data[i] = uniform(bound)));
    this.#bias = bias ? zeros([this.outChannels], this.dtype) : null;
    this.#bias?.data.forEach((_, i, data) => (data[i] = uniform(bound)));
  }

  /** The weight `[C_out, C_in/G, *K]`; a new value must have that shape and dtype. */
  get weight(): NdArray {
    return this.#weight;
  }

  set weight(value: NdArray) {
    checkTensor(value, "weight");
    const shape = [this.outChannels, this.inChannels / this.groups, ...this.kernelSize];
    checkParameter(value, "weight", shape, this.dtype);
    this.#weight = value;
  }

  /** The bias `[C_out]`, or `null` for a layer without bias. */
  get bias(): NdArray | null {
    return this.#bias;
  }

  set bias(value: NdArray | null) {
    if (value === null) {
      this.#bias = null;
      return;
    }
    checkBias(value, this.outChannels);
    checkParameter(value, "bias", [this.outChannels], this.dtype);
    this.#bias = value;
  }

  /**
   * Applies the convolution.
   *
   * @param x Input `[B, C_in, *I]`.
   * @param options `out`: write the output into this ndarray and return it.
   * @returns A Promise of the output `[B, C_out, *O]` (or of `out`).
   */
  async forward(x: NdArray, options?: OutputOptions): Promise<NdArray> {
    checkOptionKeys(options, ["out"], "options");
    const { input, options: conv } = this.#prepare(x);
    return await convNd(input, this.#weight, this.#bias, { ...conv, out: options?.out });
  }

  /**
   * The gradients of `⟨forward(x), gradOutput⟩` with respect to the input, the weight
   * and the bias.
   *
   * @param x The input the output was computed from.
   * @param gradOutput Gradient with respect to the output, of the output's shape.
   * @param outputs Arrays to write the gradients into (see
   *   {@linkcode ConvNdGradientOutputs}); all are checked before any is written.
   * @returns A Promise of `{ input, weight, bias }`.
   */
  async backward(
    x: NdArray,
    gradOutput: NdArray,
    outputs?: ConvNdGradientOutputs,
  ): Promise<ConvNdGradients> {
    checkOptionKeys(outputs, ["input", "weight", "bias"], "outputs");
    const { input, options, pads } = this.#prepare(x);
    checkTensor(gradOutput, "gradOutput");
    const spatial = input.shape.slice(2);
    const padding = options.padding;
    const outputShape = [
      input.shape[0],
      this.outChannels,
      ...spatial.map((n, d) =>
        convOutputSize(
          n,
          this.kernelSize[d],
          this.stride[d],
          typeof padding === "string" || typeof padding === "number" ? padding : padding[d],
          this.dilation[d],
        )
      ),
    ];
    if (gradOutput.shape.join() !== outputShape.join()) {
      throw new RangeError(
        `Cannot read gradOutput: expected the output's shape [${outputShape}], got [${gradOutput.shape}]`,
      );
    }
    const given = outputs ?? {};
    if (given.input !== undefined) checkOutput(given.input, x.shape, "outputs.input");
    if (given.weight !== undefined) {
      checkOutput(given.weight, this.#weight.shape, "outputs.weight");
    }
    if (given.bias !== undefined) {
      if (this.#bias === null) {
        throw new TypeError("Cannot read outputs.bias: the layer has no bias");
      }
      checkOutput(given.bias, [this.outChannels], "outputs.bias");
    }
    // A gradient is written straight into its output unless that output shares memory with
    // what the gradients read or with another output: then it is computed aside and
    // copied in once all are done.
    const read = [x, gradOutput, this.#weight, ...(this.#bias === null ? [] : [this.#bias])];
    const outs = [given.input, given.weight, given.bias].filter((t) => t !== undefined);
    const shares = (a: NdArray, b: NdArray) => a.data.buffer === b.data.buffer;
    const direct = (out: NdArray | undefined) =>
      out !== undefined && !read.some((t) => shares(t, out)) &&
        !outs.some((t) => t !== out && shares(t, out))
        ? out
        : undefined;
    const [inputGrad, weightGrad, biasGrad] = await Promise.all([
      convNdInputVjp(this.#weight, gradOutput, spatial, {
        ...options,
        out: pads === null ? direct(given.input) : undefined,
      }),
      convNdWeightVjp(input, gradOutput, this.kernelSize, {
        ...options,
        out: direct(given.weight),
      }),
      this.#bias === null ? null : einsum("nc...->c", gradOutput, { out: direct(given.bias) }),
    ]);
    const folded = pads === null
      ? inputGrad
      : padNdAdjoint(inputGrad, x.shape, pads, this.paddingMode, dtypeOf(inputGrad));
    const into = (out: NdArray | undefined, grad: NdArray) =>
      out === undefined || out === grad ? grad : assign(out, grad);
    return {
      input: into(given.input, folded),
      weight: into(given.weight, weightGrad),
      bias: biasGrad === null ? null : into(given.bias, biasGrad),
    };
  }

  #paddings(): [number, number][] {
    return this.kernelSize.map((k, d) =>
      convPaddings(
        k,
        this.stride[d],
        typeof this.padding === "string" ? this.padding : this.padding[d],
        this.dilation[d],
      )
    );
  }

  /** The (explicitly padded, for non-zero modes) input and the convolution options. */
  #prepare(x: NdArray) {
    checkTensor(x, "x");
    if (x.shape.length !== this.kernelSize.length + 2 || x.shape[1] !== this.inChannels) {
      throw new RangeError(
        `Cannot read x: expected shape [batch, ${this.inChannels}, ...${this.kernelSize.length} spatial sizes], got [${x.shape}]`,
      );
    }
    const base = { stride: [...this.stride], dilation: [...this.dilation], groups: this.groups };
    if (this.paddingMode === "zeros") {
      return { input: x, options: { ...base, padding: this.padding }, pads: null };
    }
    const pads = this.#paddings();
    pads.forEach(([left, right], d) => {
      const size = x.shape[d + 2];
      const limit = this.paddingMode === "reflect" ? size - 1 : size;
      if (Math.max(left, right) > limit) {
        throw new RangeError(
          `Cannot pad x: paddingMode "${this.paddingMode}" needs padding at most ${limit} for size ${size} in dimension ${d}, got ${
            Math.max(left, right)
          }`,
        );
      }
    });
    return { input: padNd(x, pads, this.paddingMode), options: { ...base, padding: 0 }, pads };
  }
}

function readPositive(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(
      `Cannot read ${name}: expected a positive integer, got ${describeValue(value)}`,
    );
  }
  if (value < 1) {
    throw new RangeError(`Cannot read ${name}: expected a positive integer, got ${value}`);
  }
  return value;
}

function checkParameter(
  value: NdArray,
  name: string,
  shape: readonly number[],
  dtype: DType,
): void {
  if (value.shape.join() !== shape.join()) {
    throw new RangeError(`Cannot set ${name}: expected shape [${shape}], got [${value.shape}]`);
  }
  if (dtypeOf(value) !== dtype) {
    throw new TypeError(`Cannot set ${name}: expected dtype ${dtype}, got ${dtypeOf(value)}`);
  }
}
