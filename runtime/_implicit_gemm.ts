// The implicit-GEMM kernels of convolution-shaped contractions (see _conv_motif.ts): each
// image is copied, band by band (bounded by STAGE_ELEMENTS), into a zero-padded buffer in
// WASM memory (_padded_image.ts), and the GEMM packs its panels of the unfolded input
// straight from there through offset tables, so the unfolded input is never built.
// Planning decisions stay in the planner: these files only move numbers for the roles they
// are given. This one holds the forward product; _implicit_weight_gemm.ts and
// _implicit_input_gemm.ts the gradients.
import { copyElements } from "./_copy_elements.ts";
import type { DType } from "./tensor.ts";
import { allocate, forEachOffsetPair, shapeSize } from "./_tensor.ts";
import {
  bandOutputs,
  outputBands,
  outputOffsets,
  paddedGeometry,
  planeTapOffsets,
  stageImage,
  tapOffsets,
  type TapRule,
} from "./_padded_image.ts";
import {
  gemmIndirectInMemory,
  type WasmGemmDType,
  wasmMemoryView,
  wasmScratchReserve,
  withWasmScratch,
} from "./_wasm_gemm.ts";
import {
  type BlockOffsets,
  type Data,
  reserveImage,
  reserveOffsets,
  roleOffsets,
  type RoleView,
  rowMajorBlocks,
  ruleSizes,
  STAGE_ELEMENTS,
  stageRoles,
} from "./_implicit_roles.ts";

export type { TapRule } from "./_padded_image.ts";

/** Elements of one block of a forward result in WASM memory (1 MiB in float32). */
const RESULT_ELEMENTS = 1 << 18;

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
 * `stageElements` (or one output line, if that is more); images that fit it whole are
 * staged several rows entries at a time, as many as fit, and multiplied by one GEMM.
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
  const out = target ??
    allocate(dtype, shapeSize(t.shapes.batch) * shapeSize(t.shapes.rows) * resultBlock(w, rules));
  implicitGemmInto(t, w, rules, dtype, out, blocks, stageElements);
  return out;
}

/**
 * {@linkcode implicitGemm} into WASM memory: the result, row-major `[batch, rows, channels,
 * outputs]`, from element `at` of `wasmMemoryView(dtype)` (reserved by the caller, below the
 * scratch this call takes).
 */
export function implicitGemmInMemory(
  t: RoleView,
  w: RoleView,
  rules: readonly TapRule[],
  dtype: WasmGemmDType,
  at: number,
  stageElements: number = STAGE_ELEMENTS,
): void {
  implicitGemmInto(t, w, rules, dtype, at, undefined, stageElements);
}

/** Elements of one `[channels, outputs]` block of an implicit GEMM's result. */
function resultBlock(w: RoleView, rules: readonly TapRule[]): number {
  return shapeSize(w.shapes.channels) * ruleSizes(rules).outputs;
}

/** implicitGemm into `out`, or into WASM memory from element `out` on. */
function implicitGemmInto(
  t: RoleView,
  w: RoleView,
  rules: readonly TapRule[],
  dtype: DType,
  out: Data | number,
  blocks: BlockOffsets | undefined,
  stageElements: number,
): void {
  const batches = shapeSize(t.shapes.batch);
  const rows = shapeSize(t.shapes.rows);
  const planes = shapeSize(t.shapes.contracted);
  const channels = shapeSize(w.shapes.channels);
  const { taps, outputs } = ruleSizes(rules);
  const depth = planes * taps;
  const size = batches * rows * channels * outputs;
  // Copies elements [from, to) of WASM memory to element `into` of the result.
  const put = (from: number, to: number, into: number) => {
    const heap = wasmMemoryView(dtype);
    if (typeof out === "number") heap.copyWithin(out + into, from, to);
    else copyElements(out, into, heap, from, to);
  };
  if (size === 0 || depth === 0) {
    if (typeof out === "number") wasmMemoryView(dtype).fill(0, out, out + size);
    else out.fill(0);
    return;
  }
  const at = blocks ?? rowMajorBlocks(batches, rows, channels * outputs);
  // Bands of output lines bound the padded image; each output still sums over (c, k) in
  // one order, so results do not depend on the bands.
  const bands = outputBands(rules, bandOutputs(rules, batches * planes, stageElements));
  // Small images (one band each) of several rows entries are staged side by side and
  // multiplied as one GEMM: the weights are packed once for all of them, and the GEMM's
  // last sliver of columns is padded once rather than once per image. Columns are
  // independent sums, so results do not depend on the grouping either.
  const image = batches * planes * paddedGeometry(bands[0].rules).plane;
  const group = bands.length === 1
    ? Math.max(1, Math.min(rows, Math.floor(stageElements / Math.max(1, image))))
    : 1;
  // Every batch entry (group) of one rows entry at once: one image of all their planes,
  // and results that leave WASM memory in one piece when they are adjacent in `out`.
  const block = channels * outputs;
  const width = Math.min(
    group * outputs,
    Math.max(256, Math.floor(RESULT_ELEMENTS / channels / batches)),
  );
  const adjacent = at.batch.every((offset, b) => offset === at.batch[0] + b * block);
  const planeOffsets = roleOffsets(t, "contracted");
  const batchPlanes = roleOffsets(t, "batch").flatMap((b) => planeOffsets.map((p) => b + p));
  const rowOffsets = roleOffsets(t, "rows");
  const lineOutputs = rules.length === 0 ? 1 : outputs / rules[0].outputSize;
  withWasmScratch(() => {
    const weightAt = wasmScratchReserve(dtype, batches * channels * depth);
    const resultAt = wasmScratchReserve(dtype, batches * channels * width);
    forEachOffsetPair(t.shapes.batch, w.strides.batch, 0, w.strides.batch, 0, (wBatch, _, b) => {
      stageRoles(
        w,
        wBatch,
        ["channels", "contracted", "taps"],
        weightAt + b * channels * depth,
        dtype,
      );
    });
    for (const band of bands) {
      withWasmScratch(() => {
        const geometry = paddedGeometry(band.rules);
        // The image of one rows entry (of all its batch entries): `image` when one band.
        const bandImage = batches * planes * geometry.plane;
        const imageAt = reserveImage(dtype, group * bandImage);
        const rowsAt = reserveOffsets(
          planeTapOffsets(tapOffsets(band.rules, geometry), planes, geometry.plane),
        );
        const columns = outputOffsets(band.rules, geometry);
        const increasing = strictlyIncreasing(columns);
        const grouped = new Int32Array(group * columns.length);
        for (let j = 0; j < group; j++) {
          for (let o = 0; o < columns.length; o++) {
            grouped[j * columns.length + o] = j * bandImage + columns[o];
          }
        }
        const colsAt = reserveOffsets(grouped);
        const firstColumn = band.firstOutput * lineOutputs;
        const shift = rules.length === 0 ? 0 : band.firstInput * t.strides.taps[0];
        for (let r0 = 0; r0 < rows; r0 += group) {
          const count = Math.min(group, rows - r0);
          for (let j = 0; j < count; j++) {
            const base = t.offset + rowOffsets[r0 + j] + shift;
            stageImage(
              dtype,
              imageAt + j * bandImage,
              geometry,
              band.rules,
              t.data,
              batchPlanes.map((p) => base + p),
              t.strides.taps,
            );
          }
          const total = count * columns.length;
          for (let first = 0; first < total; first += width) {
            const cols = Math.min(width, total - first);
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
            if (cols === outputs && count === 1 && adjacent) {
              put(resultAt, resultAt + batches * block, at.batch[0] + at.rows[r0]);
              continue;
            }
            // Each channel's columns, split where they pass from one rows entry to the next.
            for (let b = 0; b < batches; b++) {
              for (let d = 0; d < channels; d++) {
                const row = resultAt + (b * channels + d) * cols - first;
                for (let column = first; column < first + cols;) {
                  const j = Math.floor(column / columns.length);
                  const o = column - j * columns.length;
                  const end = Math.min(first + cols, (j + 1) * columns.length);
                  const into = at.batch[b] + at.rows[r0 + j] + d * outputs + firstColumn + o;
                  put(row + column, row + end, into);
                  column = end;
                }
              }
            }
          }
        }
      });
    }
  });
}

/** Whether every offset is larger than the one before. */
function strictlyIncreasing(offsets: Int32Array): boolean {
  for (let o = 1; o < offsets.length; o++) if (offsets[o] <= offsets[o - 1]) return false;
  return true;
}
