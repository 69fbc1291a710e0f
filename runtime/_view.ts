// Strided views with named dimensions, as the executor moves them between steps, and
// the reductions and copies every kernel needs.
import type { PatternHyperparameters } from "./index_pattern_registry.ts";
import type { DType, NdArray } from "./tensor.ts";
import {
  allocate,
  contiguousStrides,
  copyStrided,
  forEachOffsetPair,
  shapeSize,
} from "./_tensor.ts";

export type Data = Float32Array | Float64Array;

/** A strided tensor whose dimensions carry index names (all different). */
export interface View {
  data: Data;
  offset: number;
  names: string[];
  shape: number[];
  strides: number[];
  /** Whether the executor allocated `data` (so it may be handed out as the result). */
  owned: boolean;
  /** For an input that is an index pattern `[k, o, i]`: its hyperparameters, and the
   * global coordinate of the view's first entry along each dimension (shards slice). */
  pattern?: PatternHyperparameters;
  origin?: number[];
}

/** The operand as a view with one dimension per distinct index: repeated indices
 * become a diagonal (strides added), size-1 dimensions broadcast with stride 0. */
export function leafView(
  x: NdArray,
  names: readonly string[],
  sizes: ReadonlyMap<string, number>,
): View {
  const view: View = {
    data: x.data,
    offset: x.offset,
    names: [],
    shape: [],
    strides: [],
    owned: false,
  };
  names.forEach((name, dim) => {
    const size = sizes.get(name)!;
    const stride = x.shape[dim] === size ? x.stride[dim] : 0;
    const at = view.names.indexOf(name);
    if (at >= 0) view.strides[at] += stride;
    else {
      view.names.push(name);
      view.shape.push(size);
      view.strides.push(stride);
    }
  });
  return view;
}

export function isContiguous(view: View): boolean {
  let step = 1;
  for (let d = view.shape.length - 1; d >= 0; d--) {
    if (view.shape[d] !== 1 && view.strides[d] !== step) return false;
    step *= view.shape[d];
  }
  return view.offset === 0 && view.data.length === step;
}

/**
 * Sums `view` over every index not in `keep` and lays the result out contiguously in
 * the order of `keep` (every name of `keep` must be in the view).
 */
export function sumTo(view: View, keep: readonly string[], dtype: DType): View {
  const keptDims = keep.map((name) => view.names.indexOf(name));
  const summedDims = view.names.map((_, d) => d).filter((d) => !keptDims.includes(d));
  const shape = keptDims.map((d) => view.shape[d]);
  const out = allocate(dtype, shapeSize(shape));
  const keptShape = shape;
  const keptStrides = keptDims.map((d) => view.strides[d]);
  const sumShape = summedDims.map((d) => view.shape[d]);
  const sumStrides = summedDims.map((d) => view.strides[d]);
  const sumCount = shapeSize(sumShape);
  const src = view.data;
  if (summedDims.length === 0) {
    copyStrided(src, view.offset, keptShape, keptStrides, out);
  } else if (out.length > 0 && sumCount > 0) {
    // Innermost summed dimension runs as a plain loop; the others by odometer.
    const innerSize = sumShape.length > 0 ? sumShape[sumShape.length - 1] : 1;
    const innerStride = sumShape.length > 0 ? sumStrides[sumStrides.length - 1] : 0;
    const outerSum = sumShape.slice(0, -1);
    const outerStrides = sumStrides.slice(0, -1);
    const outerCount = sumCount / innerSize;
    forEachOffsetPair(
      keptShape,
      keptStrides,
      view.offset,
      contiguousStrides(keptShape),
      0,
      (base, at) => {
        let total = 0;
        if (outerSum.length === 0) {
          for (let i = 0, p = base; i < innerSize; i++, p += innerStride) total += src[p];
        } else {
          const index = new Array<number>(outerSum.length).fill(0);
          let start = base;
          for (let n = 0; n < outerCount; n++) {
            for (let i = 0, p = start; i < innerSize; i++, p += innerStride) total += src[p];
            for (let d = outerSum.length - 1; d >= 0; d--) {
              start += outerStrides[d];
              if (++index[d] < outerSum[d]) break;
              start -= outerStrides[d] * outerSum[d];
              index[d] = 0;
            }
          }
        }
        out[at] = total;
      },
    );
  }
  return {
    data: out,
    offset: 0,
    names: [...keep],
    shape,
    strides: contiguousStrides(shape),
    owned: true,
  };
}

/** Sums `view` over the indices that neither `other` nor the kept set has. */
export function dropPrivate(
  view: View,
  other: View,
  keep: ReadonlySet<string>,
  dtype: DType,
): View {
  const needed = view.names.filter((name) => keep.has(name) || other.names.includes(name));
  return needed.length === view.names.length ? view : sumTo(view, needed, dtype);
}

export function size(view: View): number {
  return shapeSize(view.shape);
}

/** A view's layout alone: index names, sizes and strides, without numbers. */
export type ViewLayout = Pick<View, "names" | "shape" | "strides">;

export function dimSize(view: ViewLayout, name: string): number {
  return view.shape[view.names.indexOf(name)];
}

function groupShape(view: ViewLayout, names: readonly string[]): number[] {
  return names.map((name) => dimSize(view, name));
}

export function groupSize(view: ViewLayout, names: readonly string[]): number {
  return shapeSize(groupShape(view, names));
}

/** The names sorted by decreasing stride in `view`, so that groups merge when they can. */
export function byStride(view: View, names: readonly string[]): string[] {
  return [...names].sort((x, y) =>
    view.strides[view.names.indexOf(y)] - view.strides[view.names.indexOf(x)]
  );
}

/** The single stride that walks the group's dimensions as one, or null if none does. */
export function groupStride(view: ViewLayout, names: readonly string[]): number | null {
  let stride: number | null = null;
  let span = 1;
  for (let at = names.length - 1; at >= 0; at--) {
    const d = view.names.indexOf(names[at]);
    const n = view.shape[d];
    if (n === 1) continue;
    if (stride === null) stride = view.strides[d];
    else if (view.strides[d] !== stride * span) return null;
    span *= n;
  }
  return stride ?? 0;
}
