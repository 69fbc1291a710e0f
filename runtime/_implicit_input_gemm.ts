// The input gradient of a convolution as an implicit GEMM (see _implicit_gemm.ts): a
// forward product of the output gradient with mirrored taps, phase by phase when strided.
import { copyElements } from "./_copy_elements.ts";
import type { DType } from "./tensor.ts";
import { allocate, contiguousStrides, forEachOffsetPair, shapeSize } from "./_tensor.ts";
import type { TapRule } from "./_padded_image.ts";
import {
  type BlockOffsets,
  type Data,
  reserveOffsets,
  type RoleView,
  rowMajorBlocks,
  ruleSizes,
  STAGE_ELEMENTS,
} from "./_implicit_roles.ts";
import { implicitGemm, implicitGemmInMemory } from "./_implicit_gemm.ts";
import {
  wasmMemoryView,
  wasmScratchReserve,
  withWasmScratch,
  zipLinesInMemory,
} from "./_wasm_gemm.ts";

/**
 * Computes `X[batch, rows, channels, i] = Σ_{contracted, k, o : i = i(k, o)}
 * W[batch, contracted, channels, k] · V[batch, rows, contracted, o]` (a convolution's
 * input gradient). With stride 1 in every dimension this is a forward convolution of V
 * with mirrored taps ({@linkcode implicitGemm}); with strides, the inputs of each phase
 * (`i ≡ phase` modulo the stride, in every dimension) are such a convolution with the taps
 * that reach them, whose results fill every stride-th input. Result blocks `[channels,
 * inputs]` are placed by `blocks` as in {@linkcode implicitGemm}. `v.shapes.taps`/
 * `v.strides.taps` are V's output dimensions, `w`'s its kernel taps, and every rule's
 * `base` must step evenly with the tap (as an index pattern's does). Each input adds its
 * terms in one order whatever the staging budget `stageElements` and whatever channels
 * a shard holds, so shards reproduce the whole result bit for bit.
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
  const { outputs, inputs } = ruleSizes(rules);
  if (rules.every((rule) => rule.stride === 1)) {
    // With stride 1 every input i reads output o = i − base[k]: a forward convolution of
    // V with the taps mirrored gathers what a scatter would add, at a forward's speed.
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
  phaseInputGemm(v, w, rules, inputPhases(rules), dtype, out, at, channels, stageElements);
  return out;
}

/** The inputs of one dimension with `i ≡ phase` (mod stride), and the taps that reach them:
 * every `step`-th from `first`, `count` of them (0: none does). */
interface Phase {
  phase: number;
  inputs: number;
  first: number;
  step: number;
  count: number;
}

/** Every dimension's phases, one per residue of its stride. */
function inputPhases(rules: readonly TapRule[]): Phase[][] {
  const all: Phase[][] = [];
  for (const rule of rules) {
    const phases: Phase[] = [];
    for (let phase = 0; phase < rule.stride; phase++) {
      const taps: number[] = [];
      rule.base.forEach((base, k) => {
        if ((((base - phase) % rule.stride) + rule.stride) % rule.stride === 0) taps.push(k);
      });
      const step = taps.length > 1 ? taps[1] - taps[0] : 1;
      if (taps.some((k, t) => k !== taps[0] + t * step)) {
        throw new RangeError(
          `Cannot split an input gradient into phases: tap bases [${rule.base}] do not step evenly`,
        );
      }
      phases.push({
        phase,
        inputs: Math.max(0, Math.ceil((rule.inputSize - phase) / rule.stride)),
        first: taps[0] ?? 0,
        step,
        count: taps.length,
      });
    }
    all.push(phases);
  }
  return all;
}

/** Elements of input gradient (of a group of rows entries) kept in WASM memory while their
 * phases fill them, per element of the staging budget (16: 16 MiB in float32 by default);
 * larger ones go a group of rows entries at a time. */
const GRADIENT_PER_STAGED = 16;

/** One phase of a strided input gradient: its stride-1 product and where its results go. */
interface PhaseProduct {
  /** The taps that reach the phase's inputs, as a weight view (null: none does). */
  taps: RoleView | null;
  /** The product's tap rules. */
  rules: TapRule[];
  /** Start of each line of the phase's inputs (along the last dimension) in a
   * `[channels, inputs]` block; along a line, one every stride. */
  lineStarts: Int32Array;
  /** Inputs of the phase along a line. */
  length: number;
}

/**
 * The input gradient with strides, phase by phase: the inputs `i = stride·q + phase` (in
 * every dimension) are reached only by the taps with `base[k] ≡ phase`, each from output
 * `o = q + (phase − base[k]) / stride`, so their gradient is a stride-1 forward product of V
 * with those taps ({@linkcode implicitGemmInMemory}), at a forward's speed; the phases along
 * the last dimension are interleaved into the lines of the gradient in WASM memory
 * (`zipLinesInMemory`), which goes to `out` once every phase is in, a group of rows entries
 * at a time. Phases that no tap reaches are zeros. Each input sums over its taps in one
 * order whatever the blocks, as in the forward product.
 */
function phaseInputGemm(
  v: RoleView,
  w: RoleView,
  rules: readonly TapRule[],
  phases: readonly Phase[][],
  dtype: DType,
  out: Data,
  at: BlockOffsets,
  channels: number,
  stageElements: number,
): void {
  const inputs = ruleSizes(rules).inputs;
  const batches = shapeSize(v.shapes.batch);
  const rows = shapeSize(v.shapes.rows);
  const products = phaseProducts(w, rules, phases);
  // Rows entries (images) whose gradients sit in WASM memory at once.
  const block = channels * inputs;
  const group = v.shapes.rows.length === 1
    ? Math.max(
      1,
      Math.min(
        rows,
        Math.floor(GRADIENT_PER_STAGED * stageElements / Math.max(1, batches * block)),
      ),
    )
    : rows;
  // The phases along the last dimension (one per offset) of each combination of the
  // others' fill the same lines, one input each in turn.
  const step = rules[rules.length - 1].stride;
  for (let r0 = 0; r0 < rows; r0 += group) {
    const count = Math.min(group, rows - r0);
    const part = group === rows ? v : rowsFrom(v, r0, count);
    const planes = batches * count * channels;
    withWasmScratch(() => {
      const gradientAt = wasmScratchReserve(dtype, planes * inputs);
      for (let first = 0; first < products.length; first += step) {
        const along = products.slice(first, first + step);
        const lines = along[0].lineStarts.length;
        if (lines === 0 || along[0].length === 0) continue;
        withWasmScratch(() => {
          const sources = along.map((product) => {
            const at = product.taps === null || product.length === 0
              ? null
              : wasmScratchReserve(dtype, planes * lines * product.length);
            if (at !== null) {
              implicitGemmInMemory(part, product.taps!, product.rules, dtype, at, stageElements);
            }
            return { at, length: product.length };
          });
          const startsAt = reserveOffsets(along[0].lineStarts);
          zipLinesInMemory(dtype, planes, lines, sources, startsAt, gradientAt, inputs);
        });
      }
      const heap = wasmMemoryView(dtype);
      for (let b = 0; b < batches; b++) {
        for (let j = 0; j < count; j++) {
          const from = gradientAt + (b * count + j) * block;
          copyElements(out, at.batch[b] + at.rows[r0 + j], heap, from, from + block);
        }
      }
    });
  }
}

/** Every phase's product: its taps, rules and lines (see {@linkcode PhaseProduct}). */
function phaseProducts(
  w: RoleView,
  rules: readonly TapRule[],
  phases: readonly Phase[][],
): PhaseProduct[] {
  const inputStrides = contiguousStrides(rules.map((rule) => rule.inputSize));
  const products: PhaseProduct[] = [];
  forEachPhase(phases, (chosen) => {
    const last = chosen.length - 1;
    const length = chosen[last].inputs;
    const lineStarts = new Int32Array(
      length === 0 ? 0 : shapeSize(chosen.map((p) => p.inputs)) / length,
    );
    const lineSteps = chosen.slice(0, last).map((_, d) => rules[d].stride * inputStrides[d]);
    const first = chosen.reduce((sum, p, d) => sum + p.phase * inputStrides[d], 0);
    forEachOffsetPair(
      chosen.slice(0, last).map((p) => p.inputs),
      lineSteps,
      first,
      lineSteps,
      first,
      (start, _, line) => lineStarts[line] = start,
    );
    if (chosen.some((p) => p.count === 0)) {
      products.push({ taps: null, rules: [], lineStarts, length });
      return;
    }
    const phaseRules: TapRule[] = rules.map((rule, d) => {
      const p = chosen[d];
      const base = new Int32Array(p.count);
      for (let t = 0; t < p.count; t++) {
        base[t] = (p.phase - rule.base[p.first + t * p.step]) / rule.stride;
      }
      return {
        base,
        stride: 1,
        kernelSize: p.count,
        outputSize: p.inputs,
        inputSize: rule.outputSize,
      };
    });
    let offset = w.offset;
    chosen.forEach((p, d) => offset += p.first * w.strides.taps[d]);
    const taps: RoleView = {
      data: w.data,
      offset,
      shapes: { ...w.shapes, taps: chosen.map((p) => p.count) },
      strides: { ...w.strides, taps: chosen.map((p, d) => p.step * w.strides.taps[d]) },
    };
    products.push({ taps, rules: phaseRules, lineStarts, length });
  });
  return products;
}

/** `view` with `count` of its rows entries from `start` (a single rows dimension). */
function rowsFrom(view: RoleView, start: number, count: number): RoleView {
  return {
    ...view,
    offset: view.offset + start * view.strides.rows[0],
    shapes: { ...view.shapes, rows: [count] },
  };
}

/** Calls `visit` with every combination of one phase per dimension. */
function forEachPhase(phases: readonly Phase[][], visit: (chosen: Phase[]) => void): void {
  const index = new Array<number>(phases.length).fill(0);
  for (;;) {
    visit(index.map((i, d) => phases[d][i]));
    let d = phases.length - 1;
    for (; d >= 0; d--) {
      if (++index[d] < phases[d].length) break;
      index[d] = 0;
    }
    if (d < 0) return;
  }
}
