// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import { type DType, dtypeOf, type NdArray } from "@einconv/runtime";

/** A typed array of `dtype` over a SharedArrayBuffer from `allocate` (new ones are zero). */
export function sharedArray(
  dtype: DType,
  length: number,
  allocate: (byteLength: number) => SharedArrayBuffer = (n) => new SharedArrayBuffer(n),
): Float32Array | Float64Array {
  return dtype === "float32"
    ? new Float32Array(allocate(length * Float32Array.BYTES_PER_ELEMENT), 0, length)
    : new Float64Array(allocate(length * Float64Array.BYTES_PER_ELEMENT), 0, length);
}

/**
 * Copies the part of `x.data` that the view `x` reaches into a SharedArrayBuffer from
 * `allocate`, and returns a view with the same shape, strides and values over it.
 */
export function copyToShared(
  x: NdArray,
  allocate?: (byteLength: number) => SharedArrayBuffer,
): NdArray {
  let first = x.offset;
  let last = x.offset;
  x.shape.forEach((n, d) => {
    const reach = (n - 1) * x.stride[d];
    if (reach < 0) first += reach;
    else last += reach;
  });
  const empty = x.shape.includes(0);
  // A float32 copy starts at the same byte offset modulo 8 as its source: V8 copies into
  // shared memory byte by byte otherwise (six times slower).
  const shift = !empty && x.data instanceof Float32Array ? (x.data.byteOffset / 4 + first) & 1 : 0;
  const length = empty ? 0 : last - first + 1 + shift;
  const data = sharedArray(dtypeOf(x), length, allocate);
  if (!empty) data.set(x.data.subarray(first, last + 1), shift);
  return ndarray(data, [...x.shape], [...x.stride], empty ? 0 : x.offset - first + shift);
}

/**
 * SharedArrayBuffers kept for reuse by later calls: touching fresh memory costs page
 * faults (about 3 ms per MB on small VMs), more than copying into memory already used.
 * Only einsum's internal copies of operands come from here, never memory handed to users.
 */
export class SharedBufferStash {
  #free: SharedArrayBuffer[] = [];
  #bytes = 0;

  /** At most this many bytes are kept. */
  constructor(readonly capacity: number) {}

  /** A buffer of exactly `byteLength` bytes, reused if one is kept (its contents are
   * stale), new otherwise. */
  take(byteLength: number): SharedArrayBuffer {
    const at = this.#free.findIndex((buffer) => buffer.byteLength === byteLength);
    if (at < 0) return new SharedArrayBuffer(byteLength);
    this.#bytes -= byteLength;
    return this.#free.splice(at, 1)[0];
  }

  /** Keeps `buffer` for reuse, dropping the oldest kept ones beyond the capacity. */
  give(buffer: SharedArrayBuffer): void {
    if (buffer.byteLength === 0 || buffer.byteLength > this.capacity) return;
    this.#free.push(buffer);
    this.#bytes += buffer.byteLength;
    while (this.#bytes > this.capacity) this.#bytes -= this.#free.shift()!.byteLength;
  }
}
