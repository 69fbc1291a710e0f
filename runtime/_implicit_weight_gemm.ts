// The weight gradient of a convolution as an implicit GEMM (see _implicit_gemm.ts).
import { copyElements } from "./_copy_elements.ts";
import type { DType } from "./tensor.ts";
import { allocate, forEachOffsetPair, shapeSize } from "./_tensor.ts";
import { outputBands, outputOffsets, stageImage, type TapRule } from "./_padded_image.ts";
import {
  gemmIndirectInMemory,
  wasmMemoryView,
  wasmScratchReserve,
  withWasmScratch,
} from "./_wasm_gemm.ts";
import {
  type BandLayout,
  bandLayout,
  type Data,
  isDense,
  PLANES_PER_BAND,
  reserveImage,
  reserveOffsets,
  roleOffsets,
  type RoleView,
  ruleSizes,
  STAGE_ELEMENTS,
  stageRows,
} from "./_implicit_roles.ts";

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
  const { taps, outputs } = ruleSizes(rules);
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
    const gradAt = wasmScratchReserve(dtype, channels * ruleSizes(bands[0].rules).outputs);
    // Each band's geometry and offset tables serve every batch and contracted entry (a
    // grouped convolution's weight gradient has one per group and image).
    const layouts = bands.map((band) => {
      const layout = bandLayout(band.rules, rows, stageElements);
      return { ...layout, outputsAt: reserveOffsets(outputOffsets(band.rules, layout.geometry)) };
    });
    // Each band's columns of V, which every batch and contracted entry stages.
    const gradColumns = bands.map((band) => {
      const first = band.firstOutput * lineOutputs;
      return vOutputs.slice(first, first + ruleSizes(band.rules).outputs);
    });
    const gradDense = gradColumns.map(isDense);
    forEachOffsetPair(t.shapes.batch, t.strides.batch, 0, v.strides.batch, 0, (tb, vb, b) => {
      let accumulate = false;
      forEachOffsetPair(
        t.shapes.contracted,
        t.strides.contracted,
        0,
        v.strides.contracted,
        0,
        (ts, vs) => {
          bands.forEach((band, at) => {
            stageRows(
              v.data,
              v.offset + vb + vs,
              channelOffsets,
              gradColumns[at],
              gradAt,
              dtype,
              gradDense[at],
            );
            const shift = rules.length === 0 ? 0 : band.firstInput * t.strides.taps[0];
            const base = t.offset + tb + ts + shift;
            weightGemmBand(
              t,
              band.rules,
              layouts[at],
              planeOffsets.map((p) => base + p),
              gradAt,
              channels,
              resultAt,
              columns,
              accumulate,
              dtype,
            );
            accumulate = true;
          });
        },
      );
      const heap = wasmMemoryView(dtype);
      copyElements(out, b * channels * columns, heap, resultAt, resultAt + channels * columns);
    });
  });
  return out;
}

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
 * `p` of `planeStarts`, staged `layout.chunk` planes at a time. */
function weightGemmBand(
  t: RoleView,
  rules: readonly TapRule[],
  layout: BandLayout & { outputsAt: number },
  planeStarts: readonly number[],
  gradAt: number,
  channels: number,
  resultAt: number,
  columns: number,
  accumulate: boolean,
  dtype: DType,
): void {
  const { geometry, chunk, outputsAt: rowsAt, planeTapsAt: colsAt } = layout;
  const { taps, outputs } = ruleSizes(rules);
  withWasmScratch(() => {
    const imageAt = reserveImage(dtype, chunk * geometry.plane);
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
