import { checkOptionKeys, checkTensor, type NdArray } from "@einconv/runtime";
import type { PatternHyperparameters } from "@einconv/simplify";
import { describe, readInteger } from "./_validate.ts";
import { convOutputSize, convPaddings } from "./conv_sizes.ts";
import {
  type IntOrTuple,
  type Padding,
  readHyperparameter,
  readPadding,
} from "./hyperparameters.ts";

/** Hyperparameters of a convolution, as every builder takes them. */
export interface ConvOptions {
  /** Stride, one for all dimensions or one per dimension (default 1). */
  stride?: IntOrTuple;
  /** Padding: integers, `"same"` (stride 1 only) or `"valid"` (default 0). */
  padding?: Padding;
  /** Dilation (default 1). */
  dilation?: IntOrTuple;
  /** Apply the symbolic simplifications (default true). */
  simplify?: boolean;
  /** `"dense"` (default): index patterns are dense 0/1 operands. `"virtual"`: they are
   * placeholders that only the contraction planner understands (it runs patterns as
   * gathers, scatters and implicit GEMMs from their hyperparameters), so building an
   * expression costs nothing per pattern entry; evaluate such expressions with
   * `evaluate`/`einsum` only. */
  patternOperands?: "dense" | "virtual";
}

/** {@linkcode ConvOptions} plus channel groups. */
export interface GroupedConvOptions extends ConvOptions {
  /** Number of channel groups (default 1); it must divide the channels. */
  groups?: number;
}

/** Read, validated hyperparameters for `n` spatial dimensions. */
export interface ConvArguments {
  stride: number[];
  padding: number[] | "same" | "valid";
  dilation: number[];
  groups: number;
  simplify: boolean;
  patternOperands: "dense" | "virtual";
}

/** The options every convolution builder reads. */
const CONV_OPTION_KEYS = ["stride", "padding", "dilation", "groups", "simplify", "patternOperands"];

/** Validates an options object (no keys but the builder's: a misspelt `strides` would
 * otherwise be ignored) and reads its hyperparameters for `n` dimensions. */
export function readConvOptions(
  options: GroupedConvOptions | undefined,
  n: number,
  extraKeys: readonly string[] = [],
): ConvArguments {
  checkOptionKeys(options, [...CONV_OPTION_KEYS, ...extraKeys], "options");
  if (options === undefined) options = {};
  const simplify = options.simplify ?? true;
  if (typeof simplify !== "boolean") {
    throw new TypeError(`Cannot read simplify: expected true or false, got ${describe(simplify)}`);
  }
  const patternOperands = options.patternOperands ?? "dense";
  if (patternOperands !== "dense" && patternOperands !== "virtual") {
    throw new TypeError(
      `Cannot read patternOperands: expected "dense" or "virtual", got ${
        describe(patternOperands)
      }`,
    );
  }
  return {
    patternOperands,
    stride: readHyperparameter("stride", options.stride ?? 1, n),
    padding: readPadding(options.padding ?? 0, n),
    dilation: readHyperparameter("dilation", options.dilation ?? 1, n),
    groups: readInteger("groups", options.groups ?? 1, 1),
    simplify,
  };
}

/** Checks that `x` is a tensor of rank at least 3 (`[B, C, *spatial]`) and returns N. */
export function spatialRank(
  x: unknown,
  name: string,
  layout = "[batch, channels, ...spatial]",
): number {
  checkTensor(x, name);
  if (x.shape.length < 3) {
    throw new RangeError(
      `Cannot read ${name}: expected rank 3 or more (${layout}), got shape [${x.shape}]`,
    );
  }
  return x.shape.length - 2;
}

/** Checks that `x` is a tensor of rank `rank`. */
export function checkRank(x: unknown, name: string, rank: number, layout: string): NdArray {
  checkTensor(x, name);
  if (x.shape.length !== rank) {
    throw new RangeError(
      `Cannot read ${name}: expected rank ${rank} (${layout}), got shape [${x.shape}]`,
    );
  }
  return x;
}

/** Checks that `groups` divides a channel count. */
export function checkGroups(groups: number, channels: number, what: string): void {
  if (channels % groups !== 0) {
    throw new RangeError(
      `Cannot read groups: groups=${groups} does not divide ${what}=${channels}`,
    );
  }
}

/** The index pattern hyperparameters of every spatial dimension of a convolution; an
 * `outputSize` smaller than the convolution's cuts the patterns to it (transpose
 * convolutions whose output padding reaches past the stride). */
export function convPatterns(
  inputSize: readonly number[],
  kernelSize: readonly number[],
  args: ConvArguments,
  outputSize?: readonly number[],
): PatternHyperparameters[] {
  return inputSize.map((size, d) => {
    const padding = args.padding === "same" || args.padding === "valid"
      ? args.padding
      : args.padding[d];
    const [paddingLeft, paddingRight] = convPaddings(
      kernelSize[d],
      args.stride[d],
      padding,
      args.dilation[d],
    );
    return {
      inputSize: size,
      kernelSize: kernelSize[d],
      outputSize: outputSize?.[d] ??
        convOutputSize(size, kernelSize[d], args.stride[d], padding, args.dilation[d]),
      stride: args.stride[d],
      paddingLeft,
      paddingRight,
      dilation: args.dilation[d],
    };
  });
}

/** Checks that a tensor's spatial sizes are the convolution's output sizes. */
export function checkOutputShape(
  v: NdArray,
  name: string,
  expected: readonly number[],
): void {
  if (v.shape.join() !== expected.join()) {
    throw new RangeError(
      `Cannot read ${name}: expected shape [${expected}] (the convolution's output), got [${v.shape}]`,
    );
  }
}

/** Options of the transpose-convolution builders. */
export interface TransposeConvOptions {
  /** Stride of the associated convolution (default 1). */
  stride?: IntOrTuple;
  /** Padding of the associated convolution, integers only (default 0). */
  padding?: IntOrTuple;
  /** Extra size added on one side of the transpose convolution's output (default 0),
   * smaller than the stride or the dilation. */
  outputPadding?: IntOrTuple;
  /** Dilation (default 1). */
  dilation?: IntOrTuple;
  /** Apply the symbolic simplifications (default true). */
  simplify?: boolean;
  /** Dense (default) or virtual index-pattern operands, see {@linkcode ConvOptions}. */
  patternOperands?: "dense" | "virtual";
}

/**
 * The input sizes of the associated convolution for a transpose convolution with input
 * sizes `outputSize` (the convolution's output), from `outputPadding` or from an explicit
 * `targetSize`. As in PyTorch the extra size must be smaller than the stride or the
 * dilation; where it reaches past the stride, the convolution's patterns are cut to
 * `outputSize` (see {@linkcode convPatterns}).
 */
export function transposeInputSizes(
  outputSize: readonly number[],
  kernelSize: readonly number[],
  args: ConvArguments,
  outputPadding: readonly number[],
  targetSize: readonly number[] | undefined,
): number[] {
  const padding = args.padding as number[];
  return outputSize.map((o, d) => {
    // The transpose convolution's output size without output padding (may be < 1 alone).
    const smallest = (o - 1) * args.stride[d] - 2 * padding[d] +
      args.dilation[d] * (kernelSize[d] - 1) + 1;
    const allowed = Math.max(args.stride[d], args.dilation[d]);
    const extra = targetSize === undefined ? outputPadding[d] : targetSize[d] - smallest;
    if (!(extra >= 0 && extra < allowed)) {
      throw new RangeError(
        targetSize === undefined
          ? `Cannot read outputPadding: outputPadding=${
            outputPadding[d]
          } in dimension ${d} must be smaller than max(stride, dilation)=${allowed}`
          : `Cannot read outputSize: outputSize=${
            targetSize[d]
          } in dimension ${d} must lie in ${smallest}..${smallest + allowed - 1} (stride=${
            args.stride[d]
          }, dilation=${args.dilation[d]})`,
      );
    }
    if (smallest + extra < 1) {
      throw new RangeError(
        `Cannot read padding: padding=${
          padding[d]
        } in dimension ${d} leaves a transpose-convolution output of size ${
          smallest + extra
        } (input ${o}, kernelSize=${kernelSize[d]}, stride=${args.stride[d]}, dilation=${
          args.dilation[d]
        })`,
      );
    }
    return smallest + extra;
  });
}

/** Reads the options of a transpose-convolution builder (integer padding only). */
export function readTransposeOptions(
  options: (TransposeConvOptions & { groups?: number }) | undefined,
  n: number,
  extraKeys: readonly string[] = [],
): ConvArguments & { outputPadding: number[] } {
  const args = readConvOptions(options as GroupedConvOptions | undefined, n, [
    "outputPadding",
    ...extraKeys,
  ]);
  if (args.padding === "same" || args.padding === "valid") {
    throw new TypeError(
      `Cannot read padding: transpose convolutions take integers, got ${describe(args.padding)}`,
    );
  }
  const outputPadding = readHyperparameter("outputPadding", options?.outputPadding ?? 0, n, {
    min: 0,
  });
  return { ...args, outputPadding };
}

/** For operations without groups: reject the option instead of ignoring it. */
export function withoutGroups<T extends object>(options: T | undefined): T | undefined {
  if (options !== undefined && options !== null && "groups" in options) {
    throw new TypeError("Cannot read groups: this operation takes no groups");
  }
  return options;
}
