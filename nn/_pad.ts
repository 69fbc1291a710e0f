// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import { type DType, dtypeOf, type NdArray, zeros } from "@einconv/runtime";

/** How a convolution module pads its input (PyTorch's `padding_mode`). */
export type PaddingMode = "zeros" | "reflect" | "replicate" | "circular";

/** For every padded position of one dimension, the input position it copies (or -1). */
function sourceMap(size: number, left: number, right: number, mode: PaddingMode): Int32Array {
  const map = new Int32Array(size + left + right);
  for (let p = 0; p < map.length; p++) {
    const j = p - left;
    if (j >= 0 && j < size) map[p] = j;
    else if (mode === "reflect") map[p] = j < 0 ? -j : 2 * (size - 1) - j;
    else if (mode === "replicate") map[p] = j < 0 ? 0 : size - 1;
    else if (mode === "circular") map[p] = ((j % size) + size) % size;
    else map[p] = -1;
  }
  return map;
}

/**
 * Walks every position of a `[B, C, *padded]` tensor with the matching input offset
 * (or -1 where the padding holds zeros).
 */
function walk(
  inputShape: readonly number[],
  inputStride: readonly number[],
  inputOffset: number,
  pads: readonly (readonly [number, number])[],
  mode: PaddingMode,
  visit: (padded: number, input: number) => void,
): number[] {
  const spatial = inputShape.slice(2);
  const maps = spatial.map((size, d) => sourceMap(size, pads[d][0], pads[d][1], mode));
  const shape = [inputShape[0], inputShape[1], ...maps.map((m) => m.length)];
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  const count = shape.reduce((a, b) => a * b, 1);
  for (let at = 0; at < count; at++) {
    let source = inputOffset + index[0] * inputStride[0] + index[1] * inputStride[1];
    for (let d = 2; d < rank; d++) {
      const j = maps[d - 2][index[d]];
      if (j < 0) {
        source = -1;
        break;
      }
      source += j * inputStride[d];
    }
    visit(at, source);
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return shape;
}

/**
 * Pads the spatial dimensions of `[B, C, *I]` by `pads[d] = [left, right]` as PyTorch's
 * `F.pad` does for the padding mode (reflect excludes the edge, circular wraps around).
 */
export function padNd(
  x: NdArray,
  pads: readonly (readonly [number, number])[],
  mode: PaddingMode,
): NdArray {
  const shape = [
    x.shape[0],
    x.shape[1],
    ...x.shape.slice(2).map((n, d) => n + pads[d][0] + pads[d][1]),
  ];
  const out = zeros(shape, dtypeOf(x));
  walk(x.shape, x.stride, x.offset, pads, mode, (at, source) => {
    if (source >= 0) out.data[at] = x.data[source];
  });
  return out;
}

/** The adjoint of {@linkcode padNd}: sums the gradient of every padded position into the
 * input position it copies. */
export function padNdAdjoint(
  grad: NdArray,
  inputShape: readonly number[],
  pads: readonly (readonly [number, number])[],
  mode: PaddingMode,
  dtype: DType,
): NdArray {
  const out = zeros(inputShape, dtype);
  const strides = ndarray(out.data, [...inputShape]).stride;
  const flat = grad.data;
  walk(inputShape, strides, 0, pads, mode, (at, source) => {
    if (source >= 0) out.data[source] += flat[grad.offset + at];
  });
  return out;
}
