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
  groupShape,
  groupSize,
  groupStride,
  size,
  sumTo,
  type View,
} from "./_view.ts";

/** Below this many multiply-adds per batch entry, a direct loop beats packing for GEMM. */
const DIRECT_LOOP_LIMIT = 512;

/**
 * Contracts two views into a new contiguous view over `[batch, left, right]`: first
 * each operand is summed over the indices only it has and nobody needs, then a GEMM
 * runs for every batch entry.
 */
export function contractPair(
  a: View,
  b: View,
  keep: ReadonlySet<string>,
  dtype: DType,
  sizes: ReadonlyMap<string, number>,
): View {
  a = dropPrivate(a, b, keep, dtype);
  b = dropPrivate(b, a, keep, dtype);
  const batch = a.names.filter((name) => b.names.includes(name) && keep.has(name));
  const inner = a.names.filter((name) => b.names.includes(name) && !keep.has(name));
  const left = byStride(a, a.names.filter((name) => !b.names.includes(name)));
  const right = byStride(b, b.names.filter((name) => !a.names.includes(name)));
  // Contracted indices in the order that needs the smaller copy.
  const orders = [byStride(a, inner), byStride(b, inner)];
  const copyCost = (order: string[]) =>
    (groupStride(a, left) === null || groupStride(a, order) === null ? size(a) : 0) +
    (groupStride(b, order) === null || groupStride(b, right) === null ? size(b) : 0);
  const order = copyCost(orders[0]) <= copyCost(orders[1]) ? orders[0] : orders[1];
  if (groupStride(a, left) === null || groupStride(a, order) === null) {
    a = sumTo(a, [...batch, ...left, ...order], dtype);
  }
  if (groupStride(b, order) === null || groupStride(b, right) === null) {
    b = sumTo(b, [...batch, ...order, ...right], dtype);
  }
  const m = groupSize(a, left);
  const n = groupSize(b, right);
  const k = groupSize(a, order);
  const names = [...batch, ...left, ...right];
  const shape = [
    ...batch.map((name) => dimSize(a, name)),
    ...groupShape(a, left),
    ...groupShape(b, right),
  ];
  const out = allocate(dtype, shapeSize(shape));
  const batchShape = batch.map((name) => dimSize(a, name));
  const aBatch = batch.map((name) => a.strides[a.names.indexOf(name)]);
  const bBatch = batch.map((name) => b.strides[b.names.indexOf(name)]);
  const aRow = groupStride(a, left)!;
  const aCol = groupStride(a, order)!;
  const bRow = groupStride(b, order)!;
  const bCol = groupStride(b, right)!;
  const batchCount = shapeSize(batchShape);
  const index = new Array<number>(batchShape.length).fill(0);
  let aAt = a.offset;
  let bAt = b.offset;
  // Decided on the plan's full sizes, so that every shard runs the same kernel.
  const fullSize = (names: readonly string[]) => shapeSize(names.map((name) => sizes.get(name)!));
  const direct = fullSize(left) * fullSize(right) * k <= DIRECT_LOOP_LIMIT;
  for (let entry = 0, cAt = 0; entry < batchCount; entry++, cAt += m * n) {
    if (direct) {
      directProduct(m, n, k, a.data, aAt, aRow, aCol, b.data, bAt, bRow, bCol, out, cAt);
    } else {
      gemm(
        m,
        n,
        k,
        { data: a.data, offset: aAt, rowStride: aRow, colStride: aCol },
        { data: b.data, offset: bAt, rowStride: bRow, colStride: bCol },
        { data: out, offset: cAt, rowStride: n, colStride: 1 },
      );
    }
    for (let d = batchShape.length - 1; d >= 0; d--) {
      aAt += aBatch[d];
      bAt += bBatch[d];
      if (++index[d] < batchShape[d]) break;
      aAt -= aBatch[d] * batchShape[d];
      bAt -= bBatch[d] * batchShape[d];
      index[d] = 0;
    }
  }
  return { data: out, offset: 0, names, shape, strides: contiguousStrides(shape), owned: true };
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
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let total = 0;
      for (let p = 0, x = aAt + i * aRow, y = bAt + j * bCol; p < k; p++, x += aCol, y += bRow) {
        total += a[x] * b[y];
      }
      c[cAt + i * n + j] = total;
    }
  }
}
