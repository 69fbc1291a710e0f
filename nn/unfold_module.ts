import { checkOptionKeys, type NdArray } from "@einconv/runtime";
import {
  type IntOrTuple,
  type Padding,
  readHyperparameter,
  readPadding,
} from "@einconv/expressions";
import { unfoldNd } from "./unfold_nd.ts";
import type { OutputOptions } from "./output_options.ts";

/** Options of {@linkcode UnfoldNd}, as PyTorch's `nn.Unfold` takes them. */
export interface UnfoldNdOptions {
  /** Kernel size (one for all dimensions or one each). */
  kernelSize: IntOrTuple;
  /** Dilation (default 1). */
  dilation?: IntOrTuple;
  /** Padding (default 0). */
  padding?: Padding;
  /** Stride (default 1). */
  stride?: IntOrTuple;
}

/**
 * PyTorch's `nn.Unfold` for any number of spatial dimensions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { UnfoldNd } from "@einconv/nn";
 *
 * const unfold = new UnfoldNd({ kernelSize: 2, stride: 2 });
 * const columns = await unfold.forward(tensor([[[1, 2, 3, 4]]]));
 * assert.deepEqual(Array.from(columns.data), [1, 3, 2, 4]);
 * ```
 */
export class UnfoldNd {
  /** The hyperparameters. */
  readonly options: Readonly<UnfoldNdOptions>;

  /**
   * Creates the module; hyperparameters are checked against the input's rank in
   * `forward`.
   *
   * @param options Kernel size, dilation, padding, stride.
   */
  constructor(options: UnfoldNdOptions) {
    if (options === null || typeof options !== "object" || options.kernelSize === undefined) {
      throw new TypeError("Cannot read options: expected an object with kernelSize");
    }
    this.options = { ...options };
    // Check the hyperparameters now (for any rank the kernel size allows), not at forward.
    const n = Array.isArray(options.kernelSize) ? options.kernelSize.length : 1;
    readHyperparameter("kernelSize", options.kernelSize, n);
    readHyperparameter(
      "stride",
      options.stride ?? 1,
      Array.isArray(options.stride) ? options.stride.length : 1,
    );
    readHyperparameter(
      "dilation",
      options.dilation ?? 1,
      Array.isArray(options.dilation) ? options.dilation.length : 1,
    );
    readPadding(options.padding ?? 0, Array.isArray(options.padding) ? options.padding.length : 1);
  }

  /**
   * Unfolds `x`.
   *
   * @param x Input `[B, C, *I]`.
   * @param options `out`: write the result into this ndarray and return it.
   * @returns A Promise of `[B, C·prod(K), prod(O)]` (or of `out`).
   */
  async forward(x: NdArray, options?: OutputOptions): Promise<NdArray> {
    checkOptionKeys(options, ["out"], "options");
    const { kernelSize, dilation, padding, stride } = this.options;
    return await unfoldNd(x, kernelSize, { dilation, padding, stride, out: options?.out });
  }
}
