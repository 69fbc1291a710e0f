// An unfold (im2col) as a gather of padded images (see _implicit_gemm.ts): the unfolded
// input the implicit GEMMs read through offset tables, written out row by row.
import type { DType } from "./tensor.ts";
import { allocate, shapeSize } from "./_tensor.ts";
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
  gatherRunsInMemory,
  wasmMemoryView,
  wasmScratchReserve,
  withWasmScratch,
} from "./_wasm_gemm.ts";
import {
  type Data,
  PLANES_PER_BAND,
  planesPerChunk,
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
  const planeOffsets = roleOffsets(t, "rows");
  const bands = outputBands(rules, bandOutputs(rules, PLANES_PER_BAND, stageElements));
  const lineOutputs = outputs / rules[0].outputSize;
  for (const band of bands) {
    withWasmScratch(() => {
      const geometry = paddedGeometry(band.rules);
      const chunk = planesPerChunk(planes, geometry.plane, stageElements);
      const columns = ruleSizes(band.rules).outputs;
      const runs = columnRuns(outputOffsets(band.rules, geometry));
      const runsAt = reserveOffsets(runs);
      const rowsAt = reserveOffsets(
        planeTapOffsets(tapOffsets(band.rules, geometry), chunk, geometry.plane),
      );
      const imageAt = reserveImage(dtype, chunk * geometry.plane);
      const resultAt = wasmScratchReserve(dtype, chunk * taps * columns);
      const base = t.offset + band.firstInput * t.strides.taps[0];
      const firstColumn = band.firstOutput * lineOutputs;
      for (let first = 0; first < planes; first += chunk) {
        const starts = planeOffsets.slice(first, first + chunk).map((p) => base + p);
        stageImage(dtype, imageAt, geometry, band.rules, t.data, starts, t.strides.taps);
        const rows = starts.length * taps;
        gatherRunsInMemory(dtype, rows, imageAt, rowsAt, runsAt, runs.length / 2, resultAt);
        const heap = wasmMemoryView(dtype);
        if (columns === outputs) {
          out.set(heap.subarray(resultAt, resultAt + rows * columns), first * taps * outputs);
          continue;
        }
        for (let row = 0; row < rows; row++) {
          const from = resultAt + row * columns;
          out.set(
            heap.subarray(from, from + columns),
            (first * taps + row) * outputs + firstColumn,
          );
        }
      }
    });
  }
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
