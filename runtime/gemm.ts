import { copyElements } from "./_copy_elements.ts";
import { describeValue as describe } from "./validate.ts";
import {
  gemmInMemory,
  wasmGemmBlockDepth,
  type WasmGemmDType,
  wasmMemoryView,
  wasmScratchReserve,
  withWasmScratch,
} from "./_wasm_gemm.ts";

/** A strided matrix view: element (r, c) is `data[offset + r*rowStride + c*colStride]`. */
export interface StridedMatrix {
  /** The storage, shared with whatever else views it. */
  data: Float32Array | Float64Array;
  /** Index of element (0, 0) in `data`. */
  offset: number;
  /** Step in `data` from one row to the next; any integer, 0 repeats one row. */
  rowStride: number;
  /** Step in `data` from one column to the next; any integer, 0 repeats one column. */
  colStride: number;
}

/** Options of {@linkcode gemm}. */
export interface GemmOptions {
  /** If true, `C += A·B`; otherwise `C = A·B` and the old values of C are not read.
   * Default false. */
  accumulate?: boolean;
}

type FloatArray = Float32Array | Float64Array;

// Most elements that one call copies into WASM memory (A, B and C blocks together); larger
// products run block by block. 2^22 elements (16 MiB in float32, 32 MiB in float64) keep a
// block's copies in cache for the kernels' packing: 64×65536×320 runs ~15% faster than with 2^24.
const SCRATCH_ELEMENTS = 1 << 22;

/**
 * Multiplies two strided matrices: `C[m×n] = A[m×k] · B[k×n]`, or `C += A·B` with
 * `options.accumulate`.
 *
 * A, B and C are views of Float32Array or Float64Array storage with any integer strides,
 * including 0 (a repeated row or column) and negative ones, so transposed or permuted operands
 * need no copy. All three must have the same element type. C must not share storage with A or
 * B, and two of its elements sharing storage gives unspecified values there. `k = 0` sets C to
 * zero (or leaves it, with `accumulate`); `m = 0` or `n = 0` does nothing. Only the elements of
 * C's view are written.
 *
 * The operands are copied into WebAssembly memory and multiplied there by SIMD kernels
 * (float32 in f32x4, float64 in f64x2, with fused multiply-adds where the engine has relaxed
 * SIMD), cache-blocked BLIS-style with packed panels and a register-blocked micro-kernel. Each
 * element of C is summed in an order that does not depend on m or n, so computing C in pieces
 * (rows or columns at a time) gives the same bits as computing it at once.
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
 * import { gemm } from "@einconv/runtime";
 *
 * // a holds the 3×2 matrix [[1, 2], [3, 4], [5, 6]]; its transpose is read through strides.
 * const a = { data: new Float64Array([1, 2, 3, 4, 5, 6]), offset: 0, rowStride: 1, colStride: 2 };
 * const b = { data: new Float64Array([1, 0, 0, 1, 1, 1]), offset: 0, rowStride: 2, colStride: 1 };
 * const c = { data: new Float64Array(4), offset: 0, rowStride: 2, colStride: 1 };
 * gemm(2, 2, 3, a, b, c);
 * assert.deepEqual([...c.data], [6, 8, 8, 10]);
 * gemm(2, 2, 3, a, b, c, { accumulate: true });
 * assert.deepEqual([...c.data], [12, 16, 16, 20]);
 * ```
 */
export function gemm(
  m: number,
  n: number,
  k: number,
  a: StridedMatrix,
  b: StridedMatrix,
  c: StridedMatrix,
  options: GemmOptions = {},
): void {
  const accumulate = checkArguments(m, n, k, a, b, c, options);
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) fillZero(m, n, c);
    return;
  }
  if (Math.abs(c.rowStride) < Math.abs(c.colStride)) {
    // C is closer to column-major: compute Cᵀ = Bᵀ·Aᵀ, whose rows are C's columns. Each element
    // gets the same products in the same order, so the bits do not change.
    [m, n, a, b, c] = [n, m, transpose(b), transpose(a), transpose(c)];
  }
  const dtype: WasmGemmDType = c.data instanceof Float32Array ? "float32" : "float64";
  const [mb, nb, kb] = m * k + k * n + m * n <= SCRATCH_ELEMENTS ? [m, n, k] : blockSizes(m, n, k);
  for (let i = 0; i < m; i += mb) {
    const rows = Math.min(mb, m - i);
    for (let j = 0; j < n; j += nb) {
      const cols = Math.min(nb, n - j);
      const cBlock = block(c, i, j);
      withWasmScratch(() => {
        const cAt = wasmScratchReserve(dtype, rows * cols);
        if (accumulate) copyIn(rows, cols, cBlock, dtype, cAt);
        for (let p = 0; p < k; p += kb) {
          const depth = Math.min(kb, k - p);
          withWasmScratch(() => {
            const aIn = stage(rows, depth, block(a, i, p), dtype);
            const bIn = stage(depth, cols, block(b, p, j), dtype);
            gemmInMemory(
              dtype,
              rows,
              cols,
              depth,
              aIn.offset,
              aIn.rowStride,
              aIn.colStride,
              bIn.offset,
              bIn.rowStride,
              bIn.colStride,
              cAt,
              cols,
              1,
              accumulate || p > 0,
            );
          });
        }
        copyOut(rows, cols, dtype, cAt, cBlock);
      });
    }
  }
}

/** The transpose of a strided matrix: the same storage with rows and columns swapped. */
function transpose(x: StridedMatrix): StridedMatrix {
  return { data: x.data, offset: x.offset, rowStride: x.colStride, colStride: x.rowStride };
}

/** The view of `x` whose element (0, 0) is `x`'s element (row, col). */
function block(x: StridedMatrix, row: number, col: number): StridedMatrix {
  const offset = x.offset + row * x.rowStride + col * x.colStride;
  return { data: x.data, offset, rowStride: x.rowStride, colStride: x.colStride };
}

/**
 * Block sizes over M, N and K such that one block of A, B and C fits in SCRATCH_ELEMENTS, found
 * by halving the largest of them, K first on ties (C then stays in WASM memory across K blocks).
 * K blocks stay multiples of the kernels' block depth, so that splitting K changes no bits.
 */
function blockSizes(m: number, n: number, k: number): [number, number, number] {
  const depth = wasmGemmBlockDepth();
  let [mb, nb, kb] = [m, n, k];
  while (mb * kb + kb * nb + mb * nb > SCRATCH_ELEMENTS) {
    if (kb > depth && kb >= mb && kb >= nb) kb = Math.ceil(kb / 2 / depth) * depth;
    else if (mb >= nb) mb = Math.ceil(mb / 2);
    else nb = Math.ceil(nb / 2);
  }
  return [mb, nb, kb];
}

/** Where a staged operand lies in WASM memory, in elements. */
interface Staged {
  offset: number;
  rowStride: number;
  colStride: number;
}

/**
 * Copies the rows×cols view `x` into WASM scratch memory and returns where it lies there. A view
 * that covers most of its span of storage (contiguous, transposed, reversed, broadcast) is
 * copied span and all, strides kept; a sparser one is gathered into a row-major block.
 */
function stage(rows: number, cols: number, x: StridedMatrix, dtype: WasmGemmDType): Staged {
  const down = (rows - 1) * x.rowStride;
  const across = (cols - 1) * x.colStride;
  const first = x.offset + Math.min(down, 0) + Math.min(across, 0);
  const span = Math.abs(down) + Math.abs(across) + 1;
  if (span <= 2 * rows * cols + 64) {
    const at = wasmScratchReserve(dtype, span);
    copyRun(x.data, first, wasmMemoryView(dtype), at, span);
    return { offset: at + x.offset - first, rowStride: x.rowStride, colStride: x.colStride };
  }
  const at = wasmScratchReserve(dtype, rows * cols);
  copyIn(rows, cols, x, dtype, at);
  return { offset: at, rowStride: cols, colStride: 1 };
}

/** Copies the rows×cols view `x` into the row-major block at element `at` of WASM memory. */
function copyIn(
  rows: number,
  cols: number,
  x: StridedMatrix,
  dtype: WasmGemmDType,
  at: number,
): void {
  const heap = wasmMemoryView(dtype);
  const { data, rowStride, colStride } = x;
  if (colStride === 1 && rowStride === cols) {
    copyRun(data, x.offset, heap, at, rows * cols);
    return;
  }
  for (let i = 0, row = x.offset; i < rows; i++, row += rowStride, at += cols) {
    if (colStride === 1) {
      copyRun(data, row, heap, at, cols);
    } else {
      for (let j = 0, from = row; j < cols; j++, from += colStride) heap[at + j] = data[from];
    }
  }
}

/** Copies `count` consecutive elements; short runs element by element, which is faster there. */
function copyRun(
  from: FloatArray,
  fromAt: number,
  to: FloatArray,
  toAt: number,
  count: number,
): void {
  if (count > 32) {
    copyElements(to, toAt, from, fromAt, fromAt + count);
  } else {
    for (let i = 0; i < count; i++) to[toAt + i] = from[fromAt + i];
  }
}

/** Copies the row-major rows×cols block at element `at` of WASM memory into the view `x`. */
function copyOut(
  rows: number,
  cols: number,
  dtype: WasmGemmDType,
  at: number,
  x: StridedMatrix,
): void {
  const heap = wasmMemoryView(dtype);
  const { data, rowStride, colStride } = x;
  if (colStride === 1 && rowStride === cols) {
    copyRun(heap, at, data, x.offset, rows * cols);
    return;
  }
  for (let i = 0, row = x.offset; i < rows; i++, row += rowStride, at += cols) {
    if (colStride === 1) {
      copyRun(heap, at, data, row, cols);
    } else {
      for (let j = 0, to = row; j < cols; j++, to += colStride) data[to] = heap[at + j];
    }
  }
}

/** Checks the arguments of {@linkcode gemm} and returns `options.accumulate`. */
function checkArguments(
  m: number,
  n: number,
  k: number,
  a: StridedMatrix,
  b: StridedMatrix,
  c: StridedMatrix,
  options: GemmOptions,
): boolean {
  checkInteger(m, "m", 0);
  checkInteger(n, "n", 0);
  checkInteger(k, "k", 0);
  const type = checkMatrix(a, "a");
  if (checkMatrix(b, "b") !== type || checkMatrix(c, "c") !== type) {
    throw new TypeError(
      `Cannot run gemm: a, b and c must have one element type, got ${a.data.constructor.name}, ${b.data.constructor.name} and ${c.data.constructor.name}`,
    );
  }
  const accumulate = options?.accumulate ?? false;
  if (typeof accumulate !== "boolean") {
    throw new TypeError(
      `Cannot run gemm: options.accumulate=${describe(accumulate)} is not a boolean`,
    );
  }
  if (m > 0 && n > 0) {
    if (k > 0) {
      checkExtent(a, "a", m, k);
      checkExtent(b, "b", k, n);
    }
    checkExtent(c, "c", m, n);
  }
  return accumulate;
}

/** Throws unless `value` is an integer, and at least `min` when given. */
function checkInteger(value: unknown, name: string, min?: number): void {
  const allowed = min === undefined ? "an integer" : "a non-negative integer";
  if (typeof value !== "number") {
    throw new TypeError(`Cannot run gemm: ${name}=${describe(value)} is not ${allowed}`);
  }
  if (!Number.isInteger(value) || (min !== undefined && value < min)) {
    throw new RangeError(`Cannot run gemm: ${name}=${value} is not ${allowed}`);
  }
}

/** Throws unless `x` is a strided matrix over a float typed array; returns that array's type. */
function checkMatrix(x: StridedMatrix, name: string): typeof Float32Array | typeof Float64Array {
  if (x === null || typeof x !== "object") {
    throw new TypeError(
      `Cannot run gemm: expected ${name} to be a strided matrix, got ${describe(x)}`,
    );
  }
  if (!(x.data instanceof Float32Array || x.data instanceof Float64Array)) {
    throw new TypeError(
      `Cannot run gemm: ${name}.data=${describe(x.data)} is not a Float32Array or a Float64Array`,
    );
  }
  checkInteger(x.offset, `${name}.offset`);
  checkInteger(x.rowStride, `${name}.rowStride`);
  checkInteger(x.colStride, `${name}.colStride`);
  return x.data instanceof Float32Array ? Float32Array : Float64Array;
}

/** Throws unless every element of the `rows×cols` view `x` (both at least 1) lies in its data. */
function checkExtent(x: StridedMatrix, name: string, rows: number, cols: number): void {
  const down = (rows - 1) * x.rowStride;
  const across = (cols - 1) * x.colStride;
  const first = x.offset + Math.min(down, 0) + Math.min(across, 0);
  const last = x.offset + Math.max(down, 0) + Math.max(across, 0);
  if (first < 0 || last >= x.data.length) {
    throw new RangeError(
      `Cannot run gemm: ${name} as a ${rows}×${cols} view spans indices ${first}..${last}, outside its data of length ${x.data.length}`,
    );
  }
}

/** Sets the m×n view `c` to zero. */
function fillZero(m: number, n: number, c: StridedMatrix): void {
  const { data, rowStride, colStride } = c;
  for (let i = 0, row = c.offset; i < m; i++, row += rowStride) {
    for (let j = 0, at = row; j < n; j++, at += colStride) data[at] = 0;
  }
}
