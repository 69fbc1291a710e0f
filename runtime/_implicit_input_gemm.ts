// The input gradient of a convolution as an implicit GEMM (see _implicit_gemm.ts): a
// forward product of the output gradient with mirrored taps, phase by phase when strided.
import type { DType } from "./tensor.ts";
import { allocate, contiguousStrides, forEachOffsetPair, shapeSize } from "./_tensor.ts";
import type { TapRule } from "./_padded_image.ts";
import {
  type BlockOffsets,
  type Data,
  type RoleView,
  rowMajorBlocks,
  ruleSizes,
  STAGE_ELEMENTS,
} from "./_implicit_roles.ts";
import { implicitGemm } from "./_implicit_gemm.ts";

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

/**
 * The input gradient with strides, phase by phase: the inputs `i = stride·q + phase` (in
 * every dimension) are reached only by the taps with `base[k] ≡ phase`, each from output
 * `o = q + (phase − base[k]) / stride`, so their gradient is a stride-1 forward product of V
 * with those taps ({@linkcode implicitGemm}), at a forward's speed, whose result then fills
 * every stride-th input. Phases that no tap reaches are zeros. Each input sums over its taps
 * in one order whatever the blocks, as in the forward product.
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
  const inputStrides = contiguousStrides(rules.map((rule) => rule.inputSize));
  const blocks = at.batch.flatMap((batch) => at.rows.map((row) => batch + row));
  const largest = shapeSize(phases.map((list) => Math.max(...list.map((p) => p.inputs))));
  const computed = allocate(dtype, blocks.length * channels * largest);
  forEachPhase(phases, (chosen) => {
    const count = shapeSize(chosen.map((p) => p.inputs));
    if (count === 0) return;
    // Where each line of the phase's inputs (along the last dimension) starts in a
    // [channels, inputs] block; along the line, one every stride.
    const last = chosen.length - 1;
    const lineLength = chosen[last].inputs;
    const lineStarts = new Int32Array(count / lineLength);
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
    const lines = { starts: lineStarts, length: lineLength, step: rules[last].stride };
    if (chosen.some((p) => p.count === 0)) {
      spreadLines(out, null, blocks, channels, inputs, lines);
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
    const result = computed.subarray(0, blocks.length * channels * count);
    implicitGemm(v, taps, phaseRules, dtype, result, undefined, stageElements);
    spreadLines(out, result, blocks, channels, inputs, lines);
  });
}

/** Writes `values` (zeros when null), `[blocks, channels, lines, length]` row-major, into
 * `out`: line `l` of channel `c` of block `b` from `blocks[b] + c·inputs + starts[l]`, one
 * value every `step`. */
function spreadLines(
  out: Data,
  values: Data | null,
  blocks: readonly number[],
  channels: number,
  inputs: number,
  lines: { starts: Int32Array; length: number; step: number },
): void {
  const { starts, length, step } = lines;
  let from = 0;
  for (const block of blocks) {
    for (let c = 0, base = block; c < channels; c++, base += inputs) {
      for (let l = 0; l < starts.length; l++) {
        let to = base + starts[l];
        if (values === null) {
          for (let t = 0; t < length; t++, to += step) out[to] = 0;
        } else {
          for (let t = 0; t < length; t++, to += step) out[to] = values[from++];
        }
      }
    }
  }
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
