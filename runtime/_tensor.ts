import { copyElements } from "./_copy_elements.ts";
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
  const size = shapeSize(shape);
  if (size === 0) return;
  const merged = mergeDimensions(shape, strides);
  const last = merged.shape.length - 1;
  const n = merged.shape[last];
  const s = merged.strides[last];
  const rows = ArrayBuffer.isView(src) && s === 1 && n >= SET_MIN_ROW;
  const index = new Array<number>(last + 1).fill(0);
  let base = offset;
  for (let at = 0; at < size; at += n) {
    if (rows) copyElements(dst, at, src as Float32Array | Float64Array, base, base + n);
    else for (let i = 0, p = base; i < n; i++, p += s) dst[at + i] = src[p];
    base = nextRow(merged, index, base);
  }
}

/** Rows at least this long are copied with `TypedArray.set`; shorter ones element by
 * element (a subarray per row costs more than a short loop). */
const SET_MIN_ROW = 64;

/**
 * The same layout with fewer dimensions: size-1 dimensions dropped and each dimension
 * merged into the previous one when the two step through memory as one (`strides[d]`
 * equals `strides[d + 1] · shape[d + 1]`). A row-major layout becomes one dimension.
 * Always at least one dimension, so that the copies have a row to walk.
 */
export function mergeDimensions(
  shape: readonly number[],
  strides: readonly number[],
): { shape: number[]; strides: number[] } {
  const merged = { shape: [1], strides: [1] };
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = merged.shape.length - 1;
    if (merged.shape[last] === 1) {
      merged.shape[last] = shape[d];
      merged.strides[last] = strides[d];
    } else if (merged.strides[last] === strides[d] * shape[d]) {
      merged.shape[last] *= shape[d];
      merged.strides[last] = strides[d];
    } else {
      merged.shape.push(shape[d]);
      merged.strides.push(strides[d]);
    }
  }
  return merged;
}

/** Advances the row-major `index` (all but its last entry) of a layout by one row and
 * returns the memory position of that row, given the current one. */
function nextRow(
  { shape, strides }: { shape: number[]; strides: number[] },
  index: number[],
  base: number,
): number {
  for (let d = shape.length - 2; d >= 0; d--) {
    base += strides[d];
    if (++index[d] < shape[d]) return base;
    base -= strides[d] * shape[d];
    index[d] = 0;
  }
  return base;
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
 * of {@linkcode copyStrided}). */
export function copyToStrided(
  src: Float32Array | Float64Array,
  dst: Float32Array | Float64Array,
  offset: number,
  shape: readonly number[],
  strides: readonly number[],
): void {
  const size = shapeSize(shape);
  if (size === 0) return;
  const merged = mergeDimensions(shape, strides);
  const last = merged.shape.length - 1;
  const n = merged.shape[last];
  const s = merged.strides[last];
  const rows = s === 1 && n >= SET_MIN_ROW;
  const index = new Array<number>(last + 1).fill(0);
  let base = offset;
  for (let at = 0; at < size; at += n) {
    if (rows) copyElements(dst, base, src, at, at + n);
    else for (let i = 0, p = base; i < n; i++, p += s) dst[p] = src[at + i];
    base = nextRow(merged, index, base);
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
