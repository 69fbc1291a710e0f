import { checkTensor, type NdArray } from "@einconv/runtime";

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

/** Adds `bias[c]` to every entry of channel `c` of a new C-contiguous `[B, C, …]` result. */
export function addBias(result: NdArray, bias: NdArray | null | undefined): NdArray {
  if (bias === undefined || bias === null) return result;
  const [batch, channels] = result.shape;
  const positions = result.size / Math.max(1, batch * channels);
  const data = result.data;
  for (let b = 0, at = 0; b < batch; b++) {
    for (let c = 0; c < channels; c++) {
      const value = bias.get(c);
      for (let p = 0; p < positions; p++) data[at++] += value;
    }
  }
  return result;
}
