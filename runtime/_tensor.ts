import type { DType } from "./tensor.ts";
import { describeValue } from "./validate.ts";

/** Allocates a zero-filled typed array of the given dtype. */
export function allocate(dtype: DType, size: number): Float32Array | Float64Array {
  return dtype === "float32" ? new Float32Array(size) : new Float64Array(size);
}

/** Number of elements of a shape. */
export function shapeSize(shape: readonly number[]): number {
  let size = 1;
  for (const n of shape) size *= n;
  return size;
}

/** C-contiguous strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = step;
    step *= shape[d];
  }
  return strides;
}

/** Copies a strided array into a contiguous destination, in row-major order. */
export function copyStrided(
  src: ArrayLike<number>,
  offset: number,
  shape: readonly number[],
  strides: readonly number[],
  dst: Float32Array | Float64Array,
): void {
  const rank = shape.length;
  const size = shapeSize(shape);
  if (size === 0) return;
  if (rank === 0) {
    dst[0] = src[offset];
    return;
  }
  const last = rank - 1;
  const n = shape[last];
  const s = strides[last];
  const index = new Array<number>(rank).fill(0);
  let base = offset;
  for (let at = 0; at < size; at += n) {
    for (let i = 0, p = base; i < n; i++, p += s) dst[at + i] = src[p];
    for (let d = last - 1; d >= 0; d--) {
      base += strides[d];
      if (++index[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
}

/** Whether strides lay a shape out row-major with no gaps (size-1 dimensions aside). */
export function isRowMajor(shape: readonly number[], strides: readonly number[]): boolean {
  let step = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && strides[d] !== step) return false;
    step *= shape[d];
  }
  return true;
}

/** Copies a contiguous source into a strided destination, in row-major order (the reverse
 * of {@linkcode copyStrided}): rows of the last dimension at a time. */
export function copyToStrided(
  src: Float32Array | Float64Array,
  dst: Float32Array | Float64Array,
  offset: number,
  shape: readonly number[],
  strides: readonly number[],
): void {
  const rank = shape.length;
  const size = shapeSize(shape);
  if (size === 0) return;
  if (rank === 0) {
    dst[offset] = src[0];
    return;
  }
  const last = rank - 1;
  const n = shape[last];
  const s = strides[last];
  const index = new Array<number>(rank).fill(0);
  let base = offset;
  for (let at = 0; at < size; at += n) {
    if (s === 1) dst.set(src.subarray(at, at + n), base);
    else for (let i = 0, p = base; i < n; i++, p += s) dst[p] = src[at + i];
    for (let d = last - 1; d >= 0; d--) {
      base += strides[d];
      if (++index[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
}

/** Throws unless every shape is an array of non-negative integers. */
export function checkShapeList(shapes: readonly (readonly number[])[]): void {
  shapes.forEach((shape, at) => {
    if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
      throw new TypeError(
        `Cannot read operand ${at}: expected a shape of non-negative integers, got ${
          describeValue(shape)
        }`,
      );
    }
  });
}

/** Calls `visit(offsetA, offsetB, counter)` for every multi-index of `shape`, in
 * row-major order, with two sets of strides and offsets walked side by side. */
export function forEachOffsetPair(
  shape: readonly number[],
  stridesA: readonly number[],
  offsetA: number,
  stridesB: readonly number[],
  offsetB: number,
  visit: (a: number, b: number, counter: number) => void,
): void {
  const count = shapeSize(shape);
  const index = new Array<number>(shape.length).fill(0);
  let a = offsetA;
  let b = offsetB;
  for (let n = 0; n < count; n++) {
    visit(a, b, n);
    for (let d = shape.length - 1; d >= 0; d--) {
      a += stridesA[d];
      b += stridesB[d];
      if (++index[d] < shape[d]) break;
      a -= stridesA[d] * shape[d];
      b -= stridesB[d] * shape[d];
      index[d] = 0;
    }
  }
}
