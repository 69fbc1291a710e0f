// The implicit-GEMM kernels of convolution-shaped contractions (see _conv_motif.ts): each
// image is copied, band by band (bounded by STAGE_ELEMENTS), into a zero-padded buffer in
// WASM memory (_padded_image.ts), and the GEMM packs its panels of the unfolded input
// straight from there through offset tables, so the unfolded input is never built. Planning decisions stay in the planner:
// this file only moves numbers for the roles it is given.
import type { DType } from "./tensor.ts";
import { allocate, forEachOffsetPair, shapeSize } from "./_tensor.ts";
import {
  bandInputs,
  bandOutputs,
  IMAGE_SLACK,
  inputBands,
  lineWindow,
  outputBands,
  outputOffsets,
  type PaddedGeometry,
  paddedGeometry,
  planeTapOffsets,
  stageImage,
  tapOffsets,
  type TapRule,
  unstageImage,
} from "./_padded_image.ts";
import {
  gemmIndirectInMemory,
  gemmInMemory,
  scatterAddInMemory,
  wasmMemoryView,
  wasmScratchReserve,
  withWasmScratch,
} from "./_wasm_gemm.ts";

export type { TapRule } from "./_padded_image.ts";

type Data = Float32Array | Float64Array;
type Role = "batch" | "rows" | "contracted" | "channels" | "taps";

/** A strided operand with its dimensions grouped by role. */
export interface RoleView {
  data: Data;
  offset: number;
  /** Sizes and strides per role, in the order the caller lists the role's names. */
  shapes: Record<Role, readonly number[]>;
  strides: Record<Role, readonly number[]>;
}

/** Elements of one block of a forward result in WASM memory (1 MiB in float32). */
const RESULT_ELEMENTS = 1 << 18;

/** Elements of the padded images staged at once (1 MiB in float32, like one packed panel of
 * B): larger images are staged in bands of output lines (see `outputBands`). */
export const STAGE_ELEMENTS = 1 << 18;

/** Where each `[channels, positions]` block of a result starts: the offset of every
 * flattened batch entry plus that of every flattened rows entry. */
export interface BlockOffsets {
  batch: readonly number[];
  rows: readonly number[];
}

/** The offsets of row-major `[batch, rows, block]` blocks. */
function rowMajorBlocks(batches: number, rows: number, block: number): BlockOffsets {
  return {
    batch: Array.from({ length: batches }, (_, b) => b * rows * block),
    rows: Array.from({ length: rows }, (_, r) => r * block),
  };
}

/**
 * Writes into `target` when given (exactly the result's size), else into a new array,
 * with the `[channels, outputs]` block of batch entry `b` and rows entry `r` at
 * `blocks.batch[b] + blocks.rows[r]` (default: row-major `[batch, rows, channels,
 * outputs]`).
 *
 * Computes `Y[batch, rows, channels, outputs] = Σ_{c, k} W[batch, channels, c, k] ·
 * T[batch, rows, c, i(k, o)]` where `i` comes from the tap rules (taps out of range read
 * zeros). `t.shapes.taps`/`t.strides.taps` describe T's input dimensions, `w`'s its kernel
 * taps. Every output entry sums over `(c, k)` in the same order whatever block it is in.
 * The padded images of one rows entry are staged in bands of output lines taking at most
 * `stageElements` (or one output line, if that is more).
 */
export function implicitGemm(
  t: RoleView,
  w: RoleView,
  rules: readonly TapRule[],
  dtype: DType,
  target?: Data,
  blocks?: BlockOffsets,
  stageElements: number = STAGE_ELEMENTS,
): Data {
  const batches = shapeSize(t.shapes.batch);
  const rows = shapeSize(t.shapes.rows);
  const planes = shapeSize(t.shapes.contracted);
  const channels = shapeSize(w.shapes.channels);
  const outputs = shapeSize(rules.map((r) => r.outputSize));
  const depth = planes * shapeSize(rules.map((r) => r.kernelSize));
  const out = target ?? allocate(dtype, batches * rows * channels * outputs);
  if (out.length === 0 || depth === 0) return out.fill(0);
  const at = blocks ?? rowMajorBlocks(batches, rows, channels * outputs);
  // Every batch entry (group) of one rows entry at once: one image of all their planes,
  // and results that leave WASM memory in one piece when they are adjacent in `out`.
  const block = channels * outputs;
  const width = Math.min(outputs, Math.max(256, Math.floor(RESULT_ELEMENTS / channels / batches)));
  const adjacent = at.batch.every((offset, b) => offset === at.batch[0] + b * block);
  const planeOffsets = roleOffsets(t, "contracted");
  const batchPlanes = roleOffsets(t, "batch").flatMap((b) => planeOffsets.map((p) => b + p));
  // Bands of output lines bound the padded image; each output still sums over (c, k) in
  // one order, so results do not depend on the bands.
  const bands = outputBands(rules, bandOutputs(rules, batches * planes, stageElements));
  const lineOutputs = rules.length === 0 ? 1 : outputs / rules[0].outputSize;
  withWasmScratch(() => {
    const weightAt = wasmScratchReserve(dtype, batches * channels * depth);
    const resultAt = wasmScratchReserve(dtype, batches * channels * width);
    forEachOffsetPair(t.shapes.batch, w.strides.batch, 0, w.strides.batch, 0, (wBatch, _, b) => {
      stageWeight(w, wBatch, depth, weightAt + b * channels * depth, dtype);
    });
    for (const band of bands) {
      withWasmScratch(() => {
        const geometry = paddedGeometry(band.rules);
        const imageAt = reserveImage(dtype, batches * planes * geometry.plane);
        const rowsAt = reserveOffsets(
          planeTapOffsets(tapOffsets(band.rules, geometry), planes, geometry.plane),
        );
        const columns = outputOffsets(band.rules, geometry);
        const increasing = columns.every((offset, o) => o === 0 || offset > columns[o - 1]);
        const colsAt = reserveOffsets(columns);
        const firstColumn = band.firstOutput * lineOutputs;
        const shift = rules.length === 0 ? 0 : band.firstInput * t.strides.taps[0];
        forEachOffsetPair(t.shapes.rows, t.strides.rows, 0, t.strides.rows, 0, (tRow, _, r) => {
          const base = t.offset + tRow + shift;
          stageImage(
            dtype,
            imageAt,
            geometry,
            band.rules,
            t.data,
            batchPlanes.map((p) => base + p),
            t.strides.taps,
          );
          for (let first = 0; first < columns.length; first += width) {
            const cols = Math.min(width, columns.length - first);
            for (let b = 0; b < batches; b++) {
              gemmIndirectInMemory(
                dtype,
                channels,
                cols,
                depth,
                weightAt + b * channels * depth,
                depth,
                1,
                imageAt + b * planes * geometry.plane,
                rowsAt,
                colsAt + first,
                resultAt + b * channels * cols,
                cols,
                1,
                false,
                increasing,
              );
            }
            const heap = wasmMemoryView(dtype);
            if (cols === outputs && adjacent) {
              const into = at.batch[0] + at.rows[r];
              out.set(heap.subarray(resultAt, resultAt + batches * block), into);
              continue;
            }
            for (let b = 0; b < batches; b++) {
              for (let d = 0; d < channels; d++) {
                const from = resultAt + (b * channels + d) * cols;
                const into = at.batch[b] + at.rows[r] + d * outputs + firstColumn + first;
                out.set(heap.subarray(from, from + cols), into);
              }
            }
          }
        });
      });
    }
  });
  return out;
}

/** Copies W's slice for one batch entry into WASM memory as a row-major
 * `[channels, (contracted, taps)]` matrix. */
function stageWeight(
  w: RoleView,
  batchOffset: number,
  depth: number,
  at: number,
  dtype: DType,
): void {
  const heap = wasmMemoryView(dtype);
  const taps = roleOffsets(w, "taps");
  let row = 0;
  forEachOffsetPair(
    w.shapes.channels,
    w.strides.channels,
    0,
    w.strides.channels,
    0,
    (channelOffset) => {
      let column = at + row * depth;
      forEachOffsetPair(
        w.shapes.contracted,
        w.strides.contracted,
        0,
        w.strides.contracted,
        0,
        (cOffset) => {
          const from = w.offset + batchOffset + channelOffset + cOffset;
          for (const k of taps) heap[column++] = w.data[from + k];
        },
      );
      row++;
    },
  );
}

/** The offsets of every entry of one role of a view (row-major), relative to the view. */
function roleOffsets(view: RoleView, role: Role): number[] {
  const offsets: number[] = [];
  forEachOffsetPair(view.shapes[role], view.strides[role], 0, view.strides[role], 0, (at) => {
    offsets.push(at);
  });
  return offsets;
}

/** Reserves a padded image of `elements` plus the kernels' slack, zeroed. */
function reserveImage(dtype: DType, elements: number): number {
  const at = wasmScratchReserve(dtype, elements + IMAGE_SLACK);
  wasmMemoryView(dtype).fill(0, at, at + elements + IMAGE_SLACK);
  return at;
}

/** Reserves an int32 region holding `offsets`; returns its int32 offset. */
function reserveOffsets(offsets: Int32Array): number {
  const at = wasmScratchReserve("int32", offsets.length);
  wasmMemoryView("int32").set(offsets, at);
  return at;
}

/** Copies rows of a strided operand into WASM memory, row-major and contiguous: row `r`
 * holds `src[base + rowOffsets[r] + columnOffsets[j]]`. */
function stageRows(
  src: Data,
  base: number,
  rowOffsets: readonly number[],
  columnOffsets: readonly number[],
  at: number,
  dtype: DType,
): void {
  const heap = wasmMemoryView(dtype);
  const cols = columnOffsets.length;
  const dense = columnOffsets.every((offset, j) => offset === j);
  for (let r = 0, to = at; r < rowOffsets.length; r++, to += cols) {
    const from = base + rowOffsets[r];
    if (dense) heap.set(src.subarray(from, from + cols), to);
    else for (let j = 0; j < cols; j++) heap[to + j] = src[from + columnOffsets[j]];
  }
}

/**
 * Computes `Y[batch, channels, rows, taps] = Σ_{contracted, o} V[batch, contracted,
 * channels, o] · T[batch, contracted, rows, i(k, o)]` (a convolution's weight gradient)
 * as `Σ_contracted V · Uᵀ`, one entry of the contracted indices after the other, with
 * `Uᵀ` read through offset tables from the padded image of that entry. `v.shapes.taps`
 * and `v.strides.taps` describe V's output dimensions. Every entry of Y sums in one order
 * whatever rows or channels a shard holds. Images are staged in bands of output lines
 * (each plane's band at most `stageElements / PLANES_PER_BAND`, or one line) and, within
 * a band, as many planes at a time as fit in `stageElements`.
 */
export function implicitWeightGemm(
  t: RoleView,
  v: RoleView,
  rules: readonly TapRule[],
  dtype: DType,
  target?: Data,
  stageElements: number = STAGE_ELEMENTS,
): Data {
  const batches = shapeSize(t.shapes.batch);
  const rows = shapeSize(t.shapes.rows);
  const channels = shapeSize(v.shapes.channels);
  const outputs = shapeSize(rules.map((r) => r.outputSize));
  const taps = shapeSize(rules.map((r) => r.kernelSize));
  const columns = rows * taps;
  const samples = shapeSize(t.shapes.contracted);
  const out = target ?? allocate(dtype, batches * channels * columns);
  if (out.length === 0 || samples * outputs === 0) return out.fill(0);
  const planeOffsets = roleOffsets(t, "rows");
  const channelOffsets = roleOffsets(v, "channels");
  const vOutputs = roleOffsets(v, "taps");
  // Bands of output lines split the sum: they depend on sizes no shard changes (not the
  // rows, channels or kernel taps a shard holds), so that every entry sums in one order.
  // Rows are then staged a few planes at a time.
  const bands = outputBands(rules, weightBandOutputs(rules, stageElements));
  const lineOutputs = rules.length === 0 ? 1 : outputs / rules[0].outputSize;
  withWasmScratch(() => {
    const resultAt = wasmScratchReserve(dtype, channels * columns);
    const gradAt = wasmScratchReserve(
      dtype,
      channels * bands[0].rules.reduce(
        (size, rule) => size * rule.outputSize,
        1,
      ),
    );
    forEachOffsetPair(t.shapes.batch, t.strides.batch, 0, v.strides.batch, 0, (tb, vb, b) => {
      let accumulate = false;
      forEachOffsetPair(
        t.shapes.contracted,
        t.strides.contracted,
        0,
        v.strides.contracted,
        0,
        (ts, vs) => {
          for (const band of bands) {
            const firstColumn = band.firstOutput * lineOutputs;
            const bandColumns = shapeSize(band.rules.map((r) => r.outputSize));
            stageRows(
              v.data,
              v.offset + vb + vs,
              channelOffsets,
              vOutputs.slice(firstColumn, firstColumn + bandColumns),
              gradAt,
              dtype,
            );
            const shift = rules.length === 0 ? 0 : band.firstInput * t.strides.taps[0];
            const base = t.offset + tb + ts + shift;
            weightGemmBand(
              t,
              band.rules,
              planeOffsets.map((p) => base + p),
              gradAt,
              channels,
              resultAt,
              columns,
              accumulate,
              dtype,
              stageElements,
            );
            accumulate = true;
          }
        },
      );
      const heap = wasmMemoryView(dtype);
      out.set(heap.subarray(resultAt, resultAt + channels * columns), b * channels * columns);
    });
  });
  return out;
}

/** Planes whose band must fit the staging budget in a weight gradient (its bands may not
 * depend on how many planes a shard holds). */
const PLANES_PER_BAND = 16;

/** Output lines per band of a weight gradient: `PLANES_PER_BAND` planes of that many
 * lines fit `stageElements`, counted without the kernel's halo and with line widths of
 * at least the inputs, from sizes that a shard along a kernel index leaves as they are. */
function weightBandOutputs(rules: readonly TapRule[], stageElements: number): number {
  if (rules.length === 0) return 1;
  const [first, ...rest] = rules;
  const line = rest.reduce((n, r) => n * Math.max(r.inputSize, r.outputSize * r.stride, 1), 1);
  const lines = stageElements / (PLANES_PER_BAND * line * Math.max(1, first.stride));
  return Math.min(first.outputSize, Math.max(1, Math.floor(lines)));
}

/** One band of a weight gradient: C[:, (p, k)] (+)= V_band · U_band(p, k)ᵀ for all planes
 * `p` of `planeStarts`, staged as many planes at a time as fit in `stageElements`. */
function weightGemmBand(
  t: RoleView,
  rules: readonly TapRule[],
  planeStarts: readonly number[],
  gradAt: number,
  channels: number,
  resultAt: number,
  columns: number,
  accumulate: boolean,
  dtype: DType,
  stageElements: number,
): void {
  const geometry = paddedGeometry(rules);
  const taps = shapeSize(rules.map((r) => r.kernelSize));
  const outputs = shapeSize(rules.map((r) => r.outputSize));
  const chunk = Math.max(
    1,
    Math.min(planeStarts.length, Math.floor(stageElements / geometry.plane)),
  );
  withWasmScratch(() => {
    const imageAt = reserveImage(dtype, chunk * geometry.plane);
    const rowsAt = reserveOffsets(outputOffsets(rules, geometry));
    const colsAt = reserveOffsets(
      planeTapOffsets(tapOffsets(rules, geometry), chunk, geometry.plane),
    );
    for (let first = 0; first < planeStarts.length; first += chunk) {
      const planes = planeStarts.slice(first, first + chunk);
      stageImage(dtype, imageAt, geometry, rules, t.data, planes, t.strides.taps);
      gemmIndirectInMemory(
        dtype,
        channels,
        planes.length * taps,
        outputs,
        gradAt,
        outputs,
        1,
        imageAt,
        rowsAt,
        colsAt,
        resultAt + first * taps,
        columns,
        1,
        accumulate,
      );
    }
  });
}

/** Columns of one block of an input gradient: fixed, so that shards sum alike. */
const SCATTER_WIDTH = 256;

/**
 * Computes `X[batch, rows, channels, i] = Σ_{contracted, k, o : i = i(k, o)}
 * W[batch, contracted, channels, k] · V[batch, rows, contracted, o]` (a convolution's
 * input gradient). With stride 1 in every dimension this is a forward convolution of V
 * with mirrored taps ({@linkcode implicitGemm}); otherwise, per block of outputs, `Wᵀ · V`
 * runs in WASM memory and its columns are scatter-added into a padded image of the inputs
 * they came from. Result blocks
 * `[channels, inputs]` are placed by `blocks` as in {@linkcode implicitGemm}. `v.shapes.taps`/
 * `v.strides.taps` are V's output dimensions, `w`'s its kernel taps. The inputs are
 * completed in bands of input lines (each with the outputs that reach them; a plane's band
 * takes at most about `stageElements / PLANES_PER_BAND`), a few channels at a time within
 * `stageElements`. Bands and column blocks depend on the geometry alone and entries add up
 * in one order, so shards reproduce the whole result bit for bit.
 */
export function implicitInputGemm(
  v: RoleView,
  w: RoleView,
  rules: readonly TapRule[],
  dtype: DType,
  target?: Data,
  blocks?: BlockOffsets,
  stageElements: number = STAGE_ELEMENTS,
): Data {
  const batches = shapeSize(v.shapes.batch);
  const rows = shapeSize(v.shapes.rows);
  const depth = shapeSize(v.shapes.contracted);
  const channels = shapeSize(w.shapes.channels);
  const taps = shapeSize(rules.map((r) => r.kernelSize));
  const outputs = shapeSize(rules.map((r) => r.outputSize));
  const inputs = shapeSize(rules.map((r) => r.inputSize));
  if (rules.every((rule) => rule.stride === 1)) {
    // With stride 1 every input i reads output o = i − base[k]: a forward convolution of
    // V with the taps mirrored gathers what the scatter would add, at a forward's speed.
    const mirrored = rules.map((rule) => ({
      base: rule.base.map((base) => -base),
      stride: 1,
      kernelSize: rule.kernelSize,
      outputSize: rule.inputSize,
      inputSize: rule.outputSize,
    }));
    return implicitGemm(v, w, mirrored, dtype, target, blocks, stageElements);
  }
  const out = target ?? allocate(dtype, batches * rows * channels * inputs);
  if (out.length === 0 || depth === 0 || outputs === 0) return out.fill(0);
  const at = blocks ?? rowMajorBlocks(batches, rows, channels * inputs);
  const depthOffsets = roleOffsets(v, "contracted");
  const vOutputs = roleOffsets(v, "taps");
  // Bands of input lines (with the outputs that reach them, recomputed where neighbours
  // share them) depend on the geometry alone, like a weight gradient's, so that shards
  // split along channels sum every entry alike; channels are then staged a few at a time.
  const bands = inputBands(rules, bandInputs(rules, PLANES_PER_BAND, stageElements));
  const lineOutputs = rules.length === 0 ? 1 : outputs / rules[0].outputSize;
  const lineInputs = rules.length === 0 ? 1 : inputs / Math.max(1, rules[0].inputSize);
  const bandColumns = Math.max(
    ...bands.map((band) => shapeSize(band.rules.map((r) => r.outputSize))),
  );
  withWasmScratch(() => {
    const weightAt = wasmScratchReserve(dtype, channels * taps * depth);
    const gradAt = wasmScratchReserve(dtype, depth * bandColumns);
    forEachOffsetPair(v.shapes.batch, v.strides.batch, 0, w.strides.batch, 0, (vb, wb, b) => {
      stageTransposedWeight(w, wb, depth, weightAt, dtype);
      for (const band of bands) {
        const columns = shapeSize(band.rules.map((r) => r.outputSize));
        const firstColumn = band.firstOutput * lineOutputs;
        const window = lineWindow(
          paddedGeometry(band.rules),
          band.rules,
          band.firstLine - band.firstInput,
          band.endLine - band.firstLine,
        );
        forEachOffsetPair(v.shapes.rows, v.strides.rows, 0, v.strides.rows, 0, (vr, _, r) => {
          const vColumns = vOutputs.slice(firstColumn, firstColumn + columns);
          stageRows(v.data, v.offset + vb + vr, depthOffsets, vColumns, gradAt, dtype);
          inputGemmBand(
            band.rules,
            window,
            weightAt,
            depth,
            gradAt,
            channels,
            out,
            at.batch[b] + at.rows[r] + band.firstLine * lineInputs,
            inputs,
            dtype,
            stageElements,
            firstColumn,
          );
        });
      }
    });
  });
  return out;
}

/** One band of an input gradient for one rows entry: per few channels, `Wᵀ · V_band` in
 * blocks of columns scatter-added into a zeroed padded image, whose band lines then go to
 * `out` (channel `c` at `outAt + c·outPlaneStride`). The band's outputs start at
 * `firstColumn` of the whole flattened output. */
function inputGemmBand(
  rules: readonly TapRule[],
  window: { geometry: PaddedGeometry; rules: TapRule[] },
  weightAt: number,
  depth: number,
  gradAt: number,
  channels: number,
  out: Data,
  outAt: number,
  outPlaneStride: number,
  dtype: DType,
  stageElements: number,
  firstColumn: number,
): void {
  const geometry = paddedGeometry(rules);
  const taps = shapeSize(rules.map((r) => r.kernelSize));
  const outputs = shapeSize(rules.map((r) => r.outputSize));
  const chunk = Math.max(1, Math.min(channels, Math.floor(stageElements / geometry.plane)));
  const width = Math.min(SCATTER_WIDTH, outputs);
  withWasmScratch(() => {
    const imageAt = reserveImage(dtype, chunk * geometry.plane);
    const columnsAt = wasmScratchReserve(dtype, chunk * taps * width);
    const rowsAt = reserveOffsets(
      planeTapOffsets(tapOffsets(rules, geometry), chunk, geometry.plane),
    );
    const colsAt = reserveOffsets(outputOffsets(rules, geometry));
    for (let first = 0; first < channels; first += chunk) {
      const planes = Math.min(chunk, channels - first);
      wasmMemoryView(dtype).fill(0, imageAt, imageAt + planes * geometry.plane);
      // Blocks of columns start at multiples of SCATTER_WIDTH of the whole output (not of
      // the band), so that every input adds its terms in one order whatever the bands.
      for (let column = 0, cols = 0; column < outputs; column += cols) {
        const global = firstColumn + column;
        cols = Math.min(SCATTER_WIDTH - global % SCATTER_WIDTH, outputs - column);
        gemmInMemory(
          dtype,
          planes * taps,
          cols,
          depth,
          weightAt + first * taps * depth,
          depth,
          1,
          gradAt + column,
          outputs,
          1,
          columnsAt,
          cols,
          1,
          false,
        );
        scatterAddInMemory(
          dtype,
          imageAt,
          rowsAt,
          colsAt + column,
          planes * taps,
          cols,
          columnsAt,
          cols,
        );
      }
      unstageImage(
        dtype,
        imageAt,
        window.geometry,
        window.rules,
        planes,
        out,
        outAt + first * outPlaneStride,
        outPlaneStride,
      );
    }
  });
}

/** Copies W's slice for one batch entry into WASM memory as Wᵀ, a row-major
 * `[(channels, taps), contracted]` matrix. */
function stageTransposedWeight(
  w: RoleView,
  batchOffset: number,
  depth: number,
  at: number,
  dtype: DType,
): void {
  const heap = wasmMemoryView(dtype);
  const contracted = roleOffsets(w, "contracted");
  const taps = roleOffsets(w, "taps");
  let to = at;
  for (const c of roleOffsets(w, "channels")) {
    for (const k of taps) {
      const from = w.offset + batchOffset + c + k;
      for (let d = 0; d < depth; d++) heap[to++] = w.data[from + contracted[d]];
    }
  }
}
