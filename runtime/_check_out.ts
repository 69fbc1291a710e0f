import type { NdArray } from "./tensor.ts";
import { checkTensor } from "./validate.ts";

/** An output view must lie within its data and not repeat elements (no stride 0 along a
 * dimension of size over 1), so that writing it writes every entry once, in bounds. */
export function checkOut(out: NdArray, name: string = "out"): void {
  checkTensor(out, name);
  if (out.shape.includes(0)) return;
  let low = out.offset;
  let high = out.offset;
  out.shape.forEach((n, d) => {
    const reach = (n - 1) * out.stride[d];
    if (reach < 0) low += reach;
    else high += reach;
    if (n > 1 && out.stride[d] === 0) {
      throw new RangeError(
        `Cannot read ${name}: dimension ${d} has stride 0, so its ${n} entries would share one element`,
      );
    }
  });
  if (low < 0 || high >= out.data.length) {
    throw new RangeError(
      `Cannot read ${name}: the view reaches elements ${low} to ${high} of a data array of length ${out.data.length}`,
    );
  }
}
