import type { DType, NdArray } from "./tensor.ts";

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

/** Throws unless `x` is an ndarray over Float32Array or Float64Array. */
export function checkTensor(x: unknown, name: string): asserts x is NdArray {
  const candidate = x as NdArray | null;
  if (
    candidate === null || typeof candidate !== "object" || !Array.isArray(candidate.shape) ||
    !Array.isArray(candidate.stride) || typeof candidate.offset !== "number"
  ) {
    throw new TypeError(`Cannot read ${name}: expected an ndarray, got ${describe(x)}`);
  }
  if (!(candidate.data instanceof Float32Array || candidate.data instanceof Float64Array)) {
    const kind = (candidate.data as object | undefined)?.constructor?.name ?? typeof candidate.data;
    throw new TypeError(
      `Cannot read ${name}: expected an ndarray over Float32Array or Float64Array, got one over ${kind}`,
    );
  }
}

/** A short description of any value for error messages. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value !== "object") return String(value);
  if (Array.isArray(value)) {
    const text = JSON.stringify(value);
    return text.length > 60 ? `an array of length ${value.length}` : text;
  }
  return `a ${(value as object).constructor?.name ?? "object"}`;
}

/** Throws unless every shape is an array of non-negative integers. */
export function checkShapeList(shapes: readonly (readonly number[])[]): void {
  shapes.forEach((shape, at) => {
    if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
      throw new TypeError(
        `Cannot read operand ${at}: expected a shape of non-negative integers, got ${
          describe(shape)
        }`,
      );
    }
  });
}
