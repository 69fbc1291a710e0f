// Shared by the implicit-GEMM kernels (_implicit_gemm.ts, _implicit_weight_gemm.ts,
// _implicit_input_gemm.ts): operands seen by the roles of their dimensions, where result
// blocks go, the staging budget, and copies of operands into WASM memory.
import { copyElements } from "./_copy_elements.ts";
import type { DType } from "./tensor.ts";
import { copyStrided, forEachOffsetPair, shapeSize } from "./_tensor.ts";
import {
  IMAGE_SLACK,
  type PaddedGeometry,
  paddedGeometry,
  planeTapOffsets,
  tapOffsets,
  type TapRule,
} from "./_padded_image.ts";
import { wasmMemoryView, wasmScratchReserve } from "./_wasm_gemm.ts";

export type Data = Float32Array | Float64Array;
export type Role = "batch" | "rows" | "contracted" | "channels" | "taps";

/** A strided operand with its dimensions grouped by role. */
export interface RoleView {
  data: Data;
  offset: number;
  /** Sizes and strides per role, in the order the caller lists the role's names. */
  shapes: Record<Role, readonly number[]>;
  strides: Record<Role, readonly number[]>;
}

/** Elements of the padded images staged at once (1 MiB in float32, like one packed panel of
 * B): larger images are staged in bands of output lines (see `outputBands`). */
export const STAGE_ELEMENTS = 1 << 18;

/** Planes whose band must fit the staging budget in a gradient (its bands may not depend on
 * how many planes a shard holds). */
export const PLANES_PER_BAND = 16;

/** Where each `[channels, positions]` block of a result starts: the offset of every
 * flattened batch entry plus that of every flattened rows entry. */
export interface BlockOffsets {
  batch: readonly number[];
  rows: readonly number[];
}

/** The offsets of row-major `[batch, rows, block]` blocks. */
export function rowMajorBlocks(batches: number, rows: number, block: number): BlockOffsets {
  return {
    batch: Array.from({ length: batches }, (_, b) => b * rows * block),
    rows: Array.from({ length: rows }, (_, r) => r * block),
  };
}

/** The offsets of every entry of one role of a view (row-major), relative to the view. */
export function roleOffsets(view: RoleView, role: Role): number[] {
  const offsets: number[] = [];
  forEachOffsetPair(view.shapes[role], view.strides[role], 0, view.strides[role], 0, (at) => {
    offsets.push(at);
  });
  return offsets;
}

/** Reserves a padded image of `elements` plus the kernels' slack, zeroed. */
export function reserveImage(dtype: DType, elements: number): number {
  const at = wasmScratchReserve(dtype, elements + IMAGE_SLACK);
  wasmMemoryView(dtype).fill(0, at, at + elements + IMAGE_SLACK);
  return at;
}

/** A band's padded geometry, how many of its planes are staged at once, and the offsets
 * of those planes' (plane, tap) entries in the padded image (an int32 region in WASM
 * memory, reserved in the caller's scratch). */
export interface BandLayout {
  readonly geometry: PaddedGeometry;
  readonly chunk: number;
  readonly planeTapsAt: number;
}

/** The layout of a band (its tap rules) of `planes` planes staged within `stageElements`. */
export function bandLayout(
  rules: readonly TapRule[],
  planes: number,
  stageElements: number,
): BandLayout {
  const geometry = paddedGeometry(rules);
  const chunk = planesPerChunk(planes, geometry.plane, stageElements);
  const planeTaps = planeTapOffsets(tapOffsets(rules, geometry), chunk, geometry.plane);
  return { geometry, chunk, planeTapsAt: reserveOffsets(planeTaps) };
}

/** Reserves an int32 region holding `offsets`; returns its int32 offset. */
export function reserveOffsets(offsets: Int32Array): number {
  const at = wasmScratchReserve("int32", offsets.length);
  wasmMemoryView("int32").set(offsets, at);
  return at;
}

/** Copies one batch entry (at `batchOffset`) of a view into WASM memory at element `at`,
 * row-major over its roles in `order` (a weight as `[channels, (contracted, taps)]`, or
 * transposed as `[(channels, taps), contracted]`). */
export function stageRoles(
  view: RoleView,
  batchOffset: number,
  order: readonly Role[],
  at: number,
  dtype: DType,
): void {
  const shape = order.flatMap((role) => view.shapes[role]);
  copyStrided(
    view.data,
    view.offset + batchOffset,
    shape,
    order.flatMap((role) => view.strides[role]),
    wasmMemoryView(dtype).subarray(at, at + shapeSize(shape)),
  );
}

/** Copies rows of a strided operand into WASM memory, row-major and contiguous: row `r`
 * holds `src[base + rowOffsets[r] + columnOffsets[j]]`. `dense` (whether `columnOffsets`
 * is 0, 1, 2, …) may be passed by callers that stage the same columns many times. */
export function stageRows(
  src: Data,
  base: number,
  rowOffsets: readonly number[],
  columnOffsets: readonly number[],
  at: number,
  dtype: DType,
  dense: boolean = isDense(columnOffsets),
): void {
  const heap = wasmMemoryView(dtype);
  const cols = columnOffsets.length;
  for (let r = 0, to = at; r < rowOffsets.length; r++, to += cols) {
    const from = base + rowOffsets[r];
    if (dense) copyElements(heap, to, src, from, from + cols);
    else for (let j = 0; j < cols; j++) heap[to + j] = src[from + columnOffsets[j]];
  }
}

/** Whether `offsets` is 0, 1, 2, …: a contiguous run from the start. */
export function isDense(offsets: readonly number[]): boolean {
  return offsets.every((offset, j) => offset === j);
}

/** Flattened kernel taps, outputs and inputs of tap rules. */
export function ruleSizes(
  rules: readonly TapRule[],
): { taps: number; outputs: number; inputs: number } {
  return {
    taps: shapeSize(rules.map((r) => r.kernelSize)),
    outputs: shapeSize(rules.map((r) => r.outputSize)),
    inputs: shapeSize(rules.map((r) => r.inputSize)),
  };
}

/** How many planes of `plane` elements to stage at once within `elements` (at least one,
 * at most `total`). */
function planesPerChunk(total: number, plane: number, elements: number): number {
  return Math.max(1, Math.min(total, Math.floor(elements / plane)));
}
