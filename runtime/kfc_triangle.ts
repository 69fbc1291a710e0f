import type { ContractionPlan } from "./contract_path.ts";
import type { ShardPlan } from "./plan_shards.ts";
import { implicitKfcOrder } from "./_kfc_motif.ts";
import { type NdArray, sameView } from "./tensor.ts";

/**
 * A KFC (Kronecker factor) plan whose two unfolded inputs are the same numbers, so that
 * each batch entry of its result is a symmetric `size × size` matrix: what
 * {@linkcode kfcTriangle} found.
 */
export interface KfcTriangle {
  /** The output index that numbers the factor's rows in blocks (the first data operand's
   * first rows index, e.g. its channels): shards split it. */
  readonly index: string;
  /** Rows (and columns) of the factor per entry of `index` (e.g. the kernel's taps). */
  readonly rowsPerEntry: number;
  /** Rows (and columns) of the factor. */
  readonly size: number;
  /** Batch entries of the result (e.g. groups), each one factor. */
  readonly batches: number;
}

/**
 * Whether a plan is a KFC of one tensor with itself: its two data operands are the same
 * numbers (the same storage, offset, shape and strides) unfolded by equal index patterns,
 * and its output is laid out as the factor `[batch, rows₁, taps₁, rows₂, taps₂]`. Then
 * only the entries on and above each factor's diagonal need computing (see
 * {@linkcode executePlan}'s `upperTriangle`); the rest mirror them bit for bit.
 *
 * @param plan A plan from {@linkcode contractPath}.
 * @param operands The tensors it will run on.
 * @returns The factor's layout, or `null` when the plan is no such KFC.
 *
 * @example The KFC of a convolution's input with itself (3×3 kernel, padding 1)
 * ```ts
 * import assert from "node:assert/strict";
 * import { contractPath, kfcTriangle, zeros } from "@einconv/runtime";
 *
 * const x = zeros([2, 4, 6, 6], "float32");
 * const taps = { inputSize: 6, kernelSize: 3, outputSize: 6, stride: 1, paddingLeft: 1,
 *   paddingRight: 1, dilation: 1 };
 * const p = zeros([3, 6, 6]); // stands for the index pattern: never read
 * const plan = contractPath("nabc,deb,fgc,hei,jgk,nlik->adflhj", x.shape, p.shape, p.shape,
 *   p.shape, p.shape, x.shape, { patterns: [undefined, taps, taps, taps, taps, undefined] });
 * const triangle = kfcTriangle(plan, [x, p, p, p, p, x]);
 * assert.deepEqual(triangle, { index: "a", rowsPerEntry: 9, size: 36, batches: 1 });
 * assert.equal(kfcTriangle(plan, [x, p, p, p, p, zeros([2, 4, 6, 6], "float32")]), null);
 * ```
 */
export function kfcTriangle(
  plan: ContractionPlan,
  operands: readonly NdArray[],
): KfcTriangle | null {
  const motif = plan.implicitKfc;
  if (motif === null) return null;
  const order = implicitKfcOrder(motif);
  if (order.join("\u0000") !== plan.parsed.output.join("\u0000")) return null;
  const [first, second] = motif.data.map((at) => operands[at]);
  const same = (a: readonly number[], b: readonly number[]) =>
    a.length === b.length && a.every((value, at) => value === b[at]);
  if (
    first === undefined || second === undefined || !sameView(first, second) ||
    motif.rows[0].length === 0 || motif.rows[0].length !== motif.rows[1].length ||
    motif.patterns[0].length !== motif.patterns[1].length
  ) {
    return null;
  }
  // Both sides' indices in their operands' order: the same positions, the same roles.
  const names = motif.data.map((at) => plan.parsed.inputs[at]);
  const roleOf = (side: 0 | 1, name: string) =>
    motif.batch.includes(name) || motif.contracted.includes(name)
      ? name
      : motif.rows[side].includes(name)
      ? `rows ${motif.rows[side].indexOf(name)}`
      : `input ${motif.taps[side].findIndex((tap) => tap[2] === name)}`;
  if (!names[0].every((name, d) => roleOf(0, name) === roleOf(1, names[1][d]))) return null;
  for (let d = 0; d < motif.patterns[0].length; d++) {
    const [a, b] = motif.patterns.map((list) => list[d]);
    if (
      JSON.stringify(plan.patterns[a]) !== JSON.stringify(plan.patterns[b]) ||
      !same(plan.inputShapes[a], plan.inputShapes[b])
    ) {
      return null;
    }
  }
  const size = (list: readonly string[]) =>
    list.reduce((product, name) => product * plan.sizes.get(name)!, 1);
  const factor = size([...motif.rows[0], ...motif.taps[0].map((tap) => tap[0])]);
  const index = motif.rows[0][0];
  return {
    index,
    rowsPerEntry: factor / plan.sizes.get(index)!,
    size: factor,
    batches: size(motif.batch),
  };
}

/**
 * Shards of a symmetric KFC (see {@linkcode kfcTriangle}) that each compute the entries on
 * and above the diagonal of a band of rows, as even in work as whole entries of the index
 * allow: a band of rows `[r₀, r₁)` costs `Σ (size − r)`, so the first bands are narrower.
 * Pure: only the triangle's sizes are read.
 *
 * @param triangle What {@linkcode kfcTriangle} found.
 * @param count Shards wanted, a positive integer (fewer when the index is shorter).
 * @returns Boundaries along `triangle.index`, with the largest shard's share of the work
 *   (in entries computed, times the plan's FLOPs per entry when given).
 *
 * @example Two shards of a 64-channel factor
 * ```ts
 * import assert from "node:assert/strict";
 * import { triangleShards } from "@einconv/runtime";
 *
 * const shards = triangleShards({ index: "a", rowsPerEntry: 9, size: 576, batches: 1 }, 2);
 * assert.deepEqual(shards.boundaries, [0, 19, 64]); // 19 rows of 64 hold half the triangle
 * ```
 */
export function triangleShards(
  triangle: KfcTriangle,
  count: number,
  flopsPerEntry = 1,
): ShardPlan {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`Cannot read count: expected a positive integer, got ${count}`);
  }
  const { index, rowsPerEntry, size } = triangle;
  const entries = size / rowsPerEntry;
  const pieces = Math.min(count, entries);
  // Work of the bands before entry e: the upper triangle's entries in rows [0, e·rows).
  const work = (e: number) => {
    const rows = e * rowsPerEntry;
    return rows * size - (rows * (rows - 1)) / 2;
  };
  const total = work(entries);
  const boundaries = [0];
  for (let s = 1; s < pieces; s++) {
    let e = boundaries[s - 1] + 1;
    while (e < entries - (pieces - s) && work(e) < (total * s) / pieces) e++;
    // The nearer of the entries around the ideal split.
    if (
      e > boundaries[s - 1] + 1 && total * s / pieces - work(e - 1) < work(e) - total * s / pieces
    ) {
      e--;
    }
    boundaries.push(e);
  }
  boundaries.push(entries);
  let largest = 0;
  for (let s = 0; s < pieces; s++) {
    largest = Math.max(largest, work(boundaries[s + 1]) - work(boundaries[s]));
  }
  return {
    index,
    boundaries,
    shardFlops: largest * flopsPerEntry * triangle.batches,
    repeatedFlops: 0,
  };
}

/**
 * Fills the entries below the diagonal of each `size × size` row-major factor in `data`
 * (one after the other, `batches` of them) with those above it, in place.
 *
 * @param data The factors.
 * @param triangle Their layout, from {@linkcode kfcTriangle}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mirrorUpperTriangle } from "@einconv/runtime";
 *
 * const data = new Float64Array([1, 2, 3, 0, 4, 5, 0, 0, 6]);
 * mirrorUpperTriangle(data, { index: "c", rowsPerEntry: 1, size: 3, batches: 1 });
 * assert.deepEqual(Array.from(data), [1, 2, 3, 2, 4, 5, 3, 5, 6]);
 * ```
 */
export function mirrorUpperTriangle(
  data: Float32Array | Float64Array,
  triangle: KfcTriangle,
): void {
  const { size, batches } = triangle;
  for (let b = 0, base = 0; b < batches; b++, base += size * size) {
    for (let i = 1; i < size; i++) {
      for (let j = 0; j < i; j++) data[base + i * size + j] = data[base + j * size + i];
    }
  }
}
