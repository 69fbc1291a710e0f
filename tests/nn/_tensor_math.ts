// Small tensor helpers of the nn tests, written with plain loops so that they do not
// depend on the code under test.
import type { NdArray } from "@einconv/runtime";

/** The elements of a tensor (any strides) in row-major order, as float64. */
export function values(x: NdArray): Float64Array {
  const count = x.shape.reduce((a, b) => a * b, 1);
  const out = new Float64Array(count);
  const index = new Array<number>(x.shape.length).fill(0);
  for (let flat = 0; flat < count; flat++) {
    let at = x.offset;
    for (let d = 0; d < index.length; d++) at += index[d] * x.stride[d];
    out[flat] = x.data[at];
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < x.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/** `Σ a[i] b[i]` over the row-major elements of two tensors of equal size. */
export function inner(a: NdArray, b: NdArray): number {
  const av = values(a);
  const bv = values(b);
  if (av.length !== bv.length) throw new RangeError(`inner: sizes ${av.length} and ${bv.length}`);
  let sum = 0;
  for (let i = 0; i < av.length; i++) sum += av[i] * bv[i];
  return sum;
}

/** The product of a shape. */
export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
