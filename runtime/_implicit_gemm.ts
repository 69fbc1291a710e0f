// The implicit-GEMM kernels of convolution-shaped contractions (see _conv_motif.ts): each
// image is copied once into a zero-padded buffer in WASM memory (_padded_image.ts), and
// the GEMM packs its panels of the unfolded input straight from there through offset
// tables, so the unfolded input is never built. Planning decisions stay in the planner:
// this file only moves numbers for the roles it is given.
import type { DType } from "./tensor.ts";
import { allocate, forEachOffsetPair, shapeSize } from "./_tensor.ts";
import {
  IMAGE_SLACK,
  outputOffsets,
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
 */
export function implicitGemm(
  t: RoleView,
  w: RoleView,
  rules: readonly TapRule[],
  dtype: DType,
  target?: Data,
  blocks?: BlockOffsets,
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
  const geometry = paddedGeometry(rules);
  // Every batch entry (group) of one rows entry at once: one image of all their planes,
  // and results that leave WASM memory in one piece when they are adjacent in `out`.
  const block = channels * outputs;
  const width = Math.min(outputs, Math.max(256, Math.floor(RESULT_ELEMENTS / channels / batches)));
  const whole = width === outputs &&
    at.batch.every((offset, b) => offset === at.batch[0] + b * block);
  const planeOffsets = roleOffsets(t, "contracted");
  const batchPlanes = roleOffsets(t, "batch").flatMap((b) => planeOffsets.map((p) => b + p));
  withWasmScratch(() => {
    const weightAt = wasmScratchReserve(dtype, batches * channels * depth);
    const imageAt = reserveImage(dtype, batches * planes * geometry.plane);
    const resultAt = wasmScratchReserve(dtype, batches * channels * width);
    const rowsAt = reserveOffsets(
      planeTapOffsets(tapOffsets(rules, geometry), planes, geometry.plane),
    );
    const columns = outputOffsets(rules, geometry);
    const increasing = columns.every((offset, o) => o === 0 || offset > columns[o - 1]);
    const colsAt = reserveOffsets(columns);
    forEachOffsetPair(t.shapes.batch, w.strides.batch, 0, w.strides.batch, 0, (wBatch, _, b) => {
      stageWeight(w, wBatch, depth, weightAt + b * channels * depth, dtype);
    });
    forEachOffsetPair(t.shapes.rows, t.strides.rows, 0, t.strides.rows, 0, (tRow, _, r) => {
      const base = t.offset + tRow;
      stageImage(
        dtype,
        imageAt,
        geometry,
        rules,
        t.data,
        batchPlanes.map((p) => base + p),
        t.strides.taps,
      );
      for (let first = 0; first < outputs; first += width) {
        const cols = Math.min(width, outputs - first);
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
        if (whole) {
          const into = at.batch[0] + at.rows[r];
          out.set(heap.subarray(resultAt, resultAt + batches * block), into);
          continue;
        }
        for (let b = 0; b < batches; b++) {
          for (let d = 0; d < channels; d++) {
            const from = resultAt + (b * channels + d) * cols;
            const into = at.batch[b] + at.rows[r] + d * outputs + first;
            out.set(heap.subarray(from, from + cols), into);
          }
        }
      }
    });
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
 * whatever rows or channels a shard holds.
 */
export function implicitWeightGemm(
  t: RoleView,
  v: RoleView,
  rules: readonly TapRule[],
  dtype: DType,
  target?: Data,
): Data {
  const batches = shapeSize(t.shapes.batch);
  const rows = shapeSize(t.shapes.rows);
  const channels = shapeSize(v.shapes.channels);
  const outputs = shapeSize(rules.map((r) => r.outputSize));
  const columns = rows * shapeSize(rules.map((r) => r.kernelSize));
  const samples = shapeSize(t.shapes.contracted);
  const out = target ?? allocate(dtype, batches * channels * columns);
  if (out.length === 0 || samples * outputs === 0) return out.fill(0);
  const geometry = paddedGeometry(rules);
  const planeOffsets = roleOffsets(t, "rows");
  const channelOffsets = roleOffsets(v, "channels");
  const vOutputs = roleOffsets(v, "taps");
  withWasmScratch(() => {
    const resultAt = wasmScratchReserve(dtype, channels * columns);
    const gradAt = wasmScratchReserve(dtype, channels * outputs);
    const imageAt = reserveImage(dtype, rows * geometry.plane);
    const rowsAt = reserveOffsets(outputOffsets(rules, geometry));
    const colsAt = reserveOffsets(
      planeTapOffsets(tapOffsets(rules, geometry), rows, geometry.plane),
    );
    forEachOffsetPair(t.shapes.batch, t.strides.batch, 0, v.strides.batch, 0, (tb, vb, b) => {
      forEachOffsetPair(
        t.shapes.contracted,
        t.strides.contracted,
        0,
        v.strides.contracted,
        0,
        (ts, vs, s) => {
          const base = t.offset + tb + ts;
          stageImage(
            dtype,
            imageAt,
            geometry,
            rules,
            t.data,
            planeOffsets.map((p) => base + p),
            t.strides.taps,
          );
          stageRows(v.data, v.offset + vb + vs, channelOffsets, vOutputs, gradAt, dtype);
          gemmIndirectInMemory(
            dtype,
            channels,
            columns,
            outputs,
            gradAt,
            outputs,
            1,
            imageAt,
            rowsAt,
            colsAt,
            resultAt,
            columns,
            1,
            s > 0,
          );
        },
      );
      const heap = wasmMemoryView(dtype);
      out.set(heap.subarray(resultAt, resultAt + channels * columns), b * channels * columns);
    });
  });
  return out;
}

/** Columns of one block of an input gradient: fixed, so that shards sum alike. */
const SCATTER_WIDTH = 256;

/**
 * Computes `X[batch, rows, channels, i] = Σ_{contracted, k, o : i = i(k, o)}
 * W[batch, contracted, channels, k] · V[batch, rows, contracted, o]` (a convolution's
 * input gradient): per block of outputs, `Wᵀ · V` runs in WASM memory and its columns
 * are scatter-added into a padded image of the inputs they came from. Result blocks
 * `[channels, inputs]` are placed by `blocks` as in {@linkcode implicitGemm}. `v.shapes.taps`/
 * `v.strides.taps` are V's output dimensions, `w`'s its kernel taps. Blocks have a fixed
 * width and entries add up in one order, so shards reproduce the whole result bit for bit.
 */
export function implicitInputGemm(
  v: RoleView,
  w: RoleView,
  rules: readonly TapRule[],
  dtype: DType,
  target?: Data,
  blocks?: BlockOffsets,
): Data {
  const batches = shapeSize(v.shapes.batch);
  const rows = shapeSize(v.shapes.rows);
  const depth = shapeSize(v.shapes.contracted);
  const channels = shapeSize(w.shapes.channels);
  const taps = shapeSize(rules.map((r) => r.kernelSize));
  const outputs = shapeSize(rules.map((r) => r.outputSize));
  const inputs = shapeSize(rules.map((r) => r.inputSize));
  const out = target ?? allocate(dtype, batches * rows * channels * inputs);
  if (out.length === 0 || depth === 0 || outputs === 0) return out.fill(0);
  const at = blocks ?? rowMajorBlocks(batches, rows, channels * inputs);
  const geometry = paddedGeometry(rules);
  const depthOffsets = roleOffsets(v, "contracted");
  const vOutputs = roleOffsets(v, "taps");
  const width = SCATTER_WIDTH;
  withWasmScratch(() => {
    const weightAt = wasmScratchReserve(dtype, channels * taps * depth);
    const gradAt = wasmScratchReserve(dtype, depth * outputs);
    const columnsAt = wasmScratchReserve(dtype, channels * taps * Math.min(width, outputs));
    const imageSize = channels * geometry.plane;
    const imageAt = reserveImage(dtype, imageSize);
    const rowsAt = reserveOffsets(
      planeTapOffsets(tapOffsets(rules, geometry), channels, geometry.plane),
    );
    const colsAt = reserveOffsets(outputOffsets(rules, geometry));
    forEachOffsetPair(v.shapes.batch, v.strides.batch, 0, w.strides.batch, 0, (vb, wb, b) => {
      stageTransposedWeight(w, wb, depth, weightAt, dtype);
      forEachOffsetPair(v.shapes.rows, v.strides.rows, 0, v.strides.rows, 0, (vr, _, r) => {
        stageRows(v.data, v.offset + vb + vr, depthOffsets, vOutputs, gradAt, dtype);
        wasmMemoryView(dtype).fill(0, imageAt, imageAt + imageSize);
        for (let first = 0; first < outputs; first += width) {
          const cols = Math.min(width, outputs - first);
          gemmInMemory(
            dtype,
            channels * taps,
            cols,
            depth,
            weightAt,
            depth,
            1,
            gradAt + first,
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
            colsAt + first,
            channels * taps,
            cols,
            columnsAt,
            cols,
          );
        }
        const outAt = at.batch[b] + at.rows[r];
        unstageImage(dtype, imageAt, geometry, rules, channels, out, outAt);
      });
    });
  });
  return out;
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
