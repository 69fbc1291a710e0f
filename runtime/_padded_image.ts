// Zero-padded images in WASM memory: every input that a convolution's taps read, laid out
// so that the unfolded input is an indirect matrix, entry (c, k, o) at
// `c·plane + tapOffsets[k] + outputOffsets[o]`, with no bounds to check.
import { wordAlignedWith } from "./_copy_elements.ts";
import { contiguousStrides, shapeSize } from "./_tensor.ts";
import {
  copyRunsInMemory,
  type WasmGemmDType,
  wasmMemoryView,
  wasmScratchReserve,
  withWasmScratch,
} from "./_wasm_gemm.ts";

type Data = Float32Array | Float64Array;

/** One index pattern as the kernels read it: the row `i = base[k] + o·stride` for local
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

/** Where an image's inputs sit inside its padded plane. */
export interface PaddedGeometry {
  /** Zeros before input 0, per dimension. */
  readonly before: readonly number[];
  /** Padded sizes per dimension. */
  readonly sizes: readonly number[];
  /** Contiguous strides of the padded plane. */
  readonly strides: readonly number[];
  /** Elements of one padded plane. */
  readonly plane: number;
  /** Elements of the inputs of one plane (unpadded). */
  readonly inputs: number;
}

/** Room left after an image for the indirect kernels, which may read past its last
 * element (the float32 stride-2 packing reads one). */
export const IMAGE_SLACK = 16;

/** The smallest padded plane that holds every input and every position a tap reads
 * (rules with at least one tap and one output). */
export function paddedGeometry(rules: readonly TapRule[]): PaddedGeometry {
  const before: number[] = [];
  const sizes: number[] = [];
  for (const rule of rules) {
    let low = 0;
    let high = rule.inputSize;
    for (const base of rule.base) {
      low = Math.min(low, base);
      high = Math.max(high, base + (rule.outputSize - 1) * rule.stride + 1);
    }
    before.push(-low);
    sizes.push(high - low);
  }
  return {
    before,
    sizes,
    strides: contiguousStrides(sizes),
    plane: shapeSize(sizes),
    inputs: shapeSize(rules.map((r) => r.inputSize)),
  };
}

/** Offset in the padded plane of the input that every tap (flattened) reads for output 0. */
export function tapOffsets(rules: readonly TapRule[], geometry: PaddedGeometry): Int32Array {
  const taps = rules.map((r) => r.kernelSize);
  const offsets = new Int32Array(shapeSize(taps));
  const index = new Array<number>(rules.length).fill(0);
  for (let k = 0; k < offsets.length; k++) {
    let at = 0;
    for (let d = 0; d < rules.length; d++) {
      at += (rules[d].base[index[d]] + geometry.before[d]) * geometry.strides[d];
    }
    offsets[k] = at;
    advance(index, taps);
  }
  return offsets;
}

/** Offset in the padded plane of every output position (flattened) relative to tap 0's. */
export function outputOffsets(rules: readonly TapRule[], geometry: PaddedGeometry): Int32Array {
  const outputs = rules.map((r) => r.outputSize);
  const offsets = new Int32Array(shapeSize(outputs));
  if (rules.length === 0) return offsets;
  // Line by line: along the last dimension the offset steps evenly.
  const last = rules.length - 1;
  const outer = outputs.slice(0, last);
  const length = outputs[last];
  const step = rules[last].stride * geometry.strides[last];
  const index = new Array<number>(last).fill(0);
  for (let o = 0; o < offsets.length;) {
    let at = 0;
    for (let d = 0; d < last; d++) at += index[d] * rules[d].stride * geometry.strides[d];
    for (let t = 0; t < length; t++, at += step) offsets[o++] = at;
    advance(index, outer);
  }
  return offsets;
}

/** The outputs of a band along the first dimension and the inputs they read. */
export interface Band {
  /** The tap rules restricted to the band: the first dimension's covers its outputs and
   * the inputs they read (counted from `firstInput`), the others are unchanged. */
  readonly rules: readonly TapRule[];
  /** The band's first output and first input along the first dimension. */
  readonly firstOutput: number;
  readonly firstInput: number;
}

/**
 * How many outputs of the first dimension one band may hold so that `planes` padded planes
 * of the band take at most `elements` (at least one output, at most all of them). With
 * no dimensions or at most one tap, or when everything fits, that is every output.
 */
export function bandOutputs(rules: readonly TapRule[], planes: number, elements: number): number {
  if (rules.length === 0) return 1;
  const [first] = rules;
  const geometry = paddedGeometry(rules);
  if (planes * geometry.plane <= elements) return first.outputSize;
  const lines = Math.floor(elements / (planes * geometry.strides[0]));
  const fit = Math.floor((lines - tapSpan(first)) / Math.max(1, first.stride)) + 1;
  return Math.min(first.outputSize, Math.max(1, fit));
}

/** Input lines one output's taps span along a rule's dimension (first to last tap). */
function tapSpan(rule: TapRule): number {
  return Math.max(...rule.base) - Math.min(...rule.base) + 1;
}

/**
 * Splits the outputs of the first dimension into bands of `outputsPerBand` (the last may
 * be shorter). A band's padded image holds only the inputs its outputs read, so a
 * convolution over a band is the same convolution of those inputs with shifted rules.
 */
export function outputBands(rules: readonly TapRule[], outputsPerBand: number): Band[] {
  if (rules.length === 0 || outputsPerBand >= rules[0].outputSize || rules[0].stride < 1) {
    return [{ rules, firstOutput: 0, firstInput: 0 }];
  }
  const [first] = rules;
  const bands: Band[] = [];
  for (let start = 0; start < first.outputSize; start += outputsPerBand) {
    const count = Math.min(outputsPerBand, first.outputSize - start);
    bands.push(band(rules, start, count));
  }
  return bands;
}

/** The band of outputs `[start, start + count)` along the first dimension, its image
 * holding every input they read. */
function band(rules: readonly TapRule[], start: number, count: number): Band {
  const [first, ...rest] = rules;
  let low = Infinity;
  let high = -Infinity;
  for (const base of count > 0 ? first.base : []) {
    low = Math.min(low, base + start * first.stride);
    high = Math.max(high, base + (start + count - 1) * first.stride + 1);
  }
  const firstInput = Math.min(Math.max(low, 0), first.inputSize);
  const end = Math.max(Math.min(high, first.inputSize), firstInput);
  const rule: TapRule = {
    base: first.base.map((base) => base + start * first.stride - firstInput),
    stride: first.stride,
    kernelSize: first.kernelSize,
    outputSize: count,
    inputSize: end - firstInput,
  };
  return { rules: [rule, ...rest], firstOutput: start, firstInput };
}

/** The indirect matrix's offsets of `(plane, tap)` for `planes` planes: `p·plane + tap`. */
export function planeTapOffsets(taps: Int32Array, planes: number, plane: number): Int32Array {
  const offsets = new Int32Array(planes * taps.length);
  for (let p = 0; p < planes; p++) {
    for (let k = 0; k < taps.length; k++) offsets[p * taps.length + k] = p * plane + taps[k];
  }
  return offsets;
}

/**
 * Copies the inputs of `planeOffsets.length` planes from `src` (plane `p` starting at
 * `planeOffsets[p]`, dimensions `strides` apart) into the interiors of the padded planes at
 * `at` in WASM memory. The borders are left as they are: zero them once. When each plane
 * lies in a compact span of `src` (any contiguous layout, or a band of one), the spans are
 * copied into WASM memory (in one piece when the planes are compact together too) and
 * spread into the padded planes there, run by run.
 */
export function stageImage(
  dtype: WasmGemmDType,
  at: number,
  geometry: PaddedGeometry,
  rules: readonly TapRule[],
  src: Data,
  planeOffsets: readonly number[],
  strides: readonly number[],
): void {
  const planes = planeOffsets.length;
  if (planes === 0 || geometry.inputs === 0) return;
  let planeSpan = 1;
  rules.forEach((rule, d) => planeSpan += (rule.inputSize - 1) * strides[d]);
  // A view whose lines' elements are `step` apart (a strided view of an image) is copied
  // span and all when the span is at most twice what a step-apart layout needs.
  const step = strides.at(-1)!;
  const spread = Math.max(1, step) ** Math.min(2, rules.length);
  const compact = strides.every((s) => s >= 0) && step >= 1 &&
    planeSpan <= 2 * spread * geometry.inputs + 64;
  if (!compact) {
    stageImageByElement(wasmMemoryView(dtype), at, geometry, rules, src, planeOffsets, strides);
    return;
  }
  let first = Infinity;
  let last = -Infinity;
  for (const offset of planeOffsets) {
    first = Math.min(first, offset);
    last = Math.max(last, offset + planeSpan - 1);
  }
  const together = last - first + 1 <= 2 * spread * planes * geometry.inputs + 64;
  withWasmScratch(() => {
    // Each copy lands word-aligned with its source (one element of slack each).
    const slot = together ? last - first + 2 : planeSpan + 1;
    const copyAt = wasmScratchReserve(dtype, together ? slot : planes * slot);
    const heap = wasmMemoryView(dtype);
    const starts = together
      ? [wordAlignedWith(copyAt, src, first)]
      : planeOffsets.map((offset, p) => wordAlignedWith(copyAt + p * slot, src, offset));
    if (together) heap.set(src.subarray(first, last + 1), starts[0]);
    else {
      planeOffsets.forEach((offset, p) =>
        heap.set(src.subarray(offset, offset + planeSpan), starts[p])
      );
    }
    const planeAt = (p: number) => together ? starts[0] + planeOffsets[p] - first : starts[p];
    forEachRun(geometry, rules, planes, strides, (from, to, lines, lineStride, padStride) => {
      copyRunsInMemory(
        dtype,
        lines,
        rules.at(-1)!.inputSize,
        planeAt(from.plane) + from.offset,
        lineStride,
        at + to,
        padStride,
        step,
      );
    });
  });
}

/**
 * Visits the runs of the last dimension of every plane, grouped by the second-to-last
 * dimension: `from` is the plane and the source offset within it (by `strides`), `to` the
 * offset within the padded planes, then the number of lines and their strides in both.
 */
function forEachRun(
  geometry: PaddedGeometry,
  rules: readonly TapRule[],
  planes: number,
  strides: readonly number[],
  visit: (
    from: { plane: number; offset: number },
    to: number,
    lines: number,
    lineStride: number,
    padStride: number,
  ) => void,
): void {
  const n = rules.length;
  const grouped = n >= 2 ? n - 2 : 0;
  const outer = rules.slice(0, grouped).map((r) => r.inputSize);
  const count = shapeSize(outer);
  const lines = n >= 2 ? rules[n - 2].inputSize : 1;
  const lineStride = n >= 2 ? strides[n - 2] : 0;
  const padStride = n >= 2 ? geometry.strides[n - 2] : 0;
  let inner = geometry.before[n - 1];
  if (n >= 2) inner += geometry.before[n - 2] * geometry.strides[n - 2];
  const index = new Array<number>(grouped).fill(0);
  for (let p = 0; p < planes; p++) {
    index.fill(0);
    for (let c = 0; c < count; c++) {
      let from = 0;
      let to = p * geometry.plane + inner;
      for (let d = 0; d < grouped; d++) {
        from += index[d] * strides[d];
        to += (index[d] + geometry.before[d]) * geometry.strides[d];
      }
      visit({ plane: p, offset: from }, to, lines, lineStride, padStride);
      advance(index, outer);
    }
  }
}

/** stageImage for sparse or reversed layouts: element by element. */
function stageImageByElement(
  heap: Data,
  at: number,
  geometry: PaddedGeometry,
  rules: readonly TapRule[],
  src: Data,
  planeOffsets: readonly number[],
  strides: readonly number[],
): void {
  const n = rules.length;
  const inner = rules[n - 1].inputSize;
  const innerStride = strides[n - 1];
  const outer = rules.slice(0, -1).map((r) => r.inputSize);
  const lines = shapeSize(outer);
  const index = new Array<number>(n - 1).fill(0);
  for (let p = 0; p < planeOffsets.length; p++) {
    index.fill(0);
    for (let line = 0; line < lines; line++) {
      let from = planeOffsets[p];
      let to = at + p * geometry.plane + geometry.before[n - 1];
      for (let d = 0; d < n - 1; d++) {
        from += index[d] * strides[d];
        to += (index[d] + geometry.before[d]) * geometry.strides[d];
      }
      for (let e = 0; e < inner; e++, from += innerStride) heap[to + e] = src[from];
      advance(index, outer);
    }
  }
}

/** Steps a row-major multi-index forward by one, wrapping. */
function advance(index: number[], shape: readonly number[]): void {
  for (let d = index.length - 1; d >= 0; d--) {
    if (++index[d] < shape[d]) return;
    index[d] = 0;
  }
}
