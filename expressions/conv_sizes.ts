import { describe, readInteger } from "./_validate.ts";

/**
 * Splits a convolution's padding along one dimension into its left and right parts.
 *
 * An integer `p` pads both sides by `p`; `"valid"` pads nothing; `"same"` (stride 1
 * only) pads `dilation·(kernelSize − 1)` in total, the smaller half on the left, so that
 * the output has the input's size.
 *
 * @param kernelSize Kernel size `K`, a positive integer.
 * @param stride Stride, a positive integer.
 * @param padding A non-negative integer, `"same"` or `"valid"`.
 * @param dilation Dilation, a positive integer.
 * @returns `[left, right]` padding.
 * @throws {TypeError} If an argument is not an integer or padding is an unknown string.
 * @throws {RangeError} If an integer is out of range, or padding is `"same"` with a stride
 *   other than 1.
 *
 * @example Integer, "valid" and "same" padding
 * ```ts
 * import assert from "node:assert/strict";
 * import { convPaddings } from "@einconv/expressions";
 *
 * assert.deepEqual(convPaddings(3, 2, 1, 1), [1, 1]);
 * assert.deepEqual(convPaddings(3, 2, "valid", 1), [0, 0]);
 * assert.deepEqual(convPaddings(4, 1, "same", 3), [4, 5]);
 * assert.throws(() => convPaddings(3, 2, "same", 1), RangeError);
 * ```
 */
export function convPaddings(
  kernelSize: number,
  stride: number,
  padding: number | "same" | "valid",
  dilation: number,
): [number, number] {
  readInteger("kernelSize", kernelSize, 1);
  readInteger("stride", stride, 1);
  readInteger("dilation", dilation, 1);
  if (padding === "valid") return [0, 0];
  if (padding === "same") {
    if (stride !== 1) {
      throw new RangeError(`Cannot read padding: "same" requires stride 1, got stride=${stride}`);
    }
    const total = dilation * (kernelSize - 1);
    const left = Math.floor(total / 2);
    return [left, total - left];
  }
  if (typeof padding === "string") {
    throw new TypeError(
      `Cannot read padding: expected a non-negative integer, "same" or "valid", got ${
        describe(padding)
      }`,
    );
  }
  const both = readInteger("padding", padding, 0);
  return [both, both];
}

/**
 * Computes the output size of a convolution along one dimension:
 * `1 + ⌊(I + left + right − dilation·(K − 1) − 1) / stride⌋`.
 *
 * @param inputSize Input size `I`, a positive integer.
 * @param kernelSize Kernel size `K`, a positive integer.
 * @param stride Stride, a positive integer.
 * @param padding A non-negative integer, `"same"` or `"valid"`.
 * @param dilation Dilation, a positive integer.
 * @returns The output size `O`, at least 1.
 * @throws {TypeError} If an argument is not an integer or padding is an unknown string.
 * @throws {RangeError} If an integer is out of range, `"same"` is used with a stride other
 *   than 1, or the padded input is smaller than the dilated kernel.
 *
 * @example Strided, dilated and "same" convolutions
 * ```ts
 * import assert from "node:assert/strict";
 * import { convOutputSize } from "@einconv/expressions";
 *
 * assert.equal(convOutputSize(10, 3, 1, 1, 1), 10);
 * assert.equal(convOutputSize(31, 3, 2, 10, 2), 24);
 * assert.equal(convOutputSize(8, 2, 1, "same", 1), 8);
 * assert.throws(() => convOutputSize(2, 3, 1, 0, 2), RangeError);
 * ```
 */
export function convOutputSize(
  inputSize: number,
  kernelSize: number,
  stride: number,
  padding: number | "same" | "valid",
  dilation: number,
): number {
  readInteger("inputSize", inputSize, 1);
  const [left, right] = convPaddings(kernelSize, stride, padding, dilation);
  const span = dilation * (kernelSize - 1) + 1;
  const padded = inputSize + left + right;
  if (padded < span) {
    throw new RangeError(
      `Cannot compute output size: inputSize=${inputSize} with padding ${left}+${right} is ` +
        `smaller than the dilated kernel size ${span} (kernelSize=${kernelSize}, dilation=${dilation})`,
    );
  }
  return 1 + Math.floor((padded - span) / stride);
}

/**
 * Computes the input size of a convolution from its output size, as the output size of
 * the transpose convolution:
 * `(O − 1)·stride − 2·padding + dilation·(K − 1) + outputPadding + 1`.
 *
 * `outputPadding` picks one of the input sizes that a strided convolution maps to the
 * same output size; as in PyTorch it must be smaller than the stride or the dilation.
 *
 * @param outputSize Output size `O` of the convolution, a positive integer.
 * @param kernelSize Kernel size `K`, a positive integer.
 * @param stride Stride, a positive integer.
 * @param padding Padding on each side, a non-negative integer.
 * @param outputPadding Extra input elements at the end, a non-negative integer smaller
 *   than `stride` or `dilation`.
 * @param dilation Dilation, a positive integer.
 * @returns The input size `I`, at least 1.
 * @throws {TypeError} If an argument is not an integer.
 * @throws {RangeError} If an integer is out of range, or the result is not positive.
 *
 * @example Undoing a strided convolution
 * ```ts
 * import assert from "node:assert/strict";
 * import { convInputSize, convOutputSize } from "@einconv/expressions";
 *
 * assert.equal(convInputSize(5, 3, 2, 1, 1, 1), 10);
 * assert.equal(convOutputSize(10, 3, 2, 1, 1), 5);
 * assert.equal(convInputSize(5, 3, 2, 1, 0, 1), 9);
 * assert.throws(() => convInputSize(5, 3, 2, 1, 2, 1), RangeError);
 * ```
 */
export function convInputSize(
  outputSize: number,
  kernelSize: number,
  stride: number,
  padding: number,
  outputPadding: number,
  dilation: number,
): number {
  readInteger("outputSize", outputSize, 1);
  readInteger("kernelSize", kernelSize, 1);
  readInteger("stride", stride, 1);
  readInteger("padding", padding, 0);
  readInteger("outputPadding", outputPadding, 0);
  readInteger("dilation", dilation, 1);
  if (outputPadding >= stride && outputPadding >= dilation) {
    throw new RangeError(
      `Cannot read outputPadding: expected an integer smaller than stride=${stride} or ` +
        `dilation=${dilation}, got ${outputPadding}`,
    );
  }
  const inputSize = (outputSize - 1) * stride - 2 * padding + dilation * (kernelSize - 1) +
    outputPadding + 1;
  if (inputSize < 1) {
    throw new RangeError(
      `Cannot compute input size: outputSize=${outputSize}, kernelSize=${kernelSize}, ` +
        `stride=${stride}, padding=${padding}, outputPadding=${outputPadding} and ` +
        `dilation=${dilation} give ${inputSize}, expected a positive size`,
    );
  }
  return inputSize;
}
