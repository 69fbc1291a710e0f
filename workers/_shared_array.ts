import type { DType } from "@einconv/runtime";

/** A zero-filled typed array of `dtype` over a new SharedArrayBuffer. */
export function sharedArray(dtype: DType, length: number): Float32Array | Float64Array {
  return dtype === "float32"
    ? new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT))
    : new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
}
