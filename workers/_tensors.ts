import type { DType, NdArray } from "@einconv/runtime";

/** Whether `x` passes the runtime's operand check (an ndarray over Float32Array or
 * Float64Array). Callers that get `false` call the runtime function whose check throws
 * the error users know from the synchronous API. */
export function isFloatTensor(x: unknown): x is NdArray {
  const candidate = x as NdArray | null;
  return candidate !== null && typeof candidate === "object" && Array.isArray(candidate.shape) &&
    Array.isArray(candidate.stride) && typeof candidate.offset === "number" &&
    (candidate.data instanceof Float32Array || candidate.data instanceof Float64Array);
}

/** A zero-filled typed array of `dtype` over a new SharedArrayBuffer. */
export function sharedArray(dtype: DType, length: number): Float32Array | Float64Array {
  return dtype === "float32"
    ? new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT))
    : new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
}

/** Number of elements of a shape. */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
