// The implicit-GEMM kernel of convolution-shaped contractions (see _conv_motif.ts): the
// unfolded input is gathered block by block straight into WASM memory and multiplied
// there, so it is never built whole. Planning decisions stay in the planner: this file
// only moves numbers for the roles it is given.
import type { DType } from "./tensor.ts";
import { allocate, contiguousStrides, forEachOffsetPair, shapeSize } from "./_tensor.ts";
import {
  gemmInMemory,
  wasmGemmBlockDepth,
  wasmMemoryView,
  wasmScratchMark,
  wasmScratchRelease,
  wasmScratchReserve,
} from "./_wasm_gemm.ts";

type Data = Float32Array | Float64Array;

/** One index pattern as the kernel reads it: the row `i = base[k] + o·stride` for local
 * tap `k` and local output `o`, valid when it lies in `[0, inputSize)`. */
export interface TapRule {
  /** `base[k]` for every local tap. */
  base: Int32Array;
  stride: number;
  /** Local sizes of the tap, output and input dimensions. */
  kernelSize: number;
  outputSize: number;
  inputSize: number;
}

/** A strided operand with its dimensions grouped by role. */
export interface RoleView {
  data: Data;
  offset: number;
  /** Sizes and strides per role, in the order the caller lists the role's names. */
  shapes: Record<"batch" | "rows" | "contracted" | "channels" | "taps", readonly number[]>;
  strides: Record<"batch" | "rows" | "contracted" | "channels" | "taps", readonly number[]>;
}

/** Elements of one gathered block of the unfolded input (about 1 MiB in float32). */
const BLOCK_ELEMENTS = 1 << 18;

/**
 * Writes into `target` when given (exactly the result's size), else into a new array.
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
): Data {
  const batchShape = t.shapes.batch;
  const rowShape = t.shapes.rows;
  const contractedShape = t.shapes.contracted;
  const channelShape = w.shapes.channels;
  const kernelShape = rules.map((r) => r.kernelSize);
  const outputShape = rules.map((r) => r.outputSize);
  const batches = shapeSize(batchShape);
  const rows = shapeSize(rowShape);
  const channels = shapeSize(channelShape);
  const taps = shapeSize(kernelShape);
  const outputs = shapeSize(outputShape);
  const depth = shapeSize(contractedShape) * taps;
  const out = target ?? allocate(dtype, batches * rows * channels * outputs);
  if (out.length === 0 || depth === 0) return out.fill(0);
  const width = Math.max(8, Math.min(outputs, Math.floor(BLOCK_ELEMENTS / depth)));
  const mark = wasmScratchMark();
  try {
    const weightAt = wasmScratchReserve(dtype, channels * depth);
    const unfoldedAt = wasmScratchReserve(dtype, depth * width);
    const resultAt = wasmScratchReserve(dtype, channels * width);
    forEachOffsetPair(batchShape, t.strides.batch, 0, w.strides.batch, 0, (tBatch, wBatch, b) => {
      stageWeight(w, wBatch, depth, weightAt, dtype);
      forEachOffsetPair(rowShape, t.strides.rows, 0, t.strides.rows, 0, (tRow, _, r) => {
        const target = (b * rows + r) * channels * outputs;
        for (let first = 0; first < outputs; first += width) {
          const cols = Math.min(width, outputs - first);
          gatherBlock(
            t,
            "contracted",
            t.offset + tBatch + tRow,
            rules,
            first,
            cols,
            unfoldedAt,
            cols,
            dtype,
          );
          gemmInMemory(
            dtype,
            channels,
            cols,
            depth,
            weightAt,
            depth,
            1,
            unfoldedAt,
            cols,
            1,
            resultAt,
            cols,
            1,
            false,
          );
          const heap = wasmMemoryView(dtype);
          for (let d = 0; d < channels; d++) {
            const from = resultAt + d * cols;
            out.set(heap.subarray(from, from + cols), target + d * outputs + first);
          }
        }
      });
    });
  } finally {
    wasmScratchRelease(mark);
  }
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
  let row = 0;
  forEachOffsetPair(
    w.shapes.channels,
    w.strides.channels,
    0,
    w.strides.channels,
    0,
    (channelOffset) => {
      let column = 0;
      forEachOffsetPair(
        w.shapes.contracted,
        w.strides.contracted,
        0,
        w.strides.contracted,
        0,
        (cOffset) => {
          forEachOffsetPair(w.shapes.taps, w.strides.taps, 0, w.strides.taps, 0, (kOffset) => {
            heap[at + row * depth + column++] =
              w.data[w.offset + batchOffset + channelOffset + cOffset + kOffset];
          });
        },
      );
      row++;
    },
  );
}

/**
 * Writes columns `first … first + cols − 1` (flattened outputs) of the unfolded input of
 * one entry of T's other indices into WASM memory, rows `rowStride` apart: row `(c, k)`
 * (c running over T's `rowRole` indices) holds `T[c, i(k, o)]` or 0.
 */
function gatherBlock(
  t: RoleView,
  rowRole: "contracted" | "rows",
  base: number,
  rules: readonly TapRule[],
  first: number,
  cols: number,
  at: number,
  rowStride: number,
  dtype: DType,
): void {
  const heap = wasmMemoryView(dtype);
  const src = t.data;
  const n = rules.length;
  const last = rules[n - 1];
  const lastSize = last.outputSize;
  const inputStrides = t.strides.taps;
  const lastStride = inputStrides[n - 1] * last.stride;
  const tap = new Array<number>(n).fill(0);
  let row = at;
  forEachOffsetPair(
    t.shapes[rowRole],
    t.strides[rowRole],
    0,
    t.strides[rowRole],
    0,
    (cOffset) => {
      tap.fill(0);
      for (let k = 0, kCount = shapeSize(rules.map((r) => r.kernelSize)); k < kCount; k++) {
        const lastBase = last.base[tap[n - 1]];
        // Outputs of the last dimension whose input lies inside: [lo, hi).
        const [lo, hi] = insideOutputs(last, lastBase);
        let j = first;
        let to = row;
        while (j < first + cols) {
          const o = j % lastSize;
          const run = Math.min(lastSize - o, first + cols - j);
          // Decode the outer outputs and check their inputs.
          const offset = outerOffset(
            rules,
            tap,
            Math.floor(j / lastSize),
            inputStrides,
            base + cOffset,
          );
          if (offset < 0) {
            heap.fill(0, to, to + run);
          } else {
            const start = Math.max(o, lo);
            const end = Math.min(o + run, hi);
            let e = o;
            for (; e < start && e < o + run; e++) heap[to + e - o] = 0;
            const from = offset + (lastBase + e * last.stride) * inputStrides[n - 1];
            if (lastStride === 1 && end - e > 16) {
              heap.set(src.subarray(from, from + end - e), to + e - o);
              e = Math.max(e, end);
            } else {
              for (let x = from; e < end; e++, x += lastStride) heap[to + e - o] = src[x];
            }
            for (; e < o + run; e++) heap[to + e - o] = 0;
          }
          j += run;
          to += run;
        }
        row += rowStride;
        for (let d = n - 1; d >= 0; d--) {
          if (++tap[d] < rules[d].kernelSize) break;
          tap[d] = 0;
        }
      }
    },
  );
}

/**
 * Computes `Y[batch, channels, rows, taps] = Σ_{contracted, o} V[batch, contracted,
 * channels, o] · T[batch, contracted, rows, i(k, o)]` (a convolution's weight gradient)
 * as `V · Uᵀ` with the unfolded input gathered block by block along the sum. `v.shapes.taps`
 * and `v.strides.taps` describe V's output dimensions. Blocks of the sum start at multiples
 * of the kernels' block depth, so every entry sums in one order whatever is split.
 */
export function implicitWeightGemm(
  t: RoleView,
  v: RoleView,
  rules: readonly TapRule[],
  dtype: DType,
  target?: Data,
): Data {
  const batches = shapeSize(t.shapes.batch);
  const samples = shapeSize(t.shapes.contracted);
  const rows = shapeSize(t.shapes.rows);
  const channels = shapeSize(v.shapes.channels);
  const outputs = shapeSize(rules.map((r) => r.outputSize));
  const columns = rows * shapeSize(rules.map((r) => r.kernelSize));
  const depth = samples * outputs;
  const out = target ?? allocate(dtype, batches * channels * columns);
  if (out.length === 0 || depth === 0) return out.fill(0);
  const unit = wasmGemmBlockDepth();
  const block = Math.min(
    Math.ceil(depth / unit) * unit,
    Math.max(unit, Math.floor(BLOCK_ELEMENTS / columns / unit) * unit),
  );
  // Offsets in V of every flattened output position and of every sample.
  const outputOffsets = new Int32Array(outputs);
  forEachOffsetPair(v.shapes.taps, v.strides.taps, 0, v.strides.taps, 0, (at, _, o) => {
    outputOffsets[o] = at;
  });
  const mark = wasmScratchMark();
  try {
    const resultAt = wasmScratchReserve(dtype, channels * columns);
    const gradAt = wasmScratchReserve(dtype, channels * block);
    const unfoldedAt = wasmScratchReserve(dtype, columns * block);
    forEachOffsetPair(t.shapes.batch, t.strides.batch, 0, v.strides.batch, 0, (tb, vb, b) => {
      const sampleT: number[] = [];
      const sampleV: number[] = [];
      forEachOffsetPair(
        t.shapes.contracted,
        t.strides.contracted,
        0,
        v.strides.contracted,
        0,
        (a, c) => {
          sampleT.push(a);
          sampleV.push(c);
        },
      );
      for (let first = 0; first < depth; first += block) {
        const length = Math.min(block, depth - first);
        let heap = wasmMemoryView(dtype);
        let row = gradAt;
        forEachOffsetPair(v.shapes.channels, v.strides.channels, 0, v.strides.channels, 0, (d) => {
          for (let p = first, to = row; p < first + length; p++, to++) {
            const sample = Math.floor(p / outputs);
            heap[to] =
              v.data[v.offset + vb + sampleV[sample] + d + outputOffsets[p - sample * outputs]];
          }
          row += length;
        });
        for (let p = first; p < first + length;) {
          const sample = Math.floor(p / outputs);
          const o = p - sample * outputs;
          const run = Math.min(outputs - o, first + length - p);
          gatherBlock(
            t,
            "rows",
            t.offset + tb + sampleT[sample],
            rules,
            o,
            run,
            unfoldedAt + (p - first),
            length,
            dtype,
          );
          p += run;
        }
        gemmInMemory(
          dtype,
          channels,
          columns,
          length,
          gradAt,
          length,
          1,
          unfoldedAt,
          1,
          length,
          resultAt,
          columns,
          1,
          first > 0,
        );
        heap = wasmMemoryView(dtype);
        if (first + length >= depth) {
          out.set(heap.subarray(resultAt, resultAt + channels * columns), b * channels * columns);
        }
      }
    });
  } finally {
    wasmScratchRelease(mark);
  }
  return out;
}

/** Columns of one block of an input gradient: fixed, so that shards sum alike. */
const SCATTER_WIDTH = 256;

/**
 * Computes `X[batch, rows, channels, i] = Σ_{contracted, k, o : i = i(k, o)}
 * W[batch, contracted, channels, k] · V[batch, rows, contracted, o]` (a convolution's
 * input gradient): per block of outputs, `Wᵀ · V` runs in WASM memory and its columns
 * are scatter-added into the inputs they came from. `v.shapes.taps`/`v.strides.taps` are
 * V's output dimensions, `w`'s its kernel taps. Blocks have a fixed width and entries
 * add up in one order, so shards reproduce the whole result bit for bit.
 */
export function implicitInputGemm(
  v: RoleView,
  w: RoleView,
  rules: readonly TapRule[],
  dtype: DType,
  target?: Data,
): Data {
  const batches = shapeSize(v.shapes.batch);
  const rows = shapeSize(v.shapes.rows);
  const depth = shapeSize(v.shapes.contracted);
  const channels = shapeSize(w.shapes.channels);
  const taps = shapeSize(rules.map((r) => r.kernelSize));
  const outputs = shapeSize(rules.map((r) => r.outputSize));
  const inputShape = rules.map((r) => r.inputSize);
  const inputs = shapeSize(inputShape);
  const out = target?.fill(0) ?? allocate(dtype, batches * rows * channels * inputs);
  if (out.length === 0 || depth === 0 || outputs === 0) return out;
  const inputStrides = contiguousStrides(inputShape);
  const channelStrides = contiguousStrides(w.shapes.channels).map((s) => s * inputs);
  const outputOffsets = new Int32Array(outputs);
  forEachOffsetPair(v.shapes.taps, v.strides.taps, 0, v.strides.taps, 0, (at, _, o) => {
    outputOffsets[o] = at;
  });
  const width = SCATTER_WIDTH;
  const mark = wasmScratchMark();
  try {
    const weightAt = wasmScratchReserve(dtype, channels * taps * depth);
    const gradAt = wasmScratchReserve(dtype, depth * width);
    const columnsAt = wasmScratchReserve(dtype, channels * taps * width);
    forEachOffsetPair(v.shapes.batch, v.strides.batch, 0, w.strides.batch, 0, (vb, wb, b) => {
      // Wᵀ as a row-major [(channels, taps), contracted] matrix.
      let heap = wasmMemoryView(dtype);
      let row = 0;
      forEachOffsetPair(w.shapes.channels, w.strides.channels, 0, w.strides.channels, 0, (c) => {
        forEachOffsetPair(w.shapes.taps, w.strides.taps, 0, w.strides.taps, 0, (k) => {
          let column = 0;
          forEachOffsetPair(
            w.shapes.contracted,
            w.strides.contracted,
            0,
            w.strides.contracted,
            0,
            (d) => {
              heap[weightAt + row * depth + column++] = w.data[w.offset + wb + c + k + d];
            },
          );
          row++;
        });
      });
      forEachOffsetPair(v.shapes.rows, v.strides.rows, 0, v.strides.rows, 0, (vr, _, r) => {
        const target = (b * rows + r) * channels * inputs;
        for (let first = 0; first < outputs; first += width) {
          const cols = Math.min(width, outputs - first);
          heap = wasmMemoryView(dtype);
          let to = gradAt;
          forEachOffsetPair(
            v.shapes.contracted,
            v.strides.contracted,
            0,
            v.strides.contracted,
            0,
            (d) => {
              const from = v.offset + vb + vr + d;
              for (let o = first; o < first + cols; o++) {
                heap[to++] = v.data[from + outputOffsets[o]];
              }
            },
          );
          gemmInMemory(
            dtype,
            channels * taps,
            cols,
            depth,
            weightAt,
            depth,
            1,
            gradAt,
            cols,
            1,
            columnsAt,
            cols,
            1,
            false,
          );
          scatterBlock(
            out,
            target,
            w.shapes.channels,
            channelStrides,
            inputStrides,
            rules,
            first,
            cols,
            columnsAt,
            dtype,
          );
        }
      });
    });
  } finally {
    wasmScratchRelease(mark);
  }
  return out;
}

/**
 * Adds columns `first … first + cols − 1` (flattened outputs) of the row-major block at
 * `at` in WASM memory, rows `(c, k)`, into `out[base + c, i(k, o)]`, skipping taps that
 * fall outside the input.
 */
function scatterBlock(
  out: Data,
  base: number,
  channelShape: readonly number[],
  channelStrides: readonly number[],
  inputStrides: readonly number[],
  rules: readonly TapRule[],
  first: number,
  cols: number,
  at: number,
  dtype: DType,
): void {
  const heap = wasmMemoryView(dtype);
  const n = rules.length;
  const last = rules[n - 1];
  const lastSize = last.outputSize;
  const lastStride = inputStrides[n - 1] * last.stride;
  const tap = new Array<number>(n).fill(0);
  const kCount = shapeSize(rules.map((r) => r.kernelSize));
  let row = at;
  forEachOffsetPair(channelShape, channelStrides, 0, channelStrides, 0, (cOffset) => {
    tap.fill(0);
    for (let k = 0; k < kCount; k++) {
      const lastBase = last.base[tap[n - 1]];
      const [lo, hi] = insideOutputs(last, lastBase);
      for (let j = first, from = row; j < first + cols;) {
        const o = j % lastSize;
        const run = Math.min(lastSize - o, first + cols - j);
        const offset = outerOffset(
          rules,
          tap,
          Math.floor(j / lastSize),
          inputStrides,
          base + cOffset,
        );
        if (offset >= 0) {
          const start = Math.max(o, lo);
          const end = Math.min(o + run, hi);
          for (
            let e = start, x = offset + (lastBase + start * last.stride) * inputStrides[n - 1];
            e < end;
            e++, x += lastStride
          ) {
            out[x] += heap[from + e - o];
          }
        }
        j += run;
        from += run;
      }
      row += cols;
      for (let d = n - 1; d >= 0; d--) {
        if (++tap[d] < rules[d].kernelSize) break;
        tap[d] = 0;
      }
    }
  });
}

/** The outputs `[lo, hi)` of the last dimension whose input, `base + o·stride`, lies
 * inside it. */
function insideOutputs(rule: TapRule, base: number): [number, number] {
  return [
    Math.max(0, Math.ceil(-base / rule.stride)),
    Math.min(rule.outputSize, Math.floor((rule.inputSize - 1 - base) / rule.stride) + 1),
  ];
}

/**
 * The offset of the inputs that the taps `tap` read for the outer outputs `outer` (all
 * dimensions but the last, flattened), added to `base`; -1 if one of them lies in the
 * padding.
 */
function outerOffset(
  rules: readonly TapRule[],
  tap: readonly number[],
  outer: number,
  inputStrides: readonly number[],
  base: number,
): number {
  let offset = base;
  for (let d = rules.length - 2; d >= 0; d--) {
    const size = rules[d].outputSize;
    const i = rules[d].base[tap[d]] + (outer % size) * rules[d].stride;
    outer = Math.floor(outer / size);
    if (i < 0 || i >= rules[d].inputSize) return -1;
    offset += i * inputStrides[d];
  }
  return offset;
}
