// @ts-nocheck: AssemblyScript, not TypeScript; runtime/wasm/build.ts compiles it to WebAssembly.
// deno-fmt-ignore-file: deno fmt would drop the `@inline` decorators, which TypeScript has no
// place for on functions.
//
// Cache-blocked GEMM for float32 (f32x4) and float64 (f64x2): C = A·B or C += A·B over strided
// matrices in this module's memory. The loops are BLIS's: for each NC-wide block of columns of B
// and each KC-deep block of the sum, a KC×NC panel of B is packed into NR-wide slivers (L3, one
// sliver in L1); for each MC-high block of rows of A, an MC×KC block of A is packed into MR-high
// slivers (L2); then a register-blocked micro-kernel multiplies one A sliver by one B sliver into
// an MR×NR tile of accumulators (2·MR v128 registers) and adds the tile to C.
//
// Every element of C gets the same sequence of operations whatever m, n and the blocking over M
// and N are: within each KC block of the sum, products are added one p after the other into an
// accumulator that starts at zero, in the order of p; then C = acc (first block, no accumulate)
// or C = C + acc. So splitting a product over M or N gives results identical bit for bit.
//
// The relaxed build (compiled with --enable relaxed-simd) multiplies and adds with relaxed_madd,
// a fused multiply-add where the CPU has one; the baseline build uses mul then add.
//
// Addresses are byte addresses into this module's memory; strides count elements and may be
// zero or negative (address arithmetic wraps modulo 2^32, so a negative step is an add).

// Micro-tiles: MR×8 for float32 (two f32x4 per row), MR×4 for float64 (two f64x2 per row). V8
// gives x64 code 15 allocatable vector registers: 2·MR accumulators, two B vectors and one
// broadcast A value, plus one for each product in the baseline build. Measured on Zen 5
// (GFLOP/s at 512³ and 1024³, f32/f64): relaxed MR=6 50/25; baseline MR=5 40/20, MR=4 37/19,
// MR=6 26/14 (it spills). With relaxed_madd alone in L1, MR=4 and 5 reached 40 and 47 for f32;
// 8×8, 4×12 and 3×16 tiles and unrolling K by two were slower still.
// A last sliver of at most four rows (64 = 10·6 + 4 output channels) runs on a 4×8 tile: at
// 80 % of the 6×8 tile's rate it costs 5 rows of time, not 6 (case A on one core, alternating
// builds: 39.9–42.4 → 39.0–39.8 ms; conv3d case E with 32 = 5·6 + 2 rows: 45.9–48.4 →
// 43.9–44.7 ms).
const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 5;
const NR_F32: i32 = 8;
const NR_F64: i32 = 4;
// Depth of one block of the sum. Fixed: it decides where partial sums are added to C, so it must
// not depend on m or n.
const KC: i32 = 256;
// Rows of A per packed block (a multiple of MR in both builds: 240 KiB, in L2 beside the B
// sliver in L1) and columns of B per packed panel (a multiple of NR: 2 MiB, in L3), per element
// type. Within ±3% of each other: KC 128 to 512, MC 96 to 480, NC 512 to 4096.
const MC_F32: i32 = 240;
const NC_F32: i32 = 2048;
const MC_F64: i32 = 120;
const NC_F64: i32 = 1024;
// Alignment of the packed panels in the workspace.
const ALIGN: i32 = 64;

// One MR×NR tile of accumulators, stored here when it is written to C element by element.
const TILE: usize = memory.data(MR * NR_F32 * 4, 16);

/** The first byte after this module's static data: memory from here on is free for callers. */
export function heapBase(): usize {
  return __heap_base;
}

/** Depth of one block of the sum; callers that split K must split it at multiples of this. */
export function blockDepth(): i32 {
  return KC;
}

/** Bytes of workspace that gemmF32 (`double` false) or gemmF64 needs for an m×n×k product. */
export function workspaceBytes(double: bool, m: i32, n: i32, k: i32): i32 {
  const es: i32 = double ? 8 : 4;
  const nr = double ? NR_F64 : NR_F32;
  const mc = min(double ? MC_F64 : MC_F32, m);
  const nc = min(double ? NC_F64 : NC_F32, n);
  const kc = min(KC, k);
  return roundUp(roundUp(mc, MR) * kc * es, ALIGN) + roundUp(nc, nr) * kc * es;
}

/** C = A·B (or C += A·B with `accumulate`) in float32; `work` holds workspaceBytes(false, ...). */
export function gemmF32(
  m: i32,
  n: i32,
  k: i32,
  a: usize,
  aRowStride: i32,
  aColStride: i32,
  b: usize,
  bRowStride: i32,
  bColStride: i32,
  c: usize,
  cRowStride: i32,
  cColStride: i32,
  accumulate: bool,
  work: usize,
): void {
  gemm<f32>(
    m,
    n,
    k,
    a,
    aRowStride,
    aColStride,
    b,
    bRowStride,
    bColStride,
    0,
    0,
    c,
    cRowStride,
    cColStride,
    accumulate,
    work,
  );
}

/** C = A·B (or C += A·B with `accumulate`) in float64; `work` holds workspaceBytes(true, ...). */
export function gemmF64(
  m: i32,
  n: i32,
  k: i32,
  a: usize,
  aRowStride: i32,
  aColStride: i32,
  b: usize,
  bRowStride: i32,
  bColStride: i32,
  c: usize,
  cRowStride: i32,
  cColStride: i32,
  accumulate: bool,
  work: usize,
): void {
  gemm<f64>(
    m,
    n,
    k,
    a,
    aRowStride,
    aColStride,
    b,
    bRowStride,
    bColStride,
    0,
    0,
    c,
    cRowStride,
    cColStride,
    accumulate,
    work,
  );
}

/**
 * C = A·B (or C += A·B) in float32 where B is indirect: B[p, j] is the f32 at
 * `x + 4·(rowOffsets[p] + colOffsets[j])`, two i32 arrays of k and n element offsets. An
 * unfolded input read straight from its (padded) image, without building it.
 */
export function gemmIndirectF32(
  m: i32,
  n: i32,
  k: i32,
  a: usize,
  aRowStride: i32,
  aColStride: i32,
  x: usize,
  rowOffsets: usize,
  colOffsets: usize,
  c: usize,
  cRowStride: i32,
  cColStride: i32,
  accumulate: bool,
  work: usize,
): void {
  gemm<f32>(
    m,
    n,
    k,
    a,
    aRowStride,
    aColStride,
    x,
    0,
    0,
    rowOffsets,
    colOffsets,
    c,
    cRowStride,
    cColStride,
    accumulate,
    work,
  );
}

/** gemmIndirectF32 in float64: B[p, j] is the f64 at `x + 8·(rowOffsets[p] + colOffsets[j])`. */
export function gemmIndirectF64(
  m: i32,
  n: i32,
  k: i32,
  a: usize,
  aRowStride: i32,
  aColStride: i32,
  x: usize,
  rowOffsets: usize,
  colOffsets: usize,
  c: usize,
  cRowStride: i32,
  cColStride: i32,
  accumulate: bool,
  work: usize,
): void {
  gemm<f64>(
    m,
    n,
    k,
    a,
    aRowStride,
    aColStride,
    x,
    0,
    0,
    rowOffsets,
    colOffsets,
    c,
    cRowStride,
    cColStride,
    accumulate,
    work,
  );
}

/**
 * c = a·B (or c += a·B) for one row `a` of k float32 values and an indirect B as in
 * gemmIndirectF32: a depthwise convolution's product, which a GEMM would pad to MR rows.
 * Sums run in gemm's order (blocks of KC, each from zero), so results match it bit for bit.
 * With `increasing` (the caller promises strictly increasing column offsets), a run of
 * consecutive columns is recognised by its first and last offsets alone, and a 3×3 stencil
 * over whole lines (a depthwise 3×3 convolution with stride 1) runs three output lines at a
 * time with its weights in registers (stencilLines).
 */
export function rowIndirectF32(
  k: i32,
  n: i32,
  a: usize,
  x: usize,
  rowOffsets: usize,
  colOffsets: usize,
  c: usize,
  accumulate: bool,
  increasing: bool,
): void {
  rowIndirect<f32>(k, n, a, x, rowOffsets, colOffsets, c, accumulate, increasing);
}

/** rowIndirectF32 in float64. */
export function rowIndirectF64(
  k: i32,
  n: i32,
  a: usize,
  x: usize,
  rowOffsets: usize,
  colOffsets: usize,
  c: usize,
  accumulate: bool,
  increasing: bool,
): void {
  rowIndirect<f64>(k, n, a, x, rowOffsets, colOffsets, c, accumulate, increasing);
}

function rowIndirect<T>(
  k: i32,
  n: i32,
  a: usize,
  x: usize,
  rowOffsets: usize,
  colOffsets: usize,
  c: usize,
  accumulate: bool,
  increasing: bool,
): void {
  if (emptyProduct<T>(1, n, k, c, n, 1, accumulate)) return;
  const width = increasing ? stencilWidth<T>(k, n, rowOffsets, colOffsets) : 0;
  if (width > 0) {
    stencilLines<T>(width, n / width, a, x, rowOffsets, colOffsets, c, !accumulate);
    return;
  }
  const across = stridedStencilWidth<T>(k, n, rowOffsets, colOffsets);
  if (across > 0) {
    stridedStencilLines<T>(across, n / across, a, x, rowOffsets, colOffsets, c, !accumulate);
    return;
  }
  for (let pc = 0; pc < k; pc += KC) {
    const kc = min(KC, k - pc);
    const rows = rowOffsets + <usize> (pc * 4);
    rowColumns<T>(0, n, kc, a + bytes<T>(pc), x, rows, colOffsets, c, pc == 0 && !accumulate, increasing);
  }
}

/** Columns `from` to `to` of rowIndirect for one KC block of the sum (`kc` weights at `weights`,
 * their row offsets at `rows`), into `c` (C = product when `overwrite`, else C += product). */
function rowColumns<T>(
  from: i32,
  to: i32,
  kc: i32,
  weights: usize,
  x: usize,
  rows: usize,
  colOffsets: usize,
  c: usize,
  overwrite: bool,
  increasing: bool,
): void {
  const lanes = 16 / <i32> sizeof<T>();
  let j = from;
  while (j < to) {
    const colAt = colOffsets + <usize> (j * 4);
    const first = load<i32>(colAt);
    const into = c + bytes<T>(j);
    // Four vectors of consecutive columns (four independent sums in flight), else two.
    if (j + 4 * lanes <= to && runOf(colAt, first, 4 * lanes, increasing)) {
      let acc0 = v128.splat<T>(0);
      let acc1 = v128.splat<T>(0);
      let acc2 = v128.splat<T>(0);
      let acc3 = v128.splat<T>(0);
      const at0 = x + bytes<T>(first);
      for (let p = 0; p < kc; p++) {
        const at = at0 + bytes<T>(load<i32>(rows + <usize> (p * 4)));
        const w = v128.splat<T>(load<T>(weights + bytes<T>(p)));
        acc0 = madd<T>(w, v128.load(at), acc0);
        acc1 = madd<T>(w, v128.load(at, 16), acc1);
        acc2 = madd<T>(w, v128.load(at, 32), acc2);
        acc3 = madd<T>(w, v128.load(at, 48), acc3);
      }
      storeRow<T>(into, acc0, acc1, overwrite);
      storeRow<T>(into + 32, acc2, acc3, overwrite);
      j += 4 * lanes;
      continue;
    }
    if (j + 2 * lanes <= to && runOf(colAt, first, 2 * lanes, increasing)) {
      let acc0 = v128.splat<T>(0);
      let acc1 = v128.splat<T>(0);
      const at0 = x + bytes<T>(first);
      for (let p = 0; p < kc; p++) {
        const at = at0 + bytes<T>(load<i32>(rows + <usize> (p * 4)));
        const w = v128.splat<T>(load<T>(weights + bytes<T>(p)));
        acc0 = madd<T>(w, v128.load(at), acc0);
        acc1 = madd<T>(w, v128.load(at, 16), acc1);
      }
      storeRow<T>(into, acc0, acc1, overwrite);
      j += 2 * lanes;
      continue;
    }
    if (j + 2 * lanes <= to && runOf(colAt, first, 2 * lanes, increasing, 2)) {
      // Columns two apart (a stride-2 depthwise convolution's outputs): the even lanes of
      // four vectors, two sums in flight.
      let acc0 = v128.splat<T>(0);
      let acc1 = v128.splat<T>(0);
      const at0 = x + bytes<T>(first);
      for (let p = 0; p < kc; p++) {
        const at = at0 + bytes<T>(load<i32>(rows + <usize> (p * 4)));
        const w = v128.splat<T>(load<T>(weights + bytes<T>(p)));
        acc0 = madd<T>(w, evenLanes<T>(at), acc0);
        acc1 = madd<T>(w, evenLanes<T>(at + 32), acc1);
      }
      storeRow<T>(into, acc0, acc1, overwrite);
      j += 2 * lanes;
      continue;
    }
    // One column: the same products and sums as a lane of the vector path.
    let acc = v128.splat<T>(0);
    const at0 = x + bytes<T>(first);
    for (let p = 0; p < kc; p++) {
      const value = v128.splat<T>(load<T>(at0 + bytes<T>(load<i32>(rows + <usize> (p * 4)))));
      const w = v128.splat<T>(load<T>(weights + bytes<T>(p)));
      acc = madd<T>(w, value, acc);
    }
    const sum = v128.extract_lane<T>(acc, 0);
    store<T>(into, overwrite ? sum : load<T>(into) + sum);
    j++;
  }
}

/**
 * The width of rowIndirect's output lines when its product is a 3×3 stencil that
 * stencilLines can run, else 0: nine taps `row·R + column shift` (shifts 0, s1, s2; rows 0,
 * R, 2R) and columns in whole lines of at least two vectors of consecutive offsets, each line
 * R after the previous one (output lines one input line apart: stride and dilation 1 down
 * the lines: images side by side are lines too), at least three lines. Column offsets must
 * be known to increase.
 */
function stencilWidth<T>(k: i32, n: i32, rowOffsets: usize, colOffsets: usize): i32 {
  if (k != 9 || !tapGrid(rowOffsets)) return 0;
  const first = load<i32>(colOffsets);
  let width = 1;
  while (width < n && load<i32>(colOffsets + <usize> (width * 4)) == first + width) width++;
  if (width < 32 / <i32> sizeof<T>() || n < 3 * width || n % width != 0) return 0;
  for (let l = 1; l < n / width; l++) {
    const start = colOffsets + <usize> (l * width * 4);
    const line = load<i32>(start);
    if (load<i32>(start + <usize> ((width - 1) * 4)) != line + width - 1) return 0;
  }
  return width;
}

/** Whether the nine tap offsets at `rowOffsets` form a 3×3 grid: row r's three at
 * `o₀ + r·R + (0, s₁, s₂)`, with R, s₁ and s₂ those of the first row and the second. */
function tapGrid(rowOffsets: usize): bool {
  const o0 = load<i32>(rowOffsets);
  const s1 = load<i32>(rowOffsets, 4) - o0;
  const s2 = load<i32>(rowOffsets, 8) - o0;
  const down = load<i32>(rowOffsets, 12) - o0;
  for (let r = 0; r < 3; r++) {
    const at = rowOffsets + <usize> (r * 12);
    const row = o0 + r * down;
    if (load<i32>(at) != row || load<i32>(at, 4) != row + s1 || load<i32>(at, 8) != row + s2) {
      return false;
    }
  }
  return true;
}

/** Whether output lines l, l + 1 and l + 2 (of `width` columns) start `down` apart, or
 * `-down` apart (taps mirrored, as in an input gradient): one input line apart, so that
 * stencilLines can run them together. */
function lineTriple(colOffsets: usize, l: i32, width: i32, down: i32): bool {
  const start = load<i32>(colOffsets + <usize> (l * width * 4));
  const next = load<i32>(colOffsets + <usize> ((l + 1) * width * 4)) - start;
  return (next == down || next == -down) &&
    load<i32>(colOffsets + <usize> ((l + 2) * width * 4)) == start + 2 * next;
}

/**
 * rowIndirect for a 3×3 stencil (see stencilWidth), three output lines at a time when they
 * are three consecutive input lines apart (in either direction), one vector of each: each of
 * the five input lines they read is loaded once for all three, the nine weights stay in
 * registers (13 of V8's 15 vector registers; two vectors a line spill). Each output adds its taps in their
 * order from zero, as rowIndirect does (nine taps are one block of the sum), so the bits
 * are the same. Tails of lines and lines left over (at the end of an image) go to
 * rowColumns.
 */
function stencilLines<T>(
  width: i32,
  lines: i32,
  a: usize,
  x: usize,
  rowOffsets: usize,
  colOffsets: usize,
  c: usize,
  overwrite: bool,
): void {
  const group = 16 / <i32> sizeof<T>();
  const whole = width - width % group;
  const o0 = load<i32>(rowOffsets);
  const s1 = bytes<T>(load<i32>(rowOffsets, 4) - o0);
  const s2 = bytes<T>(load<i32>(rowOffsets, 8) - o0);
  const down = load<i32>(rowOffsets, 12) - o0;
  const step = bytes<T>(down);
  const w0 = v128.splat<T>(load<T>(a));
  const w1 = v128.splat<T>(load<T>(a + bytes<T>(1)));
  const w2 = v128.splat<T>(load<T>(a + bytes<T>(2)));
  const w3 = v128.splat<T>(load<T>(a + bytes<T>(3)));
  const w4 = v128.splat<T>(load<T>(a + bytes<T>(4)));
  const w5 = v128.splat<T>(load<T>(a + bytes<T>(5)));
  const w6 = v128.splat<T>(load<T>(a + bytes<T>(6)));
  const w7 = v128.splat<T>(load<T>(a + bytes<T>(7)));
  const w8 = v128.splat<T>(load<T>(a + bytes<T>(8)));
  let l = 0;
  while (l < lines) {
    if (l + 2 >= lines || !lineTriple(colOffsets, l, width, down)) {
      // A line whose next two are not the next input lines (the last of an image).
      rowColumns<T>(l * width, (l + 1) * width, 9, a, x, rowOffsets, colOffsets, c, overwrite, true);
      l++;
      continue;
    }
    // Input lines in the order of the taps' rows: with mirrored taps (rows `down` < 0 apart)
    // the third output line's first tap row comes first, and the output lines run backwards.
    const start = load<i32>(colOffsets + <usize> (l * width * 4));
    const mirrored = load<i32>(colOffsets + <usize> ((l + 1) * width * 4)) - start != down;
    const first = mirrored ? l + 2 : l;
    const lineAt = x + bytes<T>(load<i32>(colOffsets + <usize> (first * width * 4)) + o0);
    const out = c + bytes<T>(first * width);
    const across = mirrored ? -width : width;
    for (let i = 0; i < whole; i += group) {
      let at = lineAt + bytes<T>(i);
      let v: v128;
      v = v128.load(at);
      let c0 = madd<T>(w0, v, v128.splat<T>(0));
      v = v128.load(at + s1);
      c0 = madd<T>(w1, v, c0);
      v = v128.load(at + s2);
      c0 = madd<T>(w2, v, c0);
      at += step;
      v = v128.load(at);
      c0 = madd<T>(w3, v, c0);
      let c1 = madd<T>(w0, v, v128.splat<T>(0));
      v = v128.load(at + s1);
      c0 = madd<T>(w4, v, c0);
      c1 = madd<T>(w1, v, c1);
      v = v128.load(at + s2);
      c0 = madd<T>(w5, v, c0);
      c1 = madd<T>(w2, v, c1);
      at += step;
      v = v128.load(at);
      c0 = madd<T>(w6, v, c0);
      c1 = madd<T>(w3, v, c1);
      let c2 = madd<T>(w0, v, v128.splat<T>(0));
      v = v128.load(at + s1);
      c0 = madd<T>(w7, v, c0);
      c1 = madd<T>(w4, v, c1);
      c2 = madd<T>(w1, v, c2);
      v = v128.load(at + s2);
      c0 = madd<T>(w8, v, c0);
      c1 = madd<T>(w5, v, c1);
      c2 = madd<T>(w2, v, c2);
      storeVector<T>(out + bytes<T>(i), c0, overwrite);
      at += step;
      v = v128.load(at);
      c1 = madd<T>(w6, v, c1);
      c2 = madd<T>(w3, v, c2);
      v = v128.load(at + s1);
      c1 = madd<T>(w7, v, c1);
      c2 = madd<T>(w4, v, c2);
      v = v128.load(at + s2);
      c1 = madd<T>(w8, v, c1);
      c2 = madd<T>(w5, v, c2);
      storeVector<T>(out + bytes<T>(across + i), c1, overwrite);
      at += step;
      v = v128.load(at);
      c2 = madd<T>(w6, v, c2);
      v = v128.load(at + s1);
      c2 = madd<T>(w7, v, c2);
      v = v128.load(at + s2);
      c2 = madd<T>(w8, v, c2);
      storeVector<T>(out + bytes<T>(2 * across + i), c2, overwrite);
    }
    for (let j = 0; j < 3 && whole < width; j++) {
      const line = (l + j) * width;
      rowColumns<T>(line + whole, line + width, 9, a, x, rowOffsets, colOffsets, c, overwrite, true);
    }
    l += 3;
  }
}

/**
 * The width of rowIndirect's output lines when its product is a 3×3 stencil with stride 2
 * along the lines that stridedStencilLines can run, else 0: nine taps `row·R + shift` (shifts
 * 0, 1, 2; rows 0, R, 2R for any R) and columns in lines of the same width, at least one
 * vector, each line's offsets two apart (lines anywhere: any stride down the lines). Every
 * column offset is checked.
 */
function stridedStencilWidth<T>(k: i32, n: i32, rowOffsets: usize, colOffsets: usize): i32 {
  if (k != 9 || !tapGrid(rowOffsets)) return 0;
  const o0 = load<i32>(rowOffsets);
  if (load<i32>(rowOffsets, 4) != o0 + 1 || load<i32>(rowOffsets, 8) != o0 + 2) return 0;
  const first = load<i32>(colOffsets);
  let width = 1;
  while (width < n && load<i32>(colOffsets + <usize> (width * 4)) == first + 2 * width) width++;
  if (width < 32 / <i32> sizeof<T>() || n % width != 0) return 0;
  for (let l = 1; l < n / width; l++) {
    const line = colOffsets + <usize> (l * width * 4);
    const start = load<i32>(line);
    for (let i = 1; i < width; i++) {
      if (load<i32>(line + <usize> (i * 4)) != start + 2 * i) return 0;
    }
  }
  return width;
}

/**
 * rowIndirect for a 3×3 stencil with stride 2 along the lines (see stridedStencilWidth), a
 * stride-2 depthwise convolution: each output line two vectors at a time, each tap line read
 * once (five loads, the last of one value) and split into its even lanes, odd lanes and even
 * lanes one further, the nine weights in registers. Each output adds its taps in their order
 * from zero, as rowIndirect does, so the bits are the same; tails of lines go to rowColumns.
 * Reads no further than the last tap of a line.
 */
function stridedStencilLines<T>(
  width: i32,
  lines: i32,
  a: usize,
  x: usize,
  rowOffsets: usize,
  colOffsets: usize,
  c: usize,
  overwrite: bool,
): void {
  const lanes = 16 / <i32> sizeof<T>();
  const whole = width - width % (2 * lanes);
  const o0 = load<i32>(rowOffsets);
  const step = bytes<T>(load<i32>(rowOffsets, 12) - o0);
  const w0 = v128.splat<T>(load<T>(a));
  const w1 = v128.splat<T>(load<T>(a + bytes<T>(1)));
  const w2 = v128.splat<T>(load<T>(a + bytes<T>(2)));
  const w3 = v128.splat<T>(load<T>(a + bytes<T>(3)));
  const w4 = v128.splat<T>(load<T>(a + bytes<T>(4)));
  const w5 = v128.splat<T>(load<T>(a + bytes<T>(5)));
  const w6 = v128.splat<T>(load<T>(a + bytes<T>(6)));
  const w7 = v128.splat<T>(load<T>(a + bytes<T>(7)));
  const w8 = v128.splat<T>(load<T>(a + bytes<T>(8)));
  for (let l = 0; l < lines; l++) {
    const lineAt = x + bytes<T>(load<i32>(colOffsets + <usize> (l * width * 4)) + o0);
    const out = c + bytes<T>(l * width);
    for (let i = 0; i < whole; i += 2 * lanes) {
      // Two vectors of outputs (two chains in flight) from five loads a tap line.
      let at = lineAt + bytes<T>(2 * i);
      let acc = v128.splat<T>(0);
      let bcc = v128.splat<T>(0);
      for (let r = 0; r < 3; r++) {
        const wa = r == 0 ? w0 : r == 1 ? w3 : w6;
        const wb = r == 0 ? w1 : r == 1 ? w4 : w7;
        const wc = r == 0 ? w2 : r == 1 ? w5 : w8;
        const v0 = v128.load(at);
        const v1 = v128.load(at, 16);
        const v2 = v128.load(at, 32);
        const v3 = v128.load(at, 48);
        const v4 = sizeof<T>() == 4 ? v128.load32_zero(at, 64) : v128.load64_zero(at, 64);
        const evenA = evenOf<T>(v0, v1);
        const evenB = evenOf<T>(v2, v3);
        acc = madd<T>(wa, evenA, acc);
        bcc = madd<T>(wa, evenB, bcc);
        acc = madd<T>(wb, oddOf<T>(v0, v1), acc);
        bcc = madd<T>(wb, oddOf<T>(v2, v3), bcc);
        acc = madd<T>(wc, nextLanes<T>(evenA, v2), acc);
        bcc = madd<T>(wc, nextLanes<T>(evenB, v4), bcc);
        at += step;
      }
      storeVector<T>(out + bytes<T>(i), acc, overwrite);
      storeVector<T>(out + bytes<T>(i + lanes), bcc, overwrite);
    }
    if (whole < width) {
      const line = l * width;
      rowColumns<T>(line + whole, line + width, 9, a, x, rowOffsets, colOffsets, c, overwrite, false);
    }
  }
}

/** Writes (or adds) one v128 of T at `at`. */
function storeVector<T>(at: usize, v: v128, overwrite: bool): void {
  v128.store(at, overwrite ? v : v128.add<T>(v128.load(at), v));
}

/** Up to four float32 rows of A, one column to a v128 (rows past m zero), for
 * rowsIndirectF32: a KC-deep block. */
const ROWS_A: usize = memory.data(KC * 16, 16);

/**
 * c = A·B (or c += A·B) for two to four float32 rows of A (`aRowStride` apart, columns
 * contiguous) and an indirect B as in gemmIndirectF32, straight from B without packing it:
 * a grouped convolution's product of a few channels, which a GEMM would pad to MR rows and
 * pack B for. Sums run in gemm's order (blocks of KC, each from zero), so results match it
 * bit for bit. `increasing` as for rowIndirectF32.
 */
export function rowsIndirectF32(
  m: i32,
  k: i32,
  n: i32,
  a: usize,
  aRowStride: i32,
  x: usize,
  rowOffsets: usize,
  colOffsets: usize,
  c: usize,
  cRowStride: i32,
  accumulate: bool,
  increasing: bool,
): void {
  if (emptyProduct<f32>(m, n, k, c, cRowStride, 1, accumulate)) return;
  const zero = f32x4.splat(0);
  for (let pc = 0; pc < k; pc += KC) {
    const kc = min(KC, k - pc);
    const overwrite = pc == 0 && !accumulate;
    const rows = rowOffsets + <usize> (pc * 4);
    for (let p = 0; p < kc; p++) {
      for (let i = 0; i < 4; i++) {
        const value = i < m ? load<f32>(a + bytes<f32>(i * aRowStride + pc + p)) : <f32> 0;
        store<f32>(ROWS_A + <usize> ((p * 4 + i) * 4), value);
      }
    }
    let j = 0;
    while (j < n) {
      const colAt = colOffsets + <usize> (j * 4);
      const first = load<i32>(colAt);
      const from = x + bytes<f32>(first);
      if (j + 8 <= n && runOf(colAt, first, 8, increasing)) {
        // Eight consecutive columns of the four rows: eight sums in flight.
        let r0 = zero;
        let r1 = zero;
        let r2 = zero;
        let r3 = zero;
        let s0 = zero;
        let s1 = zero;
        let s2 = zero;
        let s3 = zero;
        for (let p = 0; p < kc; p++) {
          const at = from + bytes<f32>(load<i32>(rows + <usize> (p * 4)));
          const b0 = v128.load(at);
          const b1 = v128.load(at, 16);
          const w = v128.load(ROWS_A + <usize> (p * 16));
          const w0 = i32x4.shuffle(w, w, 0, 0, 0, 0);
          const w1 = i32x4.shuffle(w, w, 1, 1, 1, 1);
          const w2 = i32x4.shuffle(w, w, 2, 2, 2, 2);
          const w3 = i32x4.shuffle(w, w, 3, 3, 3, 3);
          r0 = madd<f32>(w0, b0, r0);
          s0 = madd<f32>(w0, b1, s0);
          r1 = madd<f32>(w1, b0, r1);
          s1 = madd<f32>(w1, b1, s1);
          r2 = madd<f32>(w2, b0, r2);
          s2 = madd<f32>(w2, b1, s2);
          r3 = madd<f32>(w3, b0, r3);
          s3 = madd<f32>(w3, b1, s3);
        }
        const to = c + bytes<f32>(j);
        storeRow<f32>(to, r0, s0, overwrite);
        if (m > 1) storeRow<f32>(to + bytes<f32>(cRowStride), r1, s1, overwrite);
        if (m > 2) storeRow<f32>(to + bytes<f32>(2 * cRowStride), r2, s2, overwrite);
        if (m > 3) storeRow<f32>(to + bytes<f32>(3 * cRowStride), r3, s3, overwrite);
        j += 8;
        continue;
      }
      // One column: the rows' sums side by side in one vector.
      let acc = zero;
      for (let p = 0; p < kc; p++) {
        const value = f32x4.splat(load<f32>(from + bytes<f32>(load<i32>(rows + <usize> (p * 4)))));
        acc = madd<f32>(v128.load(ROWS_A + <usize> (p * 16)), value, acc);
      }
      v128.store(TILE, acc);
      for (let i = 0; i < m; i++) {
        const to = c + bytes<f32>(i * cRowStride + j);
        const sum = load<f32>(TILE + <usize> (i * 4));
        store<f32>(to, overwrite ? sum : load<f32>(to) + sum);
      }
      j++;
    }
  }
}

/**
 * c = A·B (or c += A·B) for m rows of A (`aRowStride` apart, columns contiguous) and an
 * indirect B as in gemmIndirectF32 whose columns come in short runs of consecutive offsets
 * (a weight gradient's kernel taps: three runs of three for a 3×3 kernel), read straight from
 * B a run of up to one v128's lanes at a time, for each row of A on its own. For products
 * that gemm pads to MR rows and 8 columns (a depthwise weight gradient is 1×9 with a long
 * sum). Sums run in gemm's order (blocks of KC, each from zero, added to C one after the
 * other), so results match it bit for bit; two blocks run side by side for eight sums in
 * flight. Reads up to a v128 past the last run's first element.
 */
export function runsIndirectF32(
  m: i32,
  k: i32,
  n: i32,
  a: usize,
  aRowStride: i32,
  x: usize,
  rowOffsets: usize,
  colOffsets: usize,
  c: usize,
  cRowStride: i32,
  accumulate: bool,
): void {
  runsIndirect<f32>(m, k, n, a, aRowStride, x, rowOffsets, colOffsets, c, cRowStride, accumulate);
}

/** runsIndirectF32 in float64. */
export function runsIndirectF64(
  m: i32,
  k: i32,
  n: i32,
  a: usize,
  aRowStride: i32,
  x: usize,
  rowOffsets: usize,
  colOffsets: usize,
  c: usize,
  cRowStride: i32,
  accumulate: bool,
): void {
  runsIndirect<f64>(m, k, n, a, aRowStride, x, rowOffsets, colOffsets, c, cRowStride, accumulate);
}

// Up to four runs of columns of B handled at once by runsIndirect: their first columns,
// lengths and offsets (i32 each).
const RUNS: usize = memory.data(3 * 4 * 4, 16);

function runsIndirect<T>(
  m: i32,
  k: i32,
  n: i32,
  a: usize,
  aRowStride: i32,
  x: usize,
  rowOffsets: usize,
  colOffsets: usize,
  c: usize,
  cRowStride: i32,
  accumulate: bool,
): void {
  if (emptyProduct<T>(m, n, k, c, cRowStride, 1, accumulate)) return;
  const lanes = 16 / <i32> sizeof<T>();
  const zero = v128.splat<T>(0);
  for (let pc = 0; pc < k; pc += 2 * KC) {
    // Blocks pc and pc + KC (when there is one) side by side.
    const kc0 = min(KC, k - pc);
    const kc1 = max(0, min(KC, k - pc - KC));
    const overwrite = pc == 0 && !accumulate;
    const rows0 = rowOffsets + <usize> (pc * 4);
    const rows1 = rows0 + <usize> (KC * 4);
    let j = 0;
    while (j < n) {
      // The next four runs (or fewer, the rest repeating the first with length 0).
      let found = 0;
      let next = j;
      while (found < 4) {
        let length = 0;
        let offset = 0;
        if (next < n) {
          offset = load<i32>(colOffsets + <usize> (next * 4));
          length = 1;
          while (
            length < lanes && next + length < n &&
            load<i32>(colOffsets + <usize> ((next + length) * 4)) == offset + length
          ) length++;
        } else {
          offset = load<i32>(RUNS + 32);
        }
        store<i32>(RUNS + <usize> (found * 4), next);
        store<i32>(RUNS + <usize> (16 + found * 4), length);
        store<i32>(RUNS + <usize> (32 + found * 4), offset);
        next += length;
        found++;
      }
      const x0 = x + bytes<T>(load<i32>(RUNS + 32));
      const x1 = x + bytes<T>(load<i32>(RUNS + 36));
      const x2 = x + bytes<T>(load<i32>(RUNS + 40));
      const x3 = x + bytes<T>(load<i32>(RUNS + 44));
      for (let i = 0; i < m; i++) {
        const a0 = a + bytes<T>(i * aRowStride + pc);
        const a1 = a0 + bytes<T>(KC);
        let s0 = zero, s1 = zero, s2 = zero, s3 = zero;
        let t0 = zero, t1 = zero, t2 = zero, t3 = zero;
        let p = 0;
        for (; p < kc1; p++) {
          const r0 = bytes<T>(load<i32>(rows0 + <usize> (p * 4)));
          const r1 = bytes<T>(load<i32>(rows1 + <usize> (p * 4)));
          const w0 = v128.splat<T>(load<T>(a0 + bytes<T>(p)));
          const w1 = v128.splat<T>(load<T>(a1 + bytes<T>(p)));
          s0 = madd<T>(w0, v128.load(x0 + r0), s0);
          t0 = madd<T>(w1, v128.load(x0 + r1), t0);
          s1 = madd<T>(w0, v128.load(x1 + r0), s1);
          t1 = madd<T>(w1, v128.load(x1 + r1), t1);
          s2 = madd<T>(w0, v128.load(x2 + r0), s2);
          t2 = madd<T>(w1, v128.load(x2 + r1), t2);
          s3 = madd<T>(w0, v128.load(x3 + r0), s3);
          t3 = madd<T>(w1, v128.load(x3 + r1), t3);
        }
        for (; p < kc0; p++) {
          const r0 = bytes<T>(load<i32>(rows0 + <usize> (p * 4)));
          const w0 = v128.splat<T>(load<T>(a0 + bytes<T>(p)));
          s0 = madd<T>(w0, v128.load(x0 + r0), s0);
          s1 = madd<T>(w0, v128.load(x1 + r0), s1);
          s2 = madd<T>(w0, v128.load(x2 + r0), s2);
          s3 = madd<T>(w0, v128.load(x3 + r0), s3);
        }
        const to = c + bytes<T>(i * cRowStride);
        storeRuns<T>(to, s0, s1, s2, s3, overwrite);
        if (kc1 > 0) storeRuns<T>(to, t0, t1, t2, t3, false);
      }
      j = next;
    }
  }
}

/** Writes (or adds) the first lanes of v0…v3 to the runs of columns in RUNS of the row at
 * `to`. */
function storeRuns<T>(to: usize, v0: v128, v1: v128, v2: v128, v3: v128, overwrite: bool): void {
  v128.store(TILE, v0);
  v128.store(TILE, v1, 16);
  v128.store(TILE, v2, 32);
  v128.store(TILE, v3, 48);
  for (let q = 0; q < 4; q++) {
    const first = load<i32>(RUNS + <usize> (q * 4));
    const length = load<i32>(RUNS + <usize> (16 + q * 4));
    for (let l = 0; l < length; l++) {
      const at = to + bytes<T>(first + l);
      const value = load<T>(TILE + <usize> (q * 16) + bytes<T>(l));
      store<T>(at, overwrite ? value : load<T>(at) + value);
    }
  }
}

/** Whether the `count` i32 offsets at `at` are `first, first + step, …`; when they are
 * known to increase strictly, the last one tells for a step of 1. */
function runOf(at: usize, first: i32, count: i32, increasing: bool, step: i32 = 1): bool {
  if (increasing && step == 1) {
    return load<i32>(at + <usize> ((count - 1) * 4)) == first + count - 1;
  }
  for (let j = 1; j < count; j++) {
    if (load<i32>(at + <usize> (j * 4)) != first + j * step) return false;
  }
  return true;
}

/**
 * Copies `lines` runs of `length` values of `size` bytes, run l from `from + size·l·fromLine`
 * to `to + size·l·toLine` (strides in values, non-negative), each run's values `step` apart
 * in the source (1: consecutive) and consecutive in the destination: images (or strided views
 * of them) into and out of their zero-padded buffers.
 */
export function copyRuns(
  size: i32,
  lines: i32,
  length: i32,
  from: usize,
  fromLine: i32,
  to: usize,
  toLine: i32,
  step: i32,
): void {
  const bytes = <usize> length * <usize> size;
  const fromStep = <usize> fromLine * <usize> size;
  const toStep = <usize> toLine * <usize> size;
  const across = <usize> step * <usize> size;
  for (let l = 0; l < lines; l++) {
    if (step == 1) memory.copy(to, from, bytes);
    else {
      let t = 0;
      if (size == 4 && step == 2) {
        // Four values from every other lane of two vectors (the last read ends on a value).
        for (; t + 5 <= length; t += 4) {
          v128.store(to + <usize> (t * 4), evenLanes<f32>(from + <usize> (t * 8)));
        }
      }
      for (; t < length; t++) {
        const at = from + <usize> t * across;
        if (size == 4) store<u32>(to + <usize> (t * 4), load<u32>(at));
        else store<u64>(to + <usize> (t * 8), load<u64>(at));
      }
    }
    from += fromStep;
    to += toStep;
  }
}

/**
 * Interleaves `step` sources into `planes` planes of `lines` lines, planes `planeStep` values
 * of `size` bytes apart from `to`: line l of each plane from value `lineStarts[l]` of it (i32
 * at `lineStarts`) holds value t of source s's line at value `step·t + s`. Source s (three
 * i32 at `sources + 12s`: a byte offset, its line length, and 1, or 0 for zeros) holds its
 * lines one after the other, plane by plane. A strided input gradient's phases along the last
 * dimension fill their inputs this way, each written once.
 */
export function zipLines(
  size: i32,
  planes: i32,
  lines: i32,
  step: i32,
  sources: usize,
  lineStarts: usize,
  to: usize,
  planeStep: i32,
): void {
  const pair = size == 4 && step == 2 && load<i32>(sources, 8) != 0 && load<i32>(sources, 20) != 0;
  const shortest = pair ? min(load<i32>(sources, 4), load<i32>(sources, 16)) : 0;
  for (let p = 0; p < planes; p++) {
    const plane = to + <usize> p * <usize> planeStep * <usize> size;
    for (let l = 0; l < lines; l++) {
      const line = plane + <usize> load<i32>(lineStarts + <usize> (l * 4)) * <usize> size;
      const row = p * lines + l;
      let t = 0;
      if (pair) {
        // Two float32 sources, four values of each to two vectors.
        const a = <usize> load<u32>(sources) + <usize> (row * load<i32>(sources, 4) * 4);
        const b = <usize> load<u32>(sources, 12) + <usize> (row * load<i32>(sources, 16) * 4);
        for (; t + 4 <= shortest; t += 4) {
          const u = v128.load(a + <usize> (t * 4));
          const v = v128.load(b + <usize> (t * 4));
          const at = line + <usize> (t * 8);
          v128.store(at, i32x4.shuffle(u, v, 0, 4, 1, 5));
          v128.store(at, i32x4.shuffle(u, v, 2, 6, 3, 7), 16);
        }
      }
      for (let s = 0; s < step; s++) {
        const entry = sources + <usize> (s * 12);
        const length = load<i32>(entry, 4);
        const present = load<i32>(entry, 8) != 0;
        const start = <usize> load<u32>(entry) + <usize> (row * length) * <usize> size;
        for (let u = t; u < length; u++) {
          const at = line + <usize> (u * step + s) * <usize> size;
          if (size == 4) store<f32>(at, present ? load<f32>(start + <usize> (u * 4)) : 0);
          else store<f64>(at, present ? load<f64>(start + <usize> (u * 8)) : 0);
        }
      }
    }
  }
}

/**
 * Writes `rows` rows of an unfolded input, `outRow` values of `size` bytes apart, from `out`
 * on: row p holds, for each of the `count` runs (i32 pairs at `runs`: an offset and a
 * length), the `length` values from `x + size·(rowOffsets[p] + offset)` on. Runs of one
 * value (a stride-2 unfold's columns) are copied as single values.
 */
export function gatherRuns(
  size: i32,
  rows: i32,
  x: usize,
  rowOffsets: usize,
  count: i32,
  runs: usize,
  out: usize,
  outRow: i32,
): void {
  const rowStart = out;
  for (let p = 0; p < rows; p++) {
    out = rowStart + <usize> (p * outRow * size);
    const from = x + <usize> (load<i32>(rowOffsets + <usize> (p * 4)) * size);
    for (let r = 0; r < count; r++) {
      const at = from + <usize> (load<i32>(runs + <usize> (r * 8)) * size);
      const length = load<i32>(runs + <usize> (r * 8 + 4));
      if (length == 1) {
        if (size == 8) store<u64>(out, load<u64>(at));
        else store<u32>(out, load<u32>(at));
      } else {
        memory.copy(out, at, <usize> (length * size));
      }
      out += <usize> (length * size);
    }
  }
}

function roundUp(size: i32, step: i32): i32 {
  return (size + step - 1) / step * step;
}

/** Byte offset of `count` elements of T (any sign; wraps modulo 2^32). */
function bytes<T>(count: i32): usize {
  return <usize> count * sizeof<T>();
}

function gemm<T>(
  m: i32,
  n: i32,
  k: i32,
  a: usize,
  ars: i32,
  acs: i32,
  b: usize,
  brs: i32,
  bcs: i32,
  rowOffsets: usize,
  colOffsets: usize,
  c: usize,
  crs: i32,
  ccs: i32,
  accumulate: bool,
  work: usize,
): void {
  if (emptyProduct<T>(m, n, k, c, crs, ccs, accumulate)) return;
  const double = sizeof<T>() == 8;
  const nr = double ? NR_F64 : NR_F32;
  const mcMax = double ? MC_F64 : MC_F32;
  const ncMax = double ? NC_F64 : NC_F32;
  const packedA = work;
  const packedB = work +
    <usize> roundUp(roundUp(min(mcMax, m), MR) * min(KC, k) * sizeof<T>(), ALIGN);
  for (let jc = 0; jc < n; jc += ncMax) {
    const nc = min(ncMax, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      if (rowOffsets != 0) {
        const rows = rowOffsets + <usize> (pc * 4);
        packBIndirect<T>(b, rows, colOffsets + <usize> (jc * 4), kc, nc, packedB);
      } else {
        packB<T>(b + bytes<T>(pc * brs + jc * bcs), brs, bcs, kc, nc, packedB);
      }
      const overwrite = pc == 0 && !accumulate;
      for (let ic = 0; ic < m; ic += mcMax) {
        const mc = min(mcMax, m - ic);
        packA<T>(a + bytes<T>(ic * ars + pc * acs), ars, acs, mc, kc, packedA);
        const corner = c + bytes<T>(ic * crs + jc * ccs);
        for (let jr = 0; jr < nc; jr += nr) {
          const cols = min(nr, nc - jr);
          const sliverB = packedB + bytes<T>(jr * kc);
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = min(MR, mc - ir);
            const tile = corner + bytes<T>(ir * crs + jr * ccs);
            const sliverA = packedA + bytes<T>(ir * kc);
            kernel<T>(kc, sliverA, sliverB, tile, crs, ccs, rows, cols, overwrite);
          }
        }
      }
    }
  }
}

/** Whether the product has no sums to run (m, n or k zero); when k is zero, C = 0 unless
 * `accumulate`. */
function emptyProduct<T>(
  m: i32,
  n: i32,
  k: i32,
  c: usize,
  crs: i32,
  ccs: i32,
  accumulate: bool,
): bool {
  if (m <= 0 || n <= 0) return true;
  if (k > 0) return false;
  if (!accumulate) fillZero<T>(m, n, c, crs, ccs);
  return true;
}

function fillZero<T>(m: i32, n: i32, c: usize, crs: i32, ccs: i32): void {
  for (let i = 0; i < m; i++) {
    let at = c + bytes<T>(i * crs);
    for (let j = 0; j < n; j++) {
      store<T>(at, 0);
      at += bytes<T>(ccs);
    }
  }
}

/**
 * Packs the mc×kc block of A at `a` into MR-high slivers, each stored column by column (MR
 * values per column), the last sliver padded with zero rows.
 */
function packA<T>(a: usize, ars: i32, acs: i32, mc: i32, kc: i32, out: usize): void {
  const es = sizeof<T>();
  const down = bytes<T>(ars);
  const across = bytes<T>(acs);
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = min(MR, mc - ir);
    let column = a + bytes<T>(ir * ars);
    let p = 0;
    if (rows == MR && acs == 1) {
      p = kc - kc % (16 / <i32> es);
      packRowsA<T>(column, down, p, out);
      column += bytes<T>(p);
      out += bytes<T>(p * MR);
    } else if (rows == MR && ars == 1) {
      for (; p < kc; p++) {
        copyColumnA<T>(column, out);
        out += MR * es;
        column += across;
      }
    }
    for (; p < kc; p++) {
      let from = column;
      for (let i = 0; i < MR; i++) {
        store<T>(out, i < rows ? load<T>(from) : <T> 0);
        from += down;
        out += es;
      }
      column += across;
    }
  }
}

/**
 * Packs `kc` columns (a multiple of the lanes of a v128) of MR rows of A that are each
 * contiguous, `down` bytes apart: loads a v128 from every row and transposes them.
 */
function packRowsA<T>(a: usize, down: usize, kc: i32, out: usize): void {
  const step = MR * sizeof<T>();
  for (let p = 0; p < kc; p += 16 / <i32> sizeof<T>()) {
    const r0 = v128.load(a);
    const r1 = v128.load(a + down);
    const r2 = v128.load(a + 2 * down);
    const r3 = v128.load(a + 3 * down);
    if (sizeof<T>() == 4) {
      // Four columns: a 4×4 transpose of rows 0-3, then rows 4 and 5.
      const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
      const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
      const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
      const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
      v128.store(out, i64x2.shuffle(t0, t1, 0, 2));
      v128.store(out, i64x2.shuffle(t0, t1, 1, 3), step);
      v128.store(out, i64x2.shuffle(t2, t3, 0, 2), 2 * step);
      v128.store(out, i64x2.shuffle(t2, t3, 1, 3), 3 * step);
      if (MR == 6) {
        const r4 = v128.load(a + 4 * down);
        const r5 = v128.load(a + 5 * down);
        const u0 = i32x4.shuffle(r4, r5, 0, 4, 1, 5);
        const u1 = i32x4.shuffle(r4, r5, 2, 6, 3, 7);
        v128.store64_lane(out, u0, 0, 16);
        v128.store64_lane(out, u0, 1, step + 16);
        v128.store64_lane(out, u1, 0, 2 * step + 16);
        v128.store64_lane(out, u1, 1, 3 * step + 16);
      } else if (MR == 5) {
        const r4 = v128.load(a + 4 * down);
        v128.store32_lane(out, r4, 0, 16);
        v128.store32_lane(out, r4, 1, step + 16);
        v128.store32_lane(out, r4, 2, 2 * step + 16);
        v128.store32_lane(out, r4, 3, 3 * step + 16);
      }
    } else {
      // Two columns: 2×2 transposes of row pairs.
      v128.store(out, i64x2.shuffle(r0, r1, 0, 2));
      v128.store(out, i64x2.shuffle(r2, r3, 0, 2), 16);
      v128.store(out, i64x2.shuffle(r0, r1, 1, 3), step);
      v128.store(out, i64x2.shuffle(r2, r3, 1, 3), step + 16);
      if (MR == 6) {
        const r4 = v128.load(a + 4 * down);
        const r5 = v128.load(a + 5 * down);
        v128.store(out, i64x2.shuffle(r4, r5, 0, 2), 32);
        v128.store(out, i64x2.shuffle(r4, r5, 1, 3), step + 32);
      } else if (MR == 5) {
        const r4 = v128.load(a + 4 * down);
        v128.store64_lane(out, r4, 0, 32);
        v128.store64_lane(out, r4, 1, step + 32);
      }
    }
    a += 16;
    out += 16 / sizeof<T>() * step;
  }
}

/** Copies one column of MR contiguous values of A (MR·size bytes: 20 to 48). */
function copyColumnA<T>(from: usize, to: usize): void {
  const size = MR * sizeof<T>();
  v128.store(to, v128.load(from));
  if (size >= 32) v128.store(to, v128.load(from, 16), 16);
  if (size % 16 == 8) store<u64>(to + size - 8, load<u64>(from + size - 8));
  if (size % 16 == 4) store<u32>(to + size - 4, load<u32>(from + size - 4));
  if (size == 48) v128.store(to, v128.load(from, 32), 32);
}

/**
 * Packs the kc×nc panel of B at `b` into NR-wide slivers, each stored row by row (NR values per
 * row), the last sliver padded with zero columns.
 */
function packB<T>(b: usize, brs: i32, bcs: i32, kc: i32, nc: i32, out: usize): void {
  const es = sizeof<T>();
  const nr = sizeof<T>() == 8 ? NR_F64 : NR_F32;
  const down = bytes<T>(brs);
  const across = bytes<T>(bcs);
  for (let jr = 0; jr < nc; jr += nr) {
    const cols = min(nr, nc - jr);
    let row = b + bytes<T>(jr * bcs);
    let p = 0;
    if (cols == nr && bcs == 1) {
      // NR contiguous values per row: two v128 for both element types.
      for (; p < kc; p++) {
        v128.store(out, v128.load(row));
        v128.store(out, v128.load(row, 16), 16);
        out += 32;
        row += down;
      }
    } else if (cols == nr && brs == 1) {
      p = kc - kc % (16 / <i32> es);
      packColumnsB<T>(row, across, p, out);
      row += bytes<T>(p);
      out += bytes<T>(p * nr);
    }
    for (; p < kc; p++) {
      let from = row;
      for (let j = 0; j < nr; j++) {
        store<T>(out, j < cols ? load<T>(from) : <T> 0);
        from += across;
        out += es;
      }
      row += down;
    }
  }
}

/**
 * Packs `kc` rows (a multiple of the lanes of a v128) of NR columns of B that are each
 * contiguous, `across` bytes apart: loads a v128 from every column and transposes them.
 */
function packColumnsB<T>(b: usize, across: usize, kc: i32, out: usize): void {
  for (let p = 0; p < kc; p += 16 / <i32> sizeof<T>()) {
    const c0 = v128.load(b);
    const c1 = v128.load(b + across);
    const c2 = v128.load(b + 2 * across);
    const c3 = v128.load(b + 3 * across);
    if (sizeof<T>() == 4) {
      // Four rows of eight columns: two 4×4 transposes.
      const c4 = v128.load(b + 4 * across);
      const c5 = v128.load(b + 5 * across);
      const c6 = v128.load(b + 6 * across);
      const c7 = v128.load(b + 7 * across);
      storeColumnsF32(out, c0, c1, c2, c3, c4, c5, c6, c7);
      out += 128;
    } else {
      // Two rows of four columns: 2×2 transposes of column pairs.
      v128.store(out, i64x2.shuffle(c0, c1, 0, 2));
      v128.store(out, i64x2.shuffle(c2, c3, 0, 2), 16);
      v128.store(out, i64x2.shuffle(c0, c1, 1, 3), 32);
      v128.store(out, i64x2.shuffle(c2, c3, 1, 3), 48);
      out += 64;
    }
    b += 16;
  }
}

/**
 * Packs the kc×nc panel of an indirect B (B[p, j] at `x + size·(rows[p] + cols[j])`, the i32
 * offsets `rows` and `cols` already advanced to the panel) into NR-wide slivers like packB.
 * A sliver whose NR columns are consecutive (or, for float32, two apart) copies vectors; for
 * float32, so does one whose columns are two such runs (a sliver that crosses from one output
 * line to the next), blending the two by lane; one whose rows come in consecutive runs loads
 * columns and transposes them; the rest go one by one.
 */
function packBIndirect<T>(x: usize, rows: usize, cols: usize, kc: i32, nc: i32, out: usize): void {
  const es = sizeof<T>();
  const nr = sizeof<T>() == 8 ? NR_F64 : NR_F32;
  const lanes = 16 / <i32> es;
  for (let jr = 0; jr < nc; jr += nr) {
    const count = min(nr, nc - jr);
    const colAt = cols + <usize> (jr * 4);
    const first = load<i32>(colAt);
    let p = 0;
    if (count == nr && runOf(colAt, first, nr, false)) {
      for (; p < kc; p++) {
        const at = x + bytes<T>(load<i32>(rows + <usize> (p * 4)) + first);
        v128.store(out, v128.load(at));
        v128.store(out, v128.load(at, 16), 16);
        out += 32;
      }
      continue;
    }
    if (count == nr && es == 4 && evenlySpaced(colAt, first, nr, 2)) {
      // Every other value of 16: keep the even lanes of four vectors (one value past the last
      // is read; callers leave room for it).
      for (; p < kc; p++) {
        const at = x + bytes<T>(load<i32>(rows + <usize> (p * 4)) + first);
        v128.store(out, evenLanes<f32>(at));
        v128.store(out, evenLanes<f32>(at + 32), 16);
        out += 32;
      }
      continue;
    }
    if (count == nr && es == 4) {
      // Two runs, columns [0, split) from `first` and [split, NR) from `second`, one step
      // apart: eight values read from `first` and eight from `second - split·step` (so that
      // lane j of both is column j's value when it is theirs), blended by lane. Reads stay
      // within one value past the sliver's last column.
      let step = 1;
      let split = runSplit(colAt, first, nr, 1);
      if (split == 0) {
        step = 2;
        split = runSplit(colAt, first, nr, 2);
      }
      if (split > 0) {
        const shift = bytes<T>(load<i32>(colAt + <usize> (split * 4)) - split * step - first);
        const low = i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(split));
        const high = i32x4.lt_s(i32x4(4, 5, 6, 7), i32x4.splat(split));
        for (; p < kc; p++) {
          const at = x + bytes<T>(load<i32>(rows + <usize> (p * 4)) + first);
          const bt = at + shift;
          if (step == 1) {
            v128.store(out, v128.bitselect(v128.load(at), v128.load(bt), low));
            v128.store(out, v128.bitselect(v128.load(at, 16), v128.load(bt, 16), high), 16);
          } else {
            v128.store(out, v128.bitselect(evenLanes<f32>(at), evenLanes<f32>(bt), low));
            v128.store(out, v128.bitselect(evenLanes<f32>(at + 32), evenLanes<f32>(bt + 32), high), 16);
          }
          out += 32;
        }
        continue;
      }
    }
    while (p < kc) {
      const row = load<i32>(rows + <usize> (p * 4));
      if (count == nr && p + lanes <= kc && runOf(rows + <usize> (p * 4), row, lanes, false)) {
        packColumnsIndirect<T>(x + bytes<T>(row), colAt, out);
        out += <usize> (lanes * nr * es);
        p += lanes;
        continue;
      }
      // Rows two apart (a weight gradient with stride 2): every other value down each column.
      if (
        es == 4 && count == nr && p + lanes <= kc &&
        evenlySpaced(rows + <usize> (p * 4), row, lanes, 2)
      ) {
        packColumnsTwoApart(x + bytes<T>(row), colAt, out);
        out += <usize> (lanes * nr * es);
        p += lanes;
        continue;
      }
      for (let j = 0; j < nr; j++) {
        const value = j < count
          ? load<T>(x + bytes<T>(row + load<i32>(colAt + <usize> (j * 4))))
          : <T> 0;
        store<T>(out, value);
        out += es;
      }
      p++;
    }
  }
}

/** The even lanes of the values in `a` then `b` (as evenLanes reads them from memory). */
// @ts-ignore: decorator
@inline function evenOf<T>(a: v128, b: v128): v128 {
  return sizeof<T>() == 4 ? i32x4.shuffle(a, b, 0, 2, 4, 6) : i64x2.shuffle(a, b, 0, 2);
}

/** The odd lanes of the values in `a` then `b`. */
// @ts-ignore: decorator
@inline function oddOf<T>(a: v128, b: v128): v128 {
  return sizeof<T>() == 4 ? i32x4.shuffle(a, b, 1, 3, 5, 7) : i64x2.shuffle(a, b, 1, 3);
}

/** `a` moved down one lane, with the first lane of `b` last. */
// @ts-ignore: decorator
@inline function nextLanes<T>(a: v128, b: v128): v128 {
  return sizeof<T>() == 4 ? i32x4.shuffle(a, b, 1, 2, 3, 4) : i64x2.shuffle(a, b, 1, 2);
}

/** Every other value of the 32 bytes at `at`: values 0, 2, 4 and 6 of eight float32, or 0
 * and 2 of four float64. */
function evenLanes<T>(at: usize): v128 {
  const a = v128.load(at);
  const b = v128.load(at, 16);
  return sizeof<T>() == 4 ? i32x4.shuffle(a, b, 0, 2, 4, 6) : i64x2.shuffle(a, b, 0, 2);
}

/**
 * Where the `count` i32 offsets at `at` split into two runs `step` apart: `first, first +
 * step, …` up to `split`, then `second, second + step, …` with `second - split·step` not below
 * `first`. Returns `split` (from 1 to count - 1), or 0 when the offsets are not such runs.
 */
function runSplit(at: usize, first: i32, count: i32, step: i32): i32 {
  let split = 1;
  while (split < count && load<i32>(at + <usize> (split * 4)) == first + split * step) split++;
  if (split == count) return 0;
  const second = load<i32>(at + <usize> (split * 4));
  if (second - split * step < first) return 0;
  for (let j = split + 1; j < count; j++) {
    if (load<i32>(at + <usize> (j * 4)) != second + (j - split) * step) return 0;
  }
  return split;
}

/** Whether the `count` i32 offsets at `at` are `first, first + step, …`. */
function evenlySpaced(at: usize, first: i32, count: i32, step: i32): bool {
  for (let j = 1; j < count; j++) {
    if (load<i32>(at + <usize> (j * 4)) != first + j * step) return false;
  }
  return true;
}

/**
 * Packs one v128's worth of consecutive rows (4 for float32, 2 for float64) of NR columns that
 * start at `x + size·cols[j]`: loads a vector down every column and transposes them.
 */
function packColumnsIndirect<T>(x: usize, cols: usize, out: usize): void {
  const c0 = v128.load(x + bytes<T>(load<i32>(cols)));
  const c1 = v128.load(x + bytes<T>(load<i32>(cols, 4)));
  const c2 = v128.load(x + bytes<T>(load<i32>(cols, 8)));
  const c3 = v128.load(x + bytes<T>(load<i32>(cols, 12)));
  if (sizeof<T>() == 4) {
    const c4 = v128.load(x + bytes<T>(load<i32>(cols, 16)));
    const c5 = v128.load(x + bytes<T>(load<i32>(cols, 20)));
    const c6 = v128.load(x + bytes<T>(load<i32>(cols, 24)));
    const c7 = v128.load(x + bytes<T>(load<i32>(cols, 28)));
    storeColumnsF32(out, c0, c1, c2, c3, c4, c5, c6, c7);
  } else {
    v128.store(out, i64x2.shuffle(c0, c1, 0, 2));
    v128.store(out, i64x2.shuffle(c2, c3, 0, 2), 16);
    v128.store(out, i64x2.shuffle(c0, c1, 1, 3), 32);
    v128.store(out, i64x2.shuffle(c2, c3, 1, 3), 48);
  }
}

/** packColumnsIndirect for four float32 rows two apart: the even lanes of eight values
 * down every column (one value past the last row is read; callers leave room for it). */
function packColumnsTwoApart(x: usize, cols: usize, out: usize): void {
  storeColumnsF32(
    out,
    evenLanes<f32>(x + bytes<f32>(load<i32>(cols))),
    evenLanes<f32>(x + bytes<f32>(load<i32>(cols, 4))),
    evenLanes<f32>(x + bytes<f32>(load<i32>(cols, 8))),
    evenLanes<f32>(x + bytes<f32>(load<i32>(cols, 12))),
    evenLanes<f32>(x + bytes<f32>(load<i32>(cols, 16))),
    evenLanes<f32>(x + bytes<f32>(load<i32>(cols, 20))),
    evenLanes<f32>(x + bytes<f32>(load<i32>(cols, 24))),
    evenLanes<f32>(x + bytes<f32>(load<i32>(cols, 28))),
  );
}

/** Stores eight float32 columns of four rows as four rows of eight (NR) values. */
function storeColumnsF32(
  out: usize,
  c0: v128,
  c1: v128,
  c2: v128,
  c3: v128,
  c4: v128,
  c5: v128,
  c6: v128,
  c7: v128,
): void {
  let t0 = i32x4.shuffle(c0, c1, 0, 4, 1, 5);
  let t1 = i32x4.shuffle(c2, c3, 0, 4, 1, 5);
  let t2 = i32x4.shuffle(c0, c1, 2, 6, 3, 7);
  let t3 = i32x4.shuffle(c2, c3, 2, 6, 3, 7);
  v128.store(out, i64x2.shuffle(t0, t1, 0, 2));
  v128.store(out, i64x2.shuffle(t0, t1, 1, 3), 32);
  v128.store(out, i64x2.shuffle(t2, t3, 0, 2), 64);
  v128.store(out, i64x2.shuffle(t2, t3, 1, 3), 96);
  t0 = i32x4.shuffle(c4, c5, 0, 4, 1, 5);
  t1 = i32x4.shuffle(c6, c7, 0, 4, 1, 5);
  t2 = i32x4.shuffle(c4, c5, 2, 6, 3, 7);
  t3 = i32x4.shuffle(c6, c7, 2, 6, 3, 7);
  v128.store(out, i64x2.shuffle(t0, t1, 0, 2), 16);
  v128.store(out, i64x2.shuffle(t0, t1, 1, 3), 48);
  v128.store(out, i64x2.shuffle(t2, t3, 0, 2), 80);
  v128.store(out, i64x2.shuffle(t2, t3, 1, 3), 112);
}

function maddF32(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

function maddF64(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(c, f64x2.mul(a, b));
}

/**
 * Multiplies a packed MR×kc sliver of A by a packed kc×NR sliver of B (NR: 8 float32 or 4
 * float64 values, two v128 a row) and writes the top-left rows×cols corner of the product to C
 * at `c` (C = product when `overwrite`, else C += product). A corner of at most four rows (the
 * last sliver of 64 or 32 rows, say) runs with four rows of accumulators, not MR.
 */
function kernel<T>(
  kc: i32,
  pa: usize,
  pb: usize,
  c: usize,
  crs: i32,
  ccs: i32,
  rows: i32,
  cols: i32,
  overwrite: bool,
): void {
  if (rows > 4) tileProduct<T>(MR, kc, pa, pb, c, crs, ccs, rows, cols, overwrite);
  else tileProduct<T>(4, kc, pa, pb, c, crs, ccs, rows, cols, overwrite);
}

/** `kernel` for a tile of `height` rows (4 or MR, a constant once inlined). */
// @ts-ignore: decorator
@inline function tileProduct<T>(
  height: i32,
  kc: i32,
  pa: usize,
  pb: usize,
  c: usize,
  crs: i32,
  ccs: i32,
  rows: i32,
  cols: i32,
  overwrite: bool,
): void {
  const es = <usize> sizeof<T>();
  let c00 = v128.splat<T>(0), c01 = v128.splat<T>(0);
  let c10 = v128.splat<T>(0), c11 = v128.splat<T>(0);
  let c20 = v128.splat<T>(0), c21 = v128.splat<T>(0);
  let c30 = v128.splat<T>(0), c31 = v128.splat<T>(0);
  let c40 = v128.splat<T>(0), c41 = v128.splat<T>(0);
  let c50 = v128.splat<T>(0), c51 = v128.splat<T>(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    // Offsets as immediates: binaryen does not fold `pa + constant` into a load's offset.
    let x = sizeof<T>() == 4 ? v128.load32_splat(pa) : v128.load64_splat(pa);
    c00 = madd<T>(x, b0, c00);
    c01 = madd<T>(x, b1, c01);
    x = sizeof<T>() == 4 ? v128.load32_splat(pa, 4) : v128.load64_splat(pa, 8);
    c10 = madd<T>(x, b0, c10);
    c11 = madd<T>(x, b1, c11);
    x = sizeof<T>() == 4 ? v128.load32_splat(pa, 8) : v128.load64_splat(pa, 16);
    c20 = madd<T>(x, b0, c20);
    c21 = madd<T>(x, b1, c21);
    x = sizeof<T>() == 4 ? v128.load32_splat(pa, 12) : v128.load64_splat(pa, 24);
    c30 = madd<T>(x, b0, c30);
    c31 = madd<T>(x, b1, c31);
    if (height > 4) {
      x = sizeof<T>() == 4 ? v128.load32_splat(pa, 16) : v128.load64_splat(pa, 32);
      c40 = madd<T>(x, b0, c40);
      c41 = madd<T>(x, b1, c41);
    }
    if (height > 5) {
      x = sizeof<T>() == 4 ? v128.load32_splat(pa, 20) : v128.load64_splat(pa, 40);
      c50 = madd<T>(x, b0, c50);
      c51 = madd<T>(x, b1, c51);
    }
    pa += MR * es;
    pb += 32;
  }
  const nr = sizeof<T>() == 8 ? NR_F64 : NR_F32;
  if (rows == height && cols == nr && ccs == 1) {
    const step = bytes<T>(crs);
    storeRow<T>(c, c00, c01, overwrite);
    storeRow<T>(c + step, c10, c11, overwrite);
    storeRow<T>(c + 2 * step, c20, c21, overwrite);
    storeRow<T>(c + 3 * step, c30, c31, overwrite);
    if (height > 4) storeRow<T>(c + 4 * step, c40, c41, overwrite);
    if (height > 5) storeRow<T>(c + 5 * step, c50, c51, overwrite);
    return;
  }
  v128.store(TILE, c00);
  v128.store(TILE, c01, 16);
  v128.store(TILE, c10, 32);
  v128.store(TILE, c11, 48);
  v128.store(TILE, c20, 64);
  v128.store(TILE, c21, 80);
  v128.store(TILE, c30, 96);
  v128.store(TILE, c31, 112);
  if (height > 4) {
    v128.store(TILE, c40, 128);
    v128.store(TILE, c41, 144);
  }
  if (height > 5) {
    v128.store(TILE, c50, 160);
    v128.store(TILE, c51, 176);
  }
  storeTile<T>(c, crs, ccs, rows, cols, nr, overwrite);
}

/** `c + a·b` lane by lane in T (fused where relaxed SIMD is on). */
function madd<T>(a: v128, b: v128, c: v128): v128 {
  return sizeof<T>() == 4 ? maddF32(a, b, c) : maddF64(a, b, c);
}

/** Writes (or adds) two v128 of T to the row at `at`. */
function storeRow<T>(at: usize, v0: v128, v1: v128, overwrite: bool): void {
  if (overwrite) {
    v128.store(at, v0);
    v128.store(at, v1, 16);
  } else {
    v128.store(at, v128.add<T>(v128.load(at), v0));
    v128.store(at, v128.add<T>(v128.load(at, 16), v1), 16);
  }
}

/** Writes (or adds) the top-left rows×cols corner of the tile in TILE (nr values a row) to C. */
function storeTile<T>(
  c: usize,
  crs: i32,
  ccs: i32,
  rows: i32,
  cols: i32,
  nr: i32,
  overwrite: bool,
): void {
  for (let i = 0; i < rows; i++) {
    let at = c + bytes<T>(i * crs);
    let from = TILE + bytes<T>(i * nr);
    for (let j = 0; j < cols; j++) {
      const value = load<T>(from);
      store<T>(at, overwrite ? value : load<T>(at) + value);
      at += bytes<T>(ccs);
      from += sizeof<T>();
    }
  }
}
