// A Kronecker factor of two unfolded inputs sharing their output positions (KFC, see
// _kfc_motif.ts): per batch entry, contracted entry and band of output positions, both
// unfolded inputs are gathered into WASM memory (_implicit_unfold.ts) and multiplied there,
// C += U₁·U₂ᵀ; the unfolded inputs are never built whole.
import { copyElements } from "./_copy_elements.ts";
import type { DType } from "./tensor.ts";
import { allocate, forEachOffsetPair, shapeSize } from "./_tensor.ts";
import { outputBands, type TapRule } from "./_padded_image.ts";
import { gemmInMemory, wasmMemoryView, wasmScratchReserve, withWasmScratch } from "./_wasm_gemm.ts";
import {
  type Data,
  reserveImage,
  roleOffsets,
  type RoleView,
  ruleSizes,
} from "./_implicit_roles.ts";
import { unfoldBand, unfoldLayout } from "./_implicit_unfold.ts";

/** Elements of one band of an unfolded input of the full problem (8 MiB in float32). */
export const KFC_BAND_ELEMENTS = 1 << 21;

/**
 * Writes into `target` when given (exactly the result's size), else into a new array,
 * `Y[batch, (rows₁, k₁), (rows₂, k₂)] = factor · Σ_{contracted, o} U₁[batch, contracted,
 * (rows₁, k₁), o] · U₂[batch, contracted, (rows₂, k₂), o]`, row-major, where `Uₛ` is the
 * unfold of `t[s]` by `rules[s]` (roles batch, contracted, rows and taps: its inputs).
 * The sum runs over contracted entries, then bands of `outputsPerBand` outputs of the first
 * dimension, one GEMM each, in that order: shards that hold fewer rows or taps sum alike
 * as long as `outputsPerBand` comes from the whole problem.
 *
 * With `upper` (a shard of a factor whose two sides are the same numbers), `t[0]` holds
 * rows `upper, upper + 1, …` of the whole factor's and `t[1]` the rows from `upper` on:
 * the result has `upper` + `t[1]`'s rows as columns, and only the entries on and right of
 * the diagonal are written (the others are left as they are, for the caller to mirror
 * once every shard is done), each the same sum as in the whole product.
 */
export function implicitKfc(
  t: readonly [RoleView, RoleView],
  rules: readonly [readonly TapRule[], readonly TapRule[]],
  outputsPerBand: number,
  factor: number,
  dtype: DType,
  target?: Data,
  upper?: number,
): Data {
  const batches = shapeSize(t[0].shapes.batch);
  const [m, n] = [0, 1].map((s) => shapeSize(t[s].shapes.rows) * ruleSizes(rules[s]).taps);
  // Columns of the result: with `upper`, those left of `t[1]`'s first row too.
  const firstColumn = upper ?? 0;
  const width = firstColumn + n;
  const out = target ?? allocate(dtype, batches * m * width);
  if (out.length === 0) return out;
  const rowStarts = t.map((view) => roleOffsets(view, "rows"));
  const bands = rules.map((list) => outputBands(list, outputsPerBand));
  const same = upper === undefined && sameUnfold(t, rules);
  // Row blocks that skip the columns left of the diagonal: a symmetric product's.
  const triangular = same || upper !== undefined;
  withWasmScratch(() => {
    const productAt = wasmScratchReserve(dtype, m * width);
    // Each side's band tables, which every batch and contracted entry reuses.
    const layouts = bands.map((list, s) =>
      list.map((band) => unfoldLayout(band, rowStarts[s].length))
    );
    const [first, second] = t;
    forEachOffsetPair(
      first.shapes.batch,
      first.strides.batch,
      0,
      second.strides.batch,
      0,
      (b0, b1, b) => {
        let accumulate = false;
        forEachOffsetPair(
          first.shapes.contracted,
          first.strides.contracted,
          b0,
          second.strides.contracted,
          b1,
          (at0, at1) => {
            bands[0].forEach((band, at) => {
              const columns = ruleSizes(band.rules).outputs;
              withWasmScratch(() => {
                const unfold = (s: 0 | 1, view: RoleView, offset: number, rows: number) => {
                  const layout = layouts[s][at];
                  const u = wasmScratchReserve(dtype, rows * columns);
                  const imageAt = reserveImage(dtype, layout.chunk * layout.geometry.plane);
                  const starts = rowStarts[s].map((r) => view.offset + offset + r);
                  unfoldBand(view, layout, starts, dtype, imageAt, u, columns);
                  return u;
                };
                const u0 = unfold(0, first, at0, m);
                const u1 = same ? u0 : unfold(1, second, at1, n);
                // When both sides are the same numbers, C is symmetric: only the blocks of
                // rows from the diagonal on are computed, and mirrored at the end (the same
                // bits: each sum multiplies the same pairs in the same order). Row `row` of
                // u0 is row `row` of u1 then (`upper` or not).
                const step = triangular ? SYMMETRIC_BLOCK : m;
                for (let row = 0; row < m; row += step) {
                  const rows = Math.min(step, m - row);
                  const from = triangular ? row : 0;
                  gemmInMemory(
                    dtype,
                    rows,
                    n - from,
                    columns,
                    u0 + row * columns,
                    columns,
                    1,
                    u1 + from * columns,
                    1,
                    columns,
                    productAt + row * width + firstColumn + from,
                    width,
                    1,
                    accumulate,
                  );
                }
              });
              accumulate = true;
            });
          },
        );
        const block = out.subarray(b * m * width, (b + 1) * m * width);
        if (upper !== undefined) {
          // Row i from column upper + i on: the entries left of them are the caller's.
          const heap = wasmMemoryView(dtype);
          for (let i = 0; i < m; i++) {
            const from = i * width + upper + i;
            const to = (i + 1) * width;
            if (!accumulate) block.fill(0, from, to);
            else copyElements(block, from, heap, productAt + from, productAt + to);
            if (factor !== 1) {
              for (let j = from; j < to; j++) block[j] *= factor;
            }
          }
          return;
        }
        if (!accumulate) {
          block.fill(0);
          return;
        }
        copyElements(block, 0, wasmMemoryView(dtype), productAt, productAt + m * n);
        if (same) mirrorBelowBlocks(block, m, SYMMETRIC_BLOCK);
        if (factor !== 1) {
          for (let i = 0; i < block.length; i++) block[i] *= factor;
        }
      },
    );
  });
  return out;
}

/** Rows per block of a symmetric product: the blocks left of the diagonal are skipped. */
const SYMMETRIC_BLOCK = 96;

/** Copies the upper entries of the m×m row-major `c` into the entries left of its diagonal
 * blocks of `block` rows, which a symmetric product did not compute. */
function mirrorBelowBlocks(c: Data, m: number, block: number): void {
  for (let i = block; i < m; i++) {
    const diagonal = i - (i % block);
    for (let j = 0; j < diagonal; j++) c[i * m + j] = c[j * m + i];
  }
}

/** Whether both sides unfold the very same numbers: one gather then serves both. */
function sameUnfold(
  t: readonly [RoleView, RoleView],
  rules: readonly [readonly TapRule[], readonly TapRule[]],
): boolean {
  const [a, b] = t;
  const roles = ["batch", "rows", "contracted", "taps"] as const;
  const same = (x: readonly number[], y: readonly number[]) =>
    x.length === y.length && x.every((value, at) => value === y[at]);
  return a.data === b.data && a.offset === b.offset &&
    roles.every((role) =>
      same(a.shapes[role], b.shapes[role]) && same(a.strides[role], b.strides[role])
    ) &&
    rules[0].length === rules[1].length &&
    rules[0].every((rule, d) => {
      const other = rules[1][d];
      return rule.stride === other.stride && rule.kernelSize === other.kernelSize &&
        rule.outputSize === other.outputSize && rule.inputSize === other.inputSize &&
        same(Array.from(rule.base), Array.from(other.base));
    });
}
