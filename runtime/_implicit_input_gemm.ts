// The input gradient of a convolution as an implicit GEMM (see _implicit_gemm.ts): with
// stride 1 a forward product with mirrored taps, else blocks of Wᵀ·V scatter-added into a
// padded image.
import type { DType } from "./tensor.ts";
import { allocate, forEachOffsetPair, shapeSize } from "./_tensor.ts";
import {
  bandInputs,
  inputBands,
  lineWindow,
  outputOffsets,
  type PaddedGeometry,
  paddedGeometry,
  planeTapOffsets,
  tapOffsets,
  type TapRule,
  unstageImage,
} from "./_padded_image.ts";
import {
  gemmInMemory,
  scatterAddInMemory,
  wasmMemoryView,
  wasmScratchReserve,
  withWasmScratch,
} from "./_wasm_gemm.ts";
import {
  type BlockOffsets,
  type Data,
  PLANES_PER_BAND,
  planesPerChunk,
  reserveImage,
  reserveOffsets,
  roleOffsets,
  type RoleView,
  rowMajorBlocks,
  ruleSizes,
  STAGE_ELEMENTS,
  stageRoles,
  stageRows,
} from "./_implicit_roles.ts";
import { implicitGemm } from "./_implicit_gemm.ts";

/** Columns of one block of an input gradient: fixed, so that shards sum alike. */
const SCATTER_WIDTH = 256;

/**
 * Computes `X[batch, rows, channels, i] = Σ_{contracted, k, o : i = i(k, o)}
 * W[batch, contracted, channels, k] · V[batch, rows, contracted, o]` (a convolution's
 * input gradient). With stride 1 in every dimension this is a forward convolution of V
 * with mirrored taps ({@linkcode implicitGemm}); otherwise, per block of outputs, `Wᵀ · V`
 * runs in WASM memory and its columns are scatter-added into a padded image of the inputs
 * they came from. Result blocks `[channels, inputs]` are placed by `blocks` as in
 * {@linkcode implicitGemm}. `v.shapes.taps`/`v.strides.taps` are V's output dimensions,
 * `w`'s its kernel taps. The inputs are
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
  const { taps, outputs, inputs } = ruleSizes(rules);
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
  const bandColumns = Math.max(...bands.map((band) => ruleSizes(band.rules).outputs));
  withWasmScratch(() => {
    const weightAt = wasmScratchReserve(dtype, channels * taps * depth);
    const gradAt = wasmScratchReserve(dtype, depth * bandColumns);
    forEachOffsetPair(v.shapes.batch, v.strides.batch, 0, w.strides.batch, 0, (vb, wb, b) => {
      stageRoles(w, wb, ["channels", "taps", "contracted"], weightAt, dtype);
      for (const band of bands) {
        const columns = ruleSizes(band.rules).outputs;
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
  const { taps, outputs } = ruleSizes(rules);
  const chunk = planesPerChunk(channels, geometry.plane, stageElements);
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
