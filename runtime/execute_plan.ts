// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import type { ContractionPlan, ImplicitGemm } from "./contract_path.ts";
import {
  implicitGemm,
  implicitInputGemm,
  implicitWeightGemm,
  type RoleView,
  type TapRule,
} from "./_implicit_gemm.ts";
import { gemm } from "./gemm.ts";
import { contiguous, type DType, dtypeOf, type NdArray } from "./tensor.ts";
import { checkTensor } from "./validate.ts";
import { allocate, copyStrided, forEachOffsetPair, shapeSize } from "./_tensor.ts";
import { isVirtualIndexPattern, type PatternHyperparameters } from "./index_pattern_registry.ts";

type Data = Float32Array | Float64Array;

/** A strided tensor whose dimensions carry index names (all different). */
interface View {
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

/** Below this many multiply-adds per batch entry, a direct loop beats packing for GEMM. */
const DIRECT_LOOP_LIMIT = 512;

/** Options of {@linkcode executePlan}. */
export interface ExecutePlanOptions {
  /** Compute only the part of the result where output index `index` lies in
   * `[start, end)`: every operand holding that index is read through a slice. */
  shard?: { index: string; start: number; end: number };
  /** Write the result (or the shard) into this view instead of a new array; its shape
   * must be the result's (the shard's) shape. */
  out?: NdArray;
}

/**
 * Runs a plan on operands whose shapes match it: diagonal and broadcast views of the
 * inputs, then every step — a convolution as one implicit GEMM, index patterns as
 * gathers and scatters, other pairs as (batched) GEMMs — then the final reduction or
 * permutation. Inputs are only read; the result is a new C-contiguous ndarray unless
 * `options.out` is given.
 *
 * A shard runs the very same kernels on the same sums as the whole contraction (kernel
 * choices depend on the plan's full sizes), so shards put together equal the whole
 * result bit for bit.
 *
 * @param plan A plan from {@linkcode contractPath} for the operands' shapes.
 * @param operands The tensors, one per term of the plan's equation.
 * @param options An output index range to compute, and where to write.
 * @returns The result, or `options.out` after writing into it.
 *
 * @example Two shards of a matrix product
 * ```ts
 * import assert from "node:assert/strict";
 * import { contractPath, executePlan, tensor, zeros } from "@einconv/runtime";
 *
 * const a = tensor([[1, 2], [3, 4], [5, 6]]);
 * const b = tensor([[1, 0], [0, 1]]);
 * const plan = contractPath("ij,jk->ik", a, b);
 * const out = zeros([3, 2]);
 * executePlan(plan, [a, b], { shard: { index: "i", start: 0, end: 2 }, out: out.hi(2, 2) });
 * executePlan(plan, [a, b], { shard: { index: "i", start: 2, end: 3 }, out: out.lo(2, 0) });
 * assert.deepEqual(Array.from(out.data), [1, 2, 3, 4, 5, 6]);
 * ```
 */
export function executePlan(
  plan: ContractionPlan,
  operands: readonly NdArray[],
  options: ExecutePlanOptions = {},
): NdArray {
  const { shard, out } = options;
  if (operands.length !== plan.inputShapes.length) {
    throw new RangeError(
      `Cannot run plan of ${
        JSON.stringify(plan.equation)
      }: it takes ${plan.inputShapes.length} operands, got ${operands.length}`,
    );
  }
  operands.forEach((x, at) => {
    checkTensor(x, `operand ${at}`);
    if (x.shape.join() !== plan.inputShapes[at].join()) {
      throw new RangeError(
        `Cannot read operand ${at}: the plan is for shape [${
          plan.inputShapes[at]
        }], got [${x.shape}]`,
      );
    }
  });
  const shape = [...plan.outputShape];
  if (shard !== undefined) {
    const at = plan.parsed.output.indexOf(shard.index);
    const size = plan.sizes.get(shard.index);
    if (
      at < 0 || !Number.isInteger(shard.start) || !Number.isInteger(shard.end) ||
      !(0 <= shard.start && shard.start <= shard.end && shard.end <= size!)
    ) {
      throw new RangeError(
        `Cannot read shard: expected an output index of ${
          JSON.stringify(plan.equation)
        } and 0 <= start <= end <= its size, got ${JSON.stringify(shard)}`,
      );
    }
    shape[at] = shard.end - shard.start;
  }
  if (out !== undefined && out.shape.join() !== shape.join()) {
    throw new RangeError(`Cannot read out: expected shape [${shape}], got [${out.shape}]`);
  }
  operands.forEach((x, at) => {
    if (plan.patterns[at] === undefined && isVirtualIndexPattern(x)) {
      throw new RangeError(
        `Cannot read operand ${at}: a virtual index pattern must be planned as a pattern, not as a dense tensor`,
      );
    }
  });
  const dtype: DType = operands.every((x) => dtypeOf(x) === "float32") ? "float32" : "float64";
  const views = operands.map((x, at) => {
    // Patterns are never read (virtual ones have no numbers): no dtype conversion.
    const converted = dtypeOf(x) === dtype || plan.patterns[at] !== undefined;
    const view = leafView(
      converted ? x : contiguous(x, dtype),
      plan.parsed.inputs[at],
      plan.sizes,
    );
    const pattern = plan.patterns[at];
    return pattern === undefined ? view : { ...view, pattern, origin: [0, 0, 0] };
  });
  if (shard !== undefined) {
    for (const view of views) {
      const d = view.names.indexOf(shard.index);
      if (d < 0) continue;
      view.offset += shard.start * view.strides[d];
      view.shape[d] = shard.end - shard.start;
      if (view.origin !== undefined) view.origin[d] = shard.start;
    }
  }
  if (plan.implicitGemm !== null) {
    // Straight into `out` when it is a contiguous block of the result's layout and type.
    const direct = out !== undefined && dtypeOf(out) === dtype && isContiguousArray(out) &&
      plan.steps.length === 1;
    const target = direct ? out.data.subarray(out.offset, out.offset + out.size) : undefined;
    const fused = runImplicitGemm(plan.implicitGemm, views, dtype, target);
    if (target !== undefined) return out!;
    views.splice(0, views.length, fused);
  }
  for (const step of plan.implicitGemm === null ? plan.steps : []) {
    if (step.operands.length !== 2) break;
    const [i, j] = step.operands;
    const a = views[i];
    const b = views[j];
    views.splice(j, 1);
    views.splice(i, 1);
    const keep = new Set(step.result);
    views.push(
      a.pattern !== undefined
        ? contractPattern(a, b.pattern !== undefined ? densePattern(b, dtype) : b, keep, dtype)
        : b.pattern !== undefined
        ? contractPattern(b, a, keep, dtype)
        : contractPair(a, b, keep, dtype, plan.sizes),
    );
  }
  const last = views[0];
  const output = plan.parsed.output;
  const inOrder = last.names.join("\u0000") === output.join("\u0000");
  if (out !== undefined) {
    const source = inOrder ? last : sumTo(last, output, dtype);
    copyInto(source, out, dtype);
    return out;
  }
  const result = last.owned && inOrder && isContiguous(last) ? last : sumTo(last, output, dtype);
  return ndarray(result.data, [...result.shape]);
}

/** Copies a view into a destination ndarray of the same shape, element by element. */
function copyInto(source: View, out: NdArray, dtype: DType): void {
  const flat = isContiguous(source) ? source.data : sumTo(source, source.names, dtype).data;
  const rank = out.shape.length;
  if (rank === 0) {
    out.data[out.offset] = flat[0];
    return;
  }
  // Rows of the last dimension as plain loops, the others by odometer.
  const n = out.shape[rank - 1];
  const step = out.stride[rank - 1];
  const dst = out.data;
  forEachOffsetPair(
    out.shape.slice(0, -1),
    out.stride.slice(0, -1),
    out.offset,
    contiguousStridesOf(out.shape.slice(0, -1)),
    0,
    (at, row) => {
      const from = row * n;
      if (step === 1) dst.set(flat.subarray(from, from + n), at);
      else for (let j = 0; j < n; j++) dst[at + j * step] = flat[from + j];
    },
  );
}

/** The operand as a view with one dimension per distinct index: repeated indices
 * become a diagonal (strides added), size-1 dimensions broadcast with stride 0. */
function leafView(x: NdArray, names: readonly string[], sizes: ReadonlyMap<string, number>): View {
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

function isContiguous(view: View): boolean {
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
function sumTo(view: View, keep: readonly string[], dtype: DType): View {
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
      contiguousStridesOf(keptShape),
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
    strides: contiguousStridesOf(shape),
    owned: true,
  };
}

function contiguousStridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = step;
    step *= shape[d];
  }
  return strides;
}

/**
 * Contracts two views into a new contiguous view over `[batch, left, right]`: first
 * each operand is summed over the indices only it has and nobody needs, then a GEMM
 * runs for every batch entry.
 */
function contractPair(
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
  return { data: out, offset: 0, names, shape, strides: contiguousStridesOf(shape), owned: true };
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

/** Whether an ndarray's elements fill one row-major block of its data. */
function isContiguousArray(x: NdArray): boolean {
  let step = 1;
  for (let d = x.shape.length - 1; d >= 0; d--) {
    if (x.shape[d] !== 1 && x.stride[d] !== step) return false;
    step *= x.shape[d];
  }
  return x.offset + step <= x.data.length;
}

/** A pattern view's numbers built from its hyperparameters (patterns may be virtual
 * placeholders without numbers), for a step where it meets another pattern. */
function densePattern(view: View, dtype: DType): View {
  const p = view.pattern!;
  const [kOrigin, oOrigin, iOrigin] = view.origin!;
  const shape = [...view.shape];
  const [kernelSize, outputSize, inputSize] = shape;
  const data = allocate(dtype, kernelSize * outputSize * inputSize);
  for (let k = 0; k < kernelSize; k++) {
    for (let o = 0; o < outputSize; o++) {
      const i = -p.paddingLeft + (k + kOrigin) * p.dilation + (o + oOrigin) * p.stride - iOrigin;
      if (i >= 0 && i < inputSize) data[(k * outputSize + o) * inputSize + i] = 1;
    }
  }
  return {
    data,
    offset: 0,
    names: [...view.names],
    shape,
    strides: contiguousStridesOf(shape),
    owned: true,
  };
}

/** Runs a convolution-shaped plan as one implicit GEMM (see `_implicit_gemm.ts`) and
 * returns its result over `[batch, rows, channels, outputs]`. */
function runImplicitGemm(
  motif: ImplicitGemm,
  views: readonly View[],
  dtype: DType,
  target?: Float32Array | Float64Array,
): View {
  const t = views[motif.data];
  const w = views[motif.weight];
  const patterns = motif.patterns.map((at) => views[at]);
  const dims = (view: View, names: readonly string[]) =>
    names.map((name) => view.names.indexOf(name));
  const role = (view: View, names: Record<string, readonly string[]>): RoleView => {
    const pick = (values: number[]) =>
      Object.fromEntries(
        Object.entries(names).map(([key, list]) => [key, dims(view, list).map((d) => values[d])]),
      ) as unknown as RoleView["shapes"];
    return {
      data: view.data,
      offset: view.offset,
      shapes: pick(view.shape),
      strides: pick(view.strides),
    };
  };
  const [kernels, outputs, inputs] = [0, 1, 2].map((at) => motif.taps.map((tap) => tap[at]));
  const forward = motif.kind === "forward";
  const tRoles = role(t, {
    batch: motif.batch,
    rows: motif.rows,
    contracted: motif.contracted,
    channels: [],
    taps: inputs,
  });
  const wRoles = role(w, {
    batch: motif.batch,
    rows: [],
    contracted: motif.contracted,
    channels: motif.channels,
    taps: motif.kind === "weight" ? outputs : kernels,
  });
  const rules: TapRule[] = patterns.map((view) => {
    const p = view.pattern!;
    const [kOrigin, oOrigin, iOrigin] = view.origin!;
    const [kernelSize, outputSize, inputSize] = view.shape;
    const base = new Int32Array(kernelSize);
    for (let k = 0; k < kernelSize; k++) {
      base[k] = -p.paddingLeft + (k + kOrigin) * p.dilation + oOrigin * p.stride - iOrigin;
    }
    return { base, stride: p.stride, kernelSize, outputSize, inputSize };
  });
  if (motif.kind === "input") {
    const vRoles = role(t, {
      batch: motif.batch,
      rows: motif.rows,
      contracted: motif.contracted,
      channels: [],
      taps: outputs,
    });
    const data = implicitInputGemm(vRoles, wRoles, rules, dtype, target);
    const names = [...motif.batch, ...motif.rows, ...motif.channels, ...inputs];
    const shape = [
      ...vRoles.shapes.batch,
      ...vRoles.shapes.rows,
      ...wRoles.shapes.channels,
      ...rules.map((r) => r.inputSize),
    ];
    return { data, offset: 0, names, shape, strides: contiguousStridesOf(shape), owned: true };
  }
  const data = forward
    ? implicitGemm(tRoles, wRoles, rules, dtype, target)
    : implicitWeightGemm(tRoles, wRoles, rules, dtype, target);
  const names = forward
    ? [...motif.batch, ...motif.rows, ...motif.channels, ...outputs]
    : [...motif.batch, ...motif.channels, ...motif.rows, ...kernels];
  const shape = forward
    ? [
      ...tRoles.shapes.batch,
      ...tRoles.shapes.rows,
      ...wRoles.shapes.channels,
      ...rules.map((r) => r.outputSize),
    ]
    : [
      ...tRoles.shapes.batch,
      ...wRoles.shapes.channels,
      ...tRoles.shapes.rows,
      ...rules.map((r) => r.kernelSize),
    ];
  return { data, offset: 0, names, shape, strides: contiguousStridesOf(shape), owned: true };
}

/**
 * Contracts an index pattern `[k, o, i]` with a tensor as a gather or scatter-add: for
 * every one of the pattern (every kernel tap `k` and output `o` whose input `i` lies
 * inside), the tensor's slice at that `(k, o, i)` is added to the result's slice. Every
 * result entry sums its contributions in the order of the pattern's ones, whatever the
 * loop order, so shards reproduce the whole result bit for bit.
 */
function contractPattern(pattern: View, t: View, keep: ReadonlySet<string>, dtype: DType): View {
  t = dropPrivate(t, pattern, keep, dtype);
  const p = pattern.pattern!;
  const origin = pattern.origin!;
  const other = t.names.filter((name) => !pattern.names.includes(name));
  const kept = pattern.names.filter((name) => keep.has(name));
  const stridesOf = (view: View, names: readonly string[]) =>
    names.map((name) => (view.names.includes(name) ? view.strides[view.names.indexOf(name)] : 0));
  const tPattern = stridesOf(t, pattern.names);
  const tOther = stridesOf(t, other);
  // Other-major when the tensor steps fastest along a pattern index (a gather along its
  // innermost dimension): each slice of the tensor is read once, entries written in a row.
  const smallest = (strides: number[]) =>
    Math.min(...strides.filter((stride) => stride !== 0).map(Math.abs), Infinity);
  const otherMajor = smallest(tPattern) < smallest(tOther);
  const names = otherMajor ? [...other, ...kept] : [...kept, ...other];
  const shape = names.map((name) =>
    pattern.names.includes(name)
      ? pattern.shape[pattern.names.indexOf(name)]
      : t.shape[t.names.indexOf(name)]
  );
  const strides = contiguousStridesOf(shape);
  const result: View = {
    data: allocate(dtype, shapeSize(shape)),
    offset: 0,
    names,
    shape,
    strides,
    owned: true,
  };
  const rPattern = stridesOf(result, pattern.names);
  const rOther = stridesOf(result, other);
  const tOffsets: number[] = [];
  const rOffsets: number[] = [];
  const taps: number[] = [];
  const [kSize, oSize, iSize] = pattern.shape;
  for (let k = 0; k < kSize; k++) {
    for (let o = 0; o < oSize; o++) {
      const i = -p.paddingLeft + (k + origin[0]) * p.dilation + (o + origin[1]) * p.stride -
        origin[2];
      if (i < 0 || i >= iSize) continue;
      tOffsets.push(k * tPattern[0] + o * tPattern[1] + i * tPattern[2]);
      taps.push(k);
      rOffsets.push(k * rPattern[0] + o * rPattern[1] + i * rPattern[2]);
    }
  }
  const otherShape = other.map((name) => t.shape[t.names.indexOf(name)]);
  const src = t.data;
  const dst = result.data;
  if (otherMajor) {
    // For one tap k the outputs o that land inside form one run with constant steps.
    const tStep = tPattern[1] + tPattern[2] * p.stride;
    const rStep = rPattern[1] + rPattern[2] * p.stride;
    const runT: number[] = [];
    const runR: number[] = [];
    const runLength: number[] = [];
    for (let j = 0; j < tOffsets.length; j++) {
      const last = runT.length - 1;
      if (j > 0 && taps[j] === taps[j - 1]) runLength[last]++;
      else {
        runT.push(tOffsets[j]);
        runR.push(rOffsets[j]);
        runLength.push(1);
      }
    }
    const runs = runT.length;
    const starts = Int32Array.from(runT);
    const targets = Int32Array.from(runR);
    const lengths = Int32Array.from(runLength);
    forEachOffsetPair(otherShape, tOther, t.offset, rOther, 0, (tBase, rBase) => {
      for (let r = 0; r < runs; r++) {
        let x = tBase + starts[r];
        let y = rBase + targets[r];
        for (let e = lengths[r]; e > 0; e--) {
          dst[y] += src[x];
          x += tStep;
          y += rStep;
        }
      }
    });
  } else {
    const last = otherShape.length - 1;
    const n = last >= 0 ? otherShape[last] : 1;
    const ts = last >= 0 ? tOther[last] : 0;
    const rs = last >= 0 ? rOther[last] : 0;
    const outer = otherShape.slice(0, -1);
    for (let j = 0; j < tOffsets.length; j++) {
      forEachOffsetPair(
        outer,
        tOther.slice(0, -1),
        t.offset + tOffsets[j],
        rOther.slice(0, -1),
        rOffsets[j],
        (tBase, rBase) => {
          for (let e = 0, x = tBase, y = rBase; e < n; e++, x += ts, y += rs) dst[y] += src[x];
        },
      );
    }
  }
  return result;
}

/** Sums `view` over the indices that neither `other` nor the kept set has. */
function dropPrivate(view: View, other: View, keep: ReadonlySet<string>, dtype: DType): View {
  const needed = view.names.filter((name) => keep.has(name) || other.names.includes(name));
  return needed.length === view.names.length ? view : sumTo(view, needed, dtype);
}

function size(view: View): number {
  return shapeSize(view.shape);
}

function dimSize(view: View, name: string): number {
  return view.shape[view.names.indexOf(name)];
}

function groupShape(view: View, names: readonly string[]): number[] {
  return names.map((name) => dimSize(view, name));
}

function groupSize(view: View, names: readonly string[]): number {
  return shapeSize(groupShape(view, names));
}

/** The names sorted by decreasing stride in `view`, so that groups merge when they can. */
function byStride(view: View, names: readonly string[]): string[] {
  return [...names].sort((x, y) =>
    view.strides[view.names.indexOf(y)] - view.strides[view.names.indexOf(x)]
  );
}

/** The single stride that walks the group's dimensions as one, or null if none does. */
function groupStride(view: View, names: readonly string[]): number | null {
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
