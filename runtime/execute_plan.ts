// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import type { ContractionPlan, ImplicitGemm } from "./contract_path.ts";
import { implicitGemmOrder } from "./_conv_motif.ts";
import { implicitGemm, type TapRule } from "./_implicit_gemm.ts";
import { implicitUnfold, transposedUnfold } from "./_implicit_unfold.ts";
import { implicitKfc, KFC_BAND_ELEMENTS } from "./_implicit_kfc.ts";
import { type ImplicitKfc, implicitKfcOrder } from "./_kfc_motif.ts";
import { type KfcTriangle, kfcTriangle } from "./kfc_triangle.ts";
import { implicitInputGemm } from "./_implicit_input_gemm.ts";
import { implicitWeightGemm } from "./_implicit_weight_gemm.ts";
import type { Data, RoleView } from "./_implicit_roles.ts";
import { contiguous, type DType, dtypeOf, type NdArray, resultDType } from "./tensor.ts";
import { checkTensor } from "./validate.ts";
import {
  contiguousStrides,
  copyToStrided,
  forEachOffsetPair,
  isRowMajor,
  shapeSize,
} from "./_tensor.ts";
import { isVirtualIndexPattern, patternInput } from "./index_pattern_registry.ts";
import { isContiguous, leafView, sumTo, type View } from "./_view.ts";
import { contractPair } from "./_pair_kernels.ts";
import { contractPattern, densePattern } from "./_pattern_kernels.ts";

/** Options of {@linkcode executePlan}. */
export interface ExecutePlanOptions {
  /** Compute only the part of the result where output index `index` lies in
   * `[start, end)`: every operand holding that index is read through a slice. */
  shard?: { index: string; start: number; end: number };
  /** Write the result (or the shard) into this view instead of a new array; its shape
   * must be the result's (the shard's) shape. It may share memory with the operands: the
   * result is then computed aside and copied in at the end. */
  out?: NdArray;
  /** For a KFC of one tensor with itself (see {@linkcode kfcTriangle}; a RangeError
   * otherwise, or when `shard` splits another index than its `index`): compute only the
   * entries on and above each factor's diagonal, each bit for bit as in the whole result;
   * the others are left as they were in `out` or are zeros. Shards of
   * {@linkcode triangleShards} then share the work evenly, and
   * {@linkcode mirrorUpperTriangle} completes the result once all are done. */
  upperTriangle?: boolean;
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
  const { shard, out, upperTriangle } = options;
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
  const triangle = upperTriangle ? kfcTriangle(plan, operands) : null;
  if (
    upperTriangle && (triangle === null || (shard !== undefined && shard.index !== triangle.index))
  ) {
    throw new RangeError(
      `Cannot read upperTriangle: ${JSON.stringify(plan.equation)} is no KFC of one tensor ` +
        `with itself${triangle === null ? "" : ` sharded along ${JSON.stringify(triangle.index)}`}`,
    );
  }
  operands.forEach((x, at) => {
    if (plan.patterns[at] === undefined && isVirtualIndexPattern(x)) {
      throw new RangeError(
        `Cannot read operand ${at}: a virtual index pattern must be planned as a pattern, not as a dense tensor`,
      );
    }
  });
  const dtype = resultDType(operands);
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
  const output = plan.parsed.output;
  // Kernels write straight into `out` when it is contiguous and of the result's type, does
  // not share memory with an operand (which the kernels would read after writing) and
  // they can lay out the output's order.
  const direct = out !== undefined && dtypeOf(out) === dtype && isContiguousArray(out) &&
    operands.every((x) => x.data.buffer !== out.data.buffer);
  const target = direct ? out.data.subarray(out.offset, out.offset + out.size) : undefined;
  const fused = plan.implicitGemm !== null
    ? runImplicitGemm(plan.implicitGemm, views, dtype, output, target)
    : plan.implicitKfc !== null
    ? runImplicitKfc(
      plan,
      plan.implicitKfc,
      views,
      dtype,
      target,
      triangle === null ? undefined : { triangle, start: shard?.start ?? 0 },
    )
    : null;
  if (fused !== null) {
    if (target !== undefined && fused.data === target) return out!;
    views.splice(0, views.length, fused);
  }
  for (const step of fused === null ? plan.steps : []) {
    if (step.operands.length !== 2) break;
    const [i, j] = step.operands;
    const a = views[i];
    const b = views[j];
    views.splice(j, 1);
    views.splice(i, 1);
    const keep = new Set(step.result);
    views.push(
      a.pattern !== undefined
        ? contractPattern(
          a,
          b.pattern !== undefined ? densePattern(b, dtype) : b,
          keep,
          dtype,
          plan.sizes,
        )
        : b.pattern !== undefined
        ? contractPattern(b, a, keep, dtype, plan.sizes)
        : views.length === 0
        ? contractPair(a, b, keep, dtype, plan.sizes, output, target)
        : contractPair(a, b, keep, dtype, plan.sizes),
    );
  }
  const last = views[0];
  if (target !== undefined && last.data === target) return out!;
  const inOrder = last.names.join("\u0000") === output.join("\u0000");
  if (out !== undefined) {
    const source = inOrder ? last : sumTo(last, output, dtype);
    copyInto(source, out, dtype);
    return out;
  }
  const result = last.owned && inOrder && isContiguous(last) ? last : sumTo(last, output, dtype);
  return ndarray(result.data, [...result.shape]);
}

/** Copies a view into a destination ndarray of the same shape; a source that shares memory
 * with it (an operand passed through, as in `i->i`) is read as it was. */
function copyInto(source: View, out: NdArray, dtype: DType): void {
  let flat = isContiguous(source) ? source.data : sumTo(source, source.names, dtype).data;
  if (flat.buffer === out.data.buffer) flat = flat.slice();
  copyToStrided(flat, out.data, out.offset, out.shape, out.stride);
}

/** Whether an ndarray's elements fill one row-major block of its data. */
function isContiguousArray(x: NdArray): boolean {
  return isRowMajor(x.shape, x.stride) && x.offset + shapeSize(x.shape) <= x.data.length;
}

/** Runs a convolution-shaped plan as one implicit GEMM (see `_implicit_gemm.ts`) and
 * returns its result: in the order `output` when the kernel can write it (its blocks of
 * channels and positions innermost), into `target` then if given; else over `[batch,
 * rows, channels, positions]` (`[batch, channels, rows, taps]` for a weight gradient). */
function runImplicitGemm(
  motif: ImplicitGemm,
  views: readonly View[],
  dtype: DType,
  output: readonly string[],
  target?: Float32Array | Float64Array,
): View {
  const t = views[motif.data];
  const patterns = motif.patterns.map((at) => views[at]);
  const [kernels, outputs, inputs] = [0, 1, 2].map((at) => motif.taps.map((tap) => tap[at]));
  const tRoles = roleView(t, {
    batch: motif.batch,
    rows: motif.rows,
    contracted: motif.contracted,
    channels: [],
    taps: motif.kind === "transposeUnfold" ? outputs : inputs,
  });
  const rules = tapRules(patterns);
  const sizeOf = viewSizes(views);
  const view = (names: readonly string[], data: Data) => ownedView(names, sizeOf, data);
  const names = implicitGemmOrder(motif, output);
  const fits = names.join("\u0000") === output.join("\u0000");
  if (motif.weight === null) {
    const unfold = motif.kind === "unfold" ? implicitUnfold : transposedUnfold;
    return view(names, unfold(tRoles, rules, dtype, fits ? target : undefined));
  }
  const wRoles = roleView(views[motif.weight], {
    batch: motif.batch,
    rows: [],
    contracted: motif.contracted,
    channels: motif.channels,
    taps: motif.kind === "weight" ? outputs : kernels,
  });
  if (motif.kind === "weight") {
    return view(names, implicitWeightGemm(tRoles, wRoles, rules, dtype, fits ? target : undefined));
  }
  const strides = contiguousStrides(names.map((name) => sizeOf.get(name)!));
  const offsets = (outer: readonly string[]) => {
    const list: number[] = [];
    const outerStrides = outer.map((name) => strides[names.indexOf(name)]);
    const outerShape = outer.map((name) => sizeOf.get(name)!);
    forEachOffsetPair(outerShape, outerStrides, 0, outerStrides, 0, (at) => list.push(at));
    return list;
  };
  const blocks = { batch: offsets(motif.batch), rows: offsets(motif.rows) };
  const into = fits ? target : undefined;
  if (motif.kind === "input") {
    const vRoles = roleView(t, {
      batch: motif.batch,
      rows: motif.rows,
      contracted: motif.contracted,
      channels: [],
      taps: outputs,
    });
    return view(names, implicitInputGemm(vRoles, wRoles, rules, dtype, into, blocks));
  }
  return view(names, implicitGemm(tRoles, wRoles, rules, dtype, into, blocks));
}

/** Runs a KFC plan as one GEMM per image of its two unfolded inputs (see
 * `_implicit_kfc.ts`) and returns its result over `[batch, rows₁, k₁, rows₂, k₂]`, into
 * `target` when that is the output's order. With `upper` (the triangle and the first entry
 * of its index that the views hold), only the entries on and above the diagonal. */
function runImplicitKfc(
  plan: ContractionPlan,
  motif: ImplicitKfc,
  views: readonly View[],
  dtype: DType,
  target?: Float32Array | Float64Array,
  upper?: { triangle: KfcTriangle; start: number },
): View {
  const sides = [0, 1] as const;
  // The second side from the same rows on as the first: the columns right of its diagonal.
  const second = upper === undefined
    ? views[motif.data[1]]
    : rowsFrom(views[motif.data[1]], motif.rows[1][0], upper.start);
  const data = sides.map((s) =>
    roleView(s === 0 ? views[motif.data[0]] : second, {
      batch: motif.batch,
      rows: motif.rows[s],
      contracted: motif.contracted,
      channels: [],
      taps: motif.taps[s].map((tap) => tap[2]),
    })
  ) as [RoleView, RoleView];
  const rules = sides.map((s) => tapRules(motif.patterns[s].map((at) => views[at]))) as [
    TapRule[],
    TapRule[],
  ];
  // Bands of outputs from the whole problem's sizes, which no shard changes.
  const full = (names: readonly string[]) =>
    names.reduce((product, name) => product * plan.sizes.get(name)!, 1);
  const widest = Math.max(
    ...sides.map((s) => full([...motif.rows[s], ...motif.taps[s].map((tap) => tap[0])])),
  );
  const outputs = motif.taps[0].map((tap) => plan.sizes.get(tap[1])!);
  const lineOutputs = outputs.slice(1).reduce((a, b) => a * b, 1);
  const outputsPerBand = Math.max(
    1,
    Math.min(outputs[0], Math.floor(KFC_BAND_ELEMENTS / Math.max(1, widest * lineOutputs))),
  );
  let factor = 1;
  for (const at of motif.scalars) {
    const view = views[at];
    let sum = 0;
    forEachOffsetPair(view.shape, view.strides, view.offset, view.strides, 0, (i) => {
      sum += view.data[i];
    });
    factor *= sum;
  }
  const names = implicitKfcOrder(motif);
  const fits = names.join("\u0000") === plan.parsed.output.join("\u0000");
  const result = implicitKfc(
    data,
    rules,
    outputsPerBand,
    factor,
    dtype,
    fits ? target : undefined,
    upper === undefined ? undefined : upper.start * upper.triangle.rowsPerEntry,
  );
  return ownedView(names, viewSizes(views), result);
}

/** `view` from entry `start` of index `name` on. */
function rowsFrom(view: View, name: string, start: number): View {
  const d = view.names.indexOf(name);
  const shape = [...view.shape];
  shape[d] -= start;
  return { ...view, offset: view.offset + start * view.strides[d], shape };
}

/** Each index's size in the operands' views (narrowed to a shard, if any). */
function viewSizes(views: readonly View[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const view of views) view.names.forEach((name, d) => sizes.set(name, view.shape[d]));
  return sizes;
}

/** A new row-major result over `names`, sized by `sizes`, holding `data`. */
function ownedView(names: readonly string[], sizes: ReadonlyMap<string, number>, data: Data): View {
  const shape = names.map((name) => sizes.get(name)!);
  return {
    data,
    offset: 0,
    names: [...names],
    shape,
    strides: contiguousStrides(shape),
    owned: true,
  };
}

/** A view seen by the roles of its dimensions (see `_implicit_roles.ts`). */
function roleView(view: View, names: Record<string, readonly string[]>): RoleView {
  const pick = (values: number[]) =>
    Object.fromEntries(
      Object.entries(names).map((
        [key, list],
      ) => [key, list.map((name) => values[view.names.indexOf(name)])]),
    ) as unknown as RoleView["shapes"];
  return {
    data: view.data,
    offset: view.offset,
    shapes: pick(view.shape),
    strides: pick(view.strides),
  };
}

/** The tap rules of pattern views (narrowed by a shard: their origins say where). */
function tapRules(patterns: readonly View[]): TapRule[] {
  return patterns.map((view) => {
    const p = view.pattern!;
    const [kOrigin, oOrigin, iOrigin] = view.origin!;
    const [kernelSize, outputSize, inputSize] = view.shape;
    const base = new Int32Array(kernelSize);
    for (let k = 0; k < kernelSize; k++) {
      base[k] = patternInput(p, k + kOrigin, oOrigin) - iOrigin;
    }
    return { base, stride: p.stride, kernelSize, outputSize, inputSize };
  });
}
