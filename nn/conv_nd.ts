import type { NdArray } from "@einconv/runtime";
import { convForward, type GroupedConvOptions } from "@einconv/expressions";
import { checkBias, evaluateWithBias } from "./_bias.ts";
import { withVirtualPatterns } from "./_virtual_patterns.ts";
import { type OutputOptions, splitOutputOptions } from "./output_options.ts";

/**
 * N-d convolution with PyTorch's semantics (`conv1d`, `conv2d`, `conv3d`, and any N),
 * evaluated as the cached, simplified einsum expression {@linkcode convForward}.
 *
 * @param x Input `[B, C_in, *I]` (any strides; never changed).
 * @param weight Kernel `[C_out, C_in/G, *K]`.
 * @param bias Optional `[C_out]`.
 * @param options Stride, padding (integers, `"same"`, `"valid"`), dilation, groups; `out`
 *   to write the result into (see {@linkcode OutputOptions}).
 * @returns A Promise of a new `[B, C_out, *O]` tensor, or of `out`.
 *
 * @example A 2-d convolution with padding "same"
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convNd } from "@einconv/nn";
 *
 * const x = tensor([[[[1, 2], [3, 4]]]]);
 * const weight = tensor([[[[1, 1], [1, 1]]]]);
 * const y = await convNd(x, weight, tensor([10]), { padding: "same" });
 * assert.deepEqual(Array.from(y.data), [20, 16, 17, 14]);
 * ```
 *
 * @example Into a reused output
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor, zeros } from "@einconv/runtime";
 * import { convNd } from "@einconv/nn";
 *
 * const out = zeros([1, 1, 1, 1]);
 * const y = await convNd(tensor([[[[1, 2], [3, 4]]]]), tensor([[[[1, 1], [1, 1]]]]), null, { out });
 * assert.equal(y, out);
 * assert.deepEqual(Array.from(out.data), [10]);
 * ```
 */
export async function convNd(
  x: NdArray,
  weight: NdArray,
  bias?: NdArray | null,
  options?: GroupedConvOptions & OutputOptions,
): Promise<NdArray> {
  const [hyperparameters, out] = splitOutputOptions(options);
  const expression = convForward(x, weight, withVirtualPatterns(hyperparameters));
  checkBias(bias, weight.shape[0]);
  return await evaluateWithBias(expression, bias, out);
}
