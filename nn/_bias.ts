import { assign, checkTensor, dtypeOf, type NdArray, resultDType } from "@einconv/runtime";
import { evaluate, type Expression } from "@einconv/expressions";

/** Checks that `bias` is absent or a vector of `channels` entries. */
export function checkBias(bias: NdArray | null | undefined, channels: number): void {
  if (bias === undefined || bias === null) return;
  checkTensor(bias, "bias");
  if (bias.shape.length !== 1 || bias.shape[0] !== channels) {
    throw new RangeError(
      `Cannot read bias: expected shape [${channels}] (one entry per output channel), got [${bias.shape}]`,
    );
  }
}

/** Adds `bias[c]` to every entry of channel `c` of a `[B, C, …]` result (any strides). */
export function addBias(result: NdArray, bias: NdArray | null | undefined): NdArray {
  if (bias === undefined || bias === null) return result;
  const [batch, channels, ...positions] = result.shape;
  const data = result.data;
  // Offsets of every position of one (b, c) plane, row-major.
  const offsets = [0];
  positions.forEach((n, d) => {
    const stride = result.stride[d + 2];
    const previous = offsets.splice(0);
    for (const offset of previous) for (let i = 0; i < n; i++) offsets.push(offset + i * stride);
  });
  for (let b = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const value = bias.get(c);
      const at = result.offset + b * result.stride[0] + c * result.stride[1];
      for (const offset of offsets) data[at + offset] += value;
    }
  }
  return result;
}

/**
 * Evaluates a `[B, C, …]` expression into `out` (or a new array) and adds `bias`, with the
 * numbers of the call without `out`: when `out` holds another float type than the result,
 * the bias is added before converting, in a new array then copied into `out`.
 */
export async function evaluateWithBias(
  expression: Expression,
  bias: NdArray | null | undefined,
  out: NdArray | undefined,
): Promise<NdArray> {
  const converts = out !== undefined && dtypeOf(out) !== resultDType(expression.operands);
  if (bias === undefined || bias === null || !converts) {
    return addBias(await evaluate(expression, { out }), bias);
  }
  return assign(out!, addBias(await evaluate(expression), bias));
}
