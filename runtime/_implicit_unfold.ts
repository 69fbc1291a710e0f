// An unfold (im2col) as a gather of padded images (see _implicit_gemm.ts): the unfolded
// input the implicit GEMMs read through offset tables, written out row by row.
import { copyElements } from "./_copy_elements.ts";
import type { DType } from "./tensor.ts";
import { allocate, contiguousStrides, forEachOffsetPair, shapeSize } from "./_tensor.ts";
import {
  type Band,
  bandOutputs,
  outputBands,
  outputOffsets,
  stageImage,
  type TapRule,
} from "./_padded_image.ts";
import {
  gatherRunsInMemory,
  wasmMemoryView,
  wasmScratchReserve,
  withWasmScratch,
} from "./_wasm_gemm.ts";
import {
  type BandLayout,
  bandLayout,
  type Data,
  PLANES_PER_BAND,
  reserveImage,
  reserveOffsets,
  roleOffsets,
  type RoleView,
  ruleSizes,
  STAGE_ELEMENTS,
} from "./_implicit_roles.ts";

/**
 * Writes into `target` when given (exactly the result's size), else into a new array,
 * `U[rows, k, o] = T[rows, i(k, o)]` (0 where a tap falls outside the input), row-major,
 * with `k` and `o` the flattened kernel taps and outputs of the tap rules and `rows` the
 * flattened rows entries of `t` (every index of T but its inputs). Images are staged in
 * bands of output lines (each plane's band at most `stageElements / PLANES_PER_BAND`, or
 * one line) and, within a band, as many planes at a time as fit in `stageElements`; each
 * row of the result is copied from the padded image run by run of consecutive inputs.
 */
export function implicitUnfold(
  t: RoleView,
  rules: readonly TapRule[],
  dtype: DType,
  target?: Data,
  stageElements: number = STAGE_ELEMENTS,
): Data {
  const planes = shapeSize(t.shapes.rows);
  const { taps, outputs } = ruleSizes(rules);
  const out = target ?? allocate(dtype, planes * taps * outputs);
  if (out.length === 0) return out;
  const starts = roleOffsets(t, "rows").map((offset) => t.offset + offset);
  const bands = outputBands(rules, bandOutputs(rules, PLANES_PER_BAND, stageElements));
  const lineOutputs = outputs / rules[0].outputSize;
  for (const band of bands) {
    withWasmScratch(() => {
      const layout = unfoldLayout(band, planes, stageElements);
      const columns = ruleSizes(band.rules).outputs;
      const imageAt = reserveImage(dtype, layout.chunk * layout.geometry.plane);
      const resultAt = wasmScratchReserve(dtype, layout.chunk * taps * columns);
      const firstColumn = band.firstOutput * lineOutputs;
      for (let first = 0; first < planes; first += layout.chunk) {
        const group = starts.slice(first, first + layout.chunk);
        unfoldBand(t, layout, group, dtype, imageAt, resultAt, columns);
        const heap = wasmMemoryView(dtype);
        if (columns === outputs) {
          const size = group.length * taps * columns;
          copyElements(out, first * taps * outputs, heap, resultAt, resultAt + size);
          continue;
        }
        for (let row = 0; row < group.length * taps; row++) {
          const from = resultAt + row * columns;
          copyElements(
            out,
            (first * taps + row) * outputs + firstColumn,
            heap,
            from,
            from + columns,
          );
        }
      }
    });
  }
  return out;
}

/** A band's layout for unfolding (see {@linkcode bandLayout}), with the runs of
 * consecutive inputs its output columns read (int32 pairs in WASM memory). */
export interface UnfoldLayout extends BandLayout {
  readonly band: Band;
  readonly runsAt: number;
  readonly runs: number;
}

/** The layout of a band of up to `planes` planes staged within `stageElements`. */
export function unfoldLayout(
  band: Band,
  planes: number,
  stageElements: number = STAGE_ELEMENTS,
): UnfoldLayout {
  const layout = bandLayout(band.rules, planes, stageElements);
  const runs = columnRuns(outputOffsets(band.rules, layout.geometry));
  return { ...layout, band, runsAt: reserveOffsets(runs), runs: runs.length / 2 };
}

/**
 * Writes the band's unfolded rows of the planes starting at `starts` (element offsets into
 * `t.data`, before the band's shift) into WASM memory at element `at`: row `(p, k)` (plane
 * `p`, flattened tap `k`) holds the band's outputs and starts `rowStride` elements after
 * the previous row. Planes are staged `layout.chunk` at a time into the padded image at
 * `imageAt` (reserved by {@linkcode reserveImage} for that many planes; its borders stay
 * zero, so it serves every call of one layout).
 */
export function unfoldBand(
  t: RoleView,
  layout: UnfoldLayout,
  starts: readonly number[],
  dtype: DType,
  imageAt: number,
  at: number,
  rowStride: number,
): void {
  const { band, geometry, chunk } = layout;
  const taps = ruleSizes(band.rules).taps;
  const shift = band.firstInput * t.strides.taps[0];
  for (let first = 0; first < starts.length; first += chunk) {
    const planes = starts.slice(first, first + chunk).map((start) => start + shift);
    stageImage(dtype, imageAt, geometry, band.rules, t.data, planes, t.strides.taps);
    gatherRunsInMemory(
      dtype,
      planes.length * taps,
      imageAt,
      layout.planeTapsAt,
      layout.runsAt,
      layout.runs,
      at + first * taps * rowStride,
      rowStride,
    );
  }
}

/**
 * Writes into `target` when given (exactly the result's size), else into a new array, the
 * unfold of a transposed convolution: `U[rows, k, i] = T[rows, o]` where `i = base[k] +
 * o·stride` in every dimension (0 where no output reaches `i`), row-major; `t`'s taps are
 * the rules' outputs (`outputSize` each) and the result holds their inputs (`inputSize`).
 * Each row `(rows, k)` is zero but for every stride-th input, which a loop over the
 * outputs that reach them fills from T's lines.
 */
export function transposedUnfold(
  t: RoleView,
  rules: readonly TapRule[],
  dtype: DType,
  target?: Data,
): Data {
  const { taps, inputs } = ruleSizes(rules);
  const starts = roleOffsets(t, "rows");
  const out = target?.fill(0) ?? allocate(dtype, starts.length * taps * inputs);
  if (out.length === 0) return out;
  const n = rules.length;
  const last = n - 1;
  const inputStrides = contiguousStrides(rules.map((rule) => rule.inputSize));
  const src = t.data;
  const srcStep = t.strides.taps[last];
  const dstStep = rules[last].stride;
  const kernel = rules.map((rule) => rule.kernelSize);
  forEachOffsetPair(kernel, kernel.map(() => 0), 0, contiguousStrides(kernel), 0, (_, k) => {
    // This tap's outputs that land inside, per dimension, and where the first lands.
    const tap = new Array<number>(n);
    let flat = k;
    for (let d = last; d >= 0; d--) {
      tap[d] = flat % kernel[d];
      flat = Math.floor(flat / kernel[d]);
    }
    const ranges = rules.map((rule, d) => {
      const base = rule.base[tap[d]];
      const first = Math.max(0, Math.ceil(-base / rule.stride));
      const end = Math.min(rule.outputSize, Math.ceil((rule.inputSize - base) / rule.stride));
      return { first, count: Math.max(0, end - first), at: base + first * rule.stride };
    });
    if (ranges.some((range) => range.count === 0)) return;
    const length = ranges[last].count;
    const outer = ranges.slice(0, last).map((range) => range.count);
    const srcOuter = t.strides.taps.slice(0, last);
    const dstOuter = rules.slice(0, last).map((rule, d) => rule.stride * inputStrides[d]);
    const srcFirst = ranges.reduce((sum, range, d) => sum + range.first * t.strides.taps[d], 0);
    const dstFirst = ranges.reduce((sum, range, d) => sum + range.at * inputStrides[d], 0);
    starts.forEach((start, r) => {
      const block = (r * taps + k) * inputs;
      forEachOffsetPair(
        outer,
        srcOuter,
        t.offset + start + srcFirst,
        dstOuter,
        block + dstFirst,
        (from, to) => {
          for (let e = 0; e < length; e++, from += srcStep, to += dstStep) out[to] = src[from];
        },
      );
    });
  });
  return out;
}

/** The maximal runs of consecutive offsets in `offsets`, as (first offset, length) pairs. */
function columnRuns(offsets: Int32Array): Int32Array {
  const runs: number[] = [];
  for (let j = 0; j < offsets.length;) {
    let length = 1;
    while (j + length < offsets.length && offsets[j + length] === offsets[j] + length) length++;
    runs.push(offsets[j], length);
    j += length;
  }
  return Int32Array.from(runs);
}
