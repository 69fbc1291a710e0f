// Pairwise dense contractions: a (batched) GEMM over views, or a direct loop for tiny
// products.
import { gemm } from "./gemm.ts";
import type { DType } from "./tensor.ts";
import { allocate, contiguousStrides, shapeSize } from "./_tensor.ts";
import {
  byStride,
  type Data,
  dimSize,
  dropPrivate,
  groupSize,
  groupStride,
  size,
  sumTo,
  type View,
  type ViewLayout,
} from "./_view.ts";

/**
 * The order to copy an operand into: its own indices in the order of their strides (batch
 * first), which reads the source in runs and keeps its outer kept indices as loops (a
 * strided view of a convolution's input, `[n, c, h, w]`, stays one GEMM per image, written
 * straight in the output's order), when its contracted indices then fall into one stride
 * in the order `sum`; else `fallback`, where each group is one stride.
 */
function copyOrder(
  view: View,
  batch: readonly string[],
  kept: readonly string[],
  sum: readonly string[],
  fallback: string[],
): string[] {
  const names = [...batch, ...byStride(view, [...kept, ...sum])];
  const shape = names.map((name) => dimSize(view, name));
  const copied = { names, shape, strides: contiguousStrides(shape) };
  const fits = groupStride(copied, sum) !== null && loopSplit(copied, kept) !== null;
  return fits ? names : fallback;
}

/** Below this many multiply-adds per batch entry, a direct loop beats packing for GEMM. */
const DIRECT_LOOP_LIMIT = 512;

/** A group of a GEMM's rows or columns smaller than this is copied into one stride
 * rather than looped over in GEMMs of this few rows or columns. */
const MIN_LOOPED_GROUP = 32;

/**
 * Contracts two views into a new contiguous view over their kept indices: first each
 * operand is summed over the indices only it has and nobody needs, then a GEMM runs for
 * every entry of the loop indices: the shared kept ones (batch), and those of each side
 * that do not fall into one stride with the rest of their side (a convolution's batch
 * beside its spatial dimensions), which would otherwise cost a copy of the operand. The
 * result is laid out in `order` when given (the plan's output order, so that no copy
 * follows) and the GEMMs can write it there, else as `[batch, left, right]`; in the
 * former case into `target` if given (exactly the result's size).
 */
export function contractPair(
  a: View,
  b: View,
  keep: ReadonlySet<string>,
  dtype: DType,
  sizes: ReadonlyMap<string, number>,
  order?: readonly string[],
  target?: Data,
): View {
  a = dropPrivate(a, b, keep, dtype);
  b = dropPrivate(b, a, keep, dtype);
  const batch = a.names.filter((name) => b.names.includes(name) && keep.has(name));
  const inner = a.names.filter((name) => b.names.includes(name) && !keep.has(name));
  const left = byStride(a, a.names.filter((name) => !b.names.includes(name)));
  const right = byStride(b, b.names.filter((name) => !a.names.includes(name)));
  let leftSplit = loopSplit(a, left);
  let rightSplit = loopSplit(b, right);
  // Contracted indices in the order that needs the smaller copy.
  const orders = [byStride(a, inner), byStride(b, inner)];
  const copyCost = (sum: string[]) =>
    (leftSplit === null || groupStride(a, sum) === null ? size(a) : 0) +
    (groupStride(b, sum) === null || rightSplit === null ? size(b) : 0);
  const sum = copyCost(orders[0]) <= copyCost(orders[1]) ? orders[0] : orders[1];
  if (leftSplit === null || groupStride(a, sum) === null) {
    a = sumTo(a, copyOrder(a, batch, left, sum, [...batch, ...left, ...sum]), dtype);
    leftSplit = loopSplit(a, left)!;
  }
  if (groupStride(b, sum) === null || rightSplit === null) {
    b = sumTo(b, copyOrder(b, batch, right, sum, [...batch, ...sum, ...right]), dtype);
    rightSplit = loopSplit(b, right)!;
  }
  const [leftLoop, leftGroup] = leftSplit;
  const [rightLoop, rightGroup] = rightSplit;
  const loops = [...batch, ...leftLoop, ...rightLoop];
  const dimOf = (name: string) => a.names.includes(name) ? dimSize(a, name) : dimSize(b, name);
  const defaultNames = [...batch, ...left, ...right];
  const layoutOf = (names: readonly string[]) => {
    const strides = contiguousStrides(names.map(dimOf));
    const stride = (name: string) => strides[names.indexOf(name)];
    const group = (group: readonly string[]) =>
      groupStride({ names: [...names], shape: names.map(dimOf), strides }, group);
    return { names, strides, stride, rowStride: group(leftGroup), colStride: group(rightGroup) };
  };
  let layout = layoutOf(
    order !== undefined && order.length === defaultNames.length &&
      defaultNames.every((name) => order.includes(name))
      ? order
      : defaultNames,
  );
  if (layout.rowStride === null || layout.colStride === null) layout = layoutOf(defaultNames);
  const shape = layout.names.map(dimOf);
  const inOrder = order !== undefined && layout.names === order;
  const out = inOrder && target !== undefined ? target : allocate(dtype, shapeSize(shape));
  const m = groupSize(a, leftGroup);
  const n = groupSize(b, rightGroup);
  const k = groupSize(a, sum);
  const aRow = groupStride(a, leftGroup)!;
  const aCol = groupStride(a, sum)!;
  const bRow = groupStride(b, sum)!;
  const bCol = groupStride(b, rightGroup)!;
  const cRow = layout.rowStride!;
  const cCol = layout.colStride!;
  const loopShape = loops.map(dimOf);
  const strideIn = (view: View, name: string) =>
    view.names.includes(name) ? view.strides[view.names.indexOf(name)] : 0;
  const aLoop = loops.map((name) => strideIn(a, name));
  const bLoop = loops.map((name) => strideIn(b, name));
  const cLoop = loops.map((name) => layout.stride(name));
  // Decided on the plan's full sizes, so that every shard runs the same kernel.
  const fullSize = (names: readonly string[]) => shapeSize(names.map((name) => sizes.get(name)!));
  const direct = fullSize(left) * fullSize(right) * k <= DIRECT_LOOP_LIMIT;
  if (m > 0 && n > 0) {
    forEachLoopEntry(loopShape, aLoop, bLoop, cLoop, (aAt, bAt, cAt) => {
      aAt += a.offset;
      bAt += b.offset;
      if (direct) {
        directProduct(
          m,
          n,
          k,
          a.data,
          aAt,
          aRow,
          aCol,
          b.data,
          bAt,
          bRow,
          bCol,
          out,
          cAt,
          cRow,
          cCol,
        );
      } else {
        gemm(
          m,
          n,
          k,
          { data: a.data, offset: aAt, rowStride: aRow, colStride: aCol },
          { data: b.data, offset: bAt, rowStride: bRow, colStride: bCol },
          { data: out, offset: cAt, rowStride: cRow, colStride: cCol },
        );
      }
    });
  }
  return {
    data: out,
    offset: 0,
    names: [...layout.names],
    shape,
    strides: contiguousStrides(shape),
    owned: true,
  };
}

/**
 * Splits one side's indices (sorted by decreasing stride) into loop indices and a group
 * that falls into one stride: the longest such tail, if it holds at least
 * MIN_LOOPED_GROUP entries or is the whole side; null when the side needs a copy.
 */
function loopSplit(view: ViewLayout, names: readonly string[]): [string[], string[]] | null {
  if (groupStride(view, names) !== null) return [[], [...names]];
  for (let from = 1; from < names.length; from++) {
    const tail = names.slice(from);
    if (groupStride(view, tail) === null) continue;
    return groupSize(view, tail) >= MIN_LOOPED_GROUP ? [names.slice(0, from), tail] : null;
  }
  return null;
}

/** Calls `visit` with the offsets of every entry of the loop indices in A, B and C. */
function forEachLoopEntry(
  shape: readonly number[],
  aStrides: readonly number[],
  bStrides: readonly number[],
  cStrides: readonly number[],
  visit: (aAt: number, bAt: number, cAt: number) => void,
): void {
  const count = shapeSize(shape);
  const index = new Array<number>(shape.length).fill(0);
  let [aAt, bAt, cAt] = [0, 0, 0];
  for (let entry = 0; entry < count; entry++) {
    visit(aAt, bAt, cAt);
    for (let d = shape.length - 1; d >= 0; d--) {
      aAt += aStrides[d];
      bAt += bStrides[d];
      cAt += cStrides[d];
      if (++index[d] < shape[d]) break;
      aAt -= aStrides[d] * shape[d];
      bAt -= bStrides[d] * shape[d];
      cAt -= cStrides[d] * shape[d];
      index[d] = 0;
    }
  }
}

function directProduct(
  m: number,
  n: number,
  k: number,
  a: Data,
  aAt: number,
  aRow: number,
  aCol: number,
  b: Data,
  bAt: number,
  bRow: number,
  bCol: number,
  c: Data,
  cAt: number,
  cRow: number,
  cCol: number,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let total = 0;
      for (let p = 0, x = aAt + i * aRow, y = bAt + j * bCol; p < k; p++, x += aCol, y += bRow) {
        total += a[x] * b[y];
      }
      c[cAt + i * cRow + j * cCol] = total;
    }
  }
}
