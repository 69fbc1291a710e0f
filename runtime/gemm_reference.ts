import type { GemmOptions, StridedMatrix } from "./gemm.ts";

type FloatArray = Float32Array | Float64Array;

// Micro-tile: MR rows of A by NR columns of B, held in 12 local accumulators. 4×3 and 3×5 were
// fastest under V8 (4×4, 4×8, 2×6, 6×2 and 2-fold unrolling were 5–25% slower: x64 has 16 vector
// registers and V8 never fuses a multiply-add). The kernel below is written out for these values.
const MR = 4;
const NR = 3;
// Cache blocks: a KC×NC panel of B (NC a multiple of NR) and an MC×KC block of A (MC a multiple
// of MR, 96·256 doubles = 192 KiB, held in L2 while one NR-wide sliver of B sits in L1).
const KC = 256;
const MC = 96;
const NC = 3072;

// Packed panels are float64 for both dtypes, grown as needed and reused across calls. One array
// type keeps the micro-kernel's loads monomorphic: with a float32 twin, V8 specialises the kernel
// for both types and both slow down by ~25%. Float32 inputs are thus multiplied and summed in
// float64 and rounded once per KC block when written to C.
let packedA = new Float64Array(0);
let packedB = new Float64Array(0);
const edgeTile = new Float64Array(MR * NR);

/**
 * Multiplies two strided matrices in plain TypeScript: `C[m×n] = A[m×k] · B[k×n]`, or
 * `C += A·B` with `options.accumulate`. The reference that {@linkcode gemm}'s WebAssembly
 * kernels are tested against, with the same meaning for every argument; it does not check them
 * (gemm does).
 *
 * Cache-blocked BLIS-style: panels of B and blocks of A are packed, through their strides, into
 * reused float64 scratch arrays, and a 4×3 register-blocked kernel multiplies them. Float32
 * inputs are thus multiplied and summed in float64 and rounded once per block of 256 terms.
 *
 * @param m Rows of A and C.
 * @param n Columns of B and C.
 * @param k Columns of A and rows of B.
 * @param a The left factor, m×k.
 * @param b The right factor, k×n.
 * @param c The result, m×n; written in place.
 * @param options Whether to add to C instead of overwriting it.
 *
 * @example A product with a transposed left factor, then accumulated
 * ```ts
 * import assert from "node:assert/strict";
 * import { gemmReference } from "@einconv/runtime";
 *
 * // a holds the 3×2 matrix [[1, 2], [3, 4], [5, 6]]; its transpose is read through strides.
 * const a = { data: new Float64Array([1, 2, 3, 4, 5, 6]), offset: 0, rowStride: 1, colStride: 2 };
 * const b = { data: new Float64Array([1, 0, 0, 1, 1, 1]), offset: 0, rowStride: 2, colStride: 1 };
 * const c = { data: new Float64Array(4), offset: 0, rowStride: 2, colStride: 1 };
 * gemmReference(2, 2, 3, a, b, c);
 * assert.deepEqual([...c.data], [6, 8, 8, 10]);
 * gemmReference(2, 2, 3, a, b, c, { accumulate: true });
 * assert.deepEqual([...c.data], [12, 16, 16, 20]);
 * ```
 */
export function gemmReference(
  m: number,
  n: number,
  k: number,
  a: StridedMatrix,
  b: StridedMatrix,
  c: StridedMatrix,
  options: GemmOptions = {},
): void {
  const accumulate = options.accumulate ?? false;
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) fillZero(m, n, c);
    return;
  }
  const kcMax = Math.min(KC, k);
  const bSize = kcMax * roundUp(Math.min(NC, n), NR);
  const aSize = kcMax * roundUp(Math.min(MC, m), MR);
  if (packedB.length < bSize) packedB = new Float64Array(bSize);
  if (packedA.length < aSize) packedA = new Float64Array(aSize);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packB(b, pc, jc, kc, nc, packedB);
      const overwrite = pc === 0 && !accumulate;
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packA(a, ic, pc, mc, kc, packedA);
        const corner = c.offset + ic * c.rowStride + jc * c.colStride;
        macroKernel(mc, nc, kc, c.data, corner, c.rowStride, c.colStride, overwrite);
      }
    }
  }
}

/** Rounds `size` up to a multiple of `step`. */
function roundUp(size: number, step: number): number {
  return Math.ceil(size / step) * step;
}

/** Sets the m×n view `c` to zero. */
function fillZero(m: number, n: number, c: StridedMatrix): void {
  const { data, rowStride, colStride } = c;
  for (let i = 0, row = c.offset; i < m; i++, row += rowStride) {
    for (let j = 0, at = row; j < n; j++, at += colStride) data[at] = 0;
  }
}

/**
 * Packs rows `row0..row0+mc` and columns `col0..col0+kc` of A into `MR`-high row panels, each
 * stored column by column (`MR` values per column), the last panel padded with zero rows.
 */
function packA(
  a: StridedMatrix,
  row0: number,
  col0: number,
  mc: number,
  kc: number,
  out: Float64Array,
): void {
  const { data, rowStride, colStride } = a;
  let at = 0;
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = Math.min(MR, mc - ir);
    let column = a.offset + (row0 + ir) * rowStride + col0 * colStride;
    for (let p = 0; p < kc; p++, column += colStride) {
      let i = 0;
      for (let from = column; i < mr; i++, from += rowStride) out[at++] = data[from];
      for (; i < MR; i++) out[at++] = 0;
    }
  }
}

/**
 * Packs rows `row0..row0+kc` and columns `col0..col0+nc` of B into `NR`-wide column panels,
 * each stored row by row (`NR` values per row), the last panel padded with zero columns.
 */
function packB(
  b: StridedMatrix,
  row0: number,
  col0: number,
  kc: number,
  nc: number,
  out: Float64Array,
): void {
  const { data, rowStride, colStride } = b;
  let at = 0;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = Math.min(NR, nc - jr);
    let row = b.offset + row0 * rowStride + (col0 + jr) * colStride;
    for (let p = 0; p < kc; p++, row += rowStride) {
      let j = 0;
      for (let from = row; j < nr; j++, from += colStride) out[at++] = data[from];
      for (; j < NR; j++) out[at++] = 0;
    }
  }
}

/** Multiplies the packed mc×kc block of A by the packed kc×nc panel of B into C at `corner`. */
function macroKernel(
  mc: number,
  nc: number,
  kc: number,
  c: FloatArray,
  corner: number,
  rowStride: number,
  colStride: number,
  overwrite: boolean,
): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = Math.min(NR, nc - jr);
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = Math.min(MR, mc - ir);
      const at = corner + ir * rowStride + jr * colStride;
      microKernel(kc, ir * kc, jr * kc, c, at, rowStride, colStride, mr, nr, overwrite);
    }
  }
}

/**
 * Multiplies one packed MR×kc panel of A (from `ai` in `packedA`) by one packed kc×NR panel of
 * B (from `bi` in `packedB`) and writes the top-left `mr×nr` corner of the tile to C at `at`.
 */
function microKernel(
  kc: number,
  ai: number,
  bi: number,
  c: FloatArray,
  at: number,
  rowStride: number,
  colStride: number,
  mr: number,
  nr: number,
  overwrite: boolean,
): void {
  const pa = packedA;
  const pb = packedB;
  let c00 = 0, c01 = 0, c02 = 0;
  let c10 = 0, c11 = 0, c12 = 0;
  let c20 = 0, c21 = 0, c22 = 0;
  let c30 = 0, c31 = 0, c32 = 0;
  for (let p = 0; p < kc; p++, ai += 4, bi += 3) {
    const a0 = pa[ai], a1 = pa[ai + 1], a2 = pa[ai + 2], a3 = pa[ai + 3];
    let b = pb[bi];
    c00 += a0 * b, c10 += a1 * b, c20 += a2 * b, c30 += a3 * b;
    b = pb[bi + 1];
    c01 += a0 * b, c11 += a1 * b, c21 += a2 * b, c31 += a3 * b;
    b = pb[bi + 2];
    c02 += a0 * b, c12 += a1 * b, c22 += a2 * b, c32 += a3 * b;
  }
  if (mr === MR && nr === NR) {
    storeRow(c, at, colStride, c00, c01, c02, overwrite);
    storeRow(c, at + rowStride, colStride, c10, c11, c12, overwrite);
    storeRow(c, at + 2 * rowStride, colStride, c20, c21, c22, overwrite);
    storeRow(c, at + 3 * rowStride, colStride, c30, c31, c32, overwrite);
    return;
  }
  const t = edgeTile;
  t[0] = c00, t[1] = c01, t[2] = c02, t[3] = c10, t[4] = c11, t[5] = c12;
  t[6] = c20, t[7] = c21, t[8] = c22, t[9] = c30, t[10] = c31, t[11] = c32;
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) {
      const to = at + i * rowStride + j * colStride;
      c[to] = overwrite ? t[i * NR + j] : c[to] + t[i * NR + j];
    }
  }
}

/** Writes (or adds) three values to consecutive columns of one row of C. */
function storeRow(
  c: FloatArray,
  at: number,
  colStride: number,
  v0: number,
  v1: number,
  v2: number,
  overwrite: boolean,
): void {
  if (overwrite) {
    c[at] = v0, c[at + colStride] = v1, c[at + 2 * colStride] = v2;
  } else {
    c[at] += v0, c[at + colStride] += v1, c[at + 2 * colStride] += v2;
  }
}
