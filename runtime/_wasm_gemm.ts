/**
 * The WebAssembly GEMM kernels (runtime/wasm/gemm_kernels.ts, embedded by runtime/_gemm_wasm.ts)
 * and the memory they work in: the low-level door for code that wants to multiply matrices it
 * has written into WASM memory itself, such as an implicit-GEMM convolution that writes im2col
 * blocks there and multiplies them without copying.
 *
 * One instance per thread (module state), created synchronously at first use; each worker has
 * its own. The build is chosen once: relaxed SIMD (fused multiply-add) when
 * `WebAssembly.validate` accepts it, baseline SIMD otherwise.
 *
 * Memory is a stack of scratch regions above the module's static data, grown as needed and
 * reused across calls (WASM memory never shrinks):
 *
 * ```ts ignore
 * const mark = wasmScratchMark();
 * try {
 *   const a = wasmScratchReserve("float32", m * k); // element offsets into wasmMemoryView()
 *   const b = wasmScratchReserve("float32", k * n);
 *   const c = wasmScratchReserve("float32", m * n);
 *   let heap = wasmMemoryView("float32");
 *   heap.set(aValues, a); // an m×k row-major A
 *   heap.set(bValues, b); // a k×n row-major B
 *   gemmInMemory("float32", m, n, k, a, k, 1, b, n, 1, c, n, 1, false);
 *   heap = wasmMemoryView("float32"); // gemmInMemory may have grown the memory
 *   const product = heap.slice(c, c + m * n);
 * } finally {
 *   wasmScratchRelease(mark);
 * }
 * ```
 *
 * Growing the memory detaches every typed array over it: after {@linkcode wasmScratchReserve}
 * or {@linkcode gemmInMemory} (which takes its packing workspace from the top of the stack),
 * fetch views again with {@linkcode wasmMemoryView}; offsets stay valid until released.
 * Reserve and release within one synchronous stretch of code: regions held across an `await`
 * could be released under another caller's feet (gemm() uses the same stack).
 *
 * @module
 */
import { BASELINE_GEMM_WASM, RELAXED_GEMM_WASM } from "./_gemm_wasm.ts";

/** Element type of a GEMM in WASM memory. */
export type WasmGemmDType = "float32" | "float64";

/** Element type of a scratch region: a GEMM's, or `int32` for the offsets of an indirect B. */
export type WasmScratchDType = WasmGemmDType | "int32";

/** Which build of the kernels runs: fused multiply-add (`relaxed`) or mul, add (`baseline`). */
export type WasmGemmBuild = "relaxed" | "baseline";

/** The kernels' exports (runtime/wasm/gemm_kernels.ts); addresses in bytes, strides in elements. */
interface Kernels {
  memory: WebAssembly.Memory;
  heapBase(): number;
  blockDepth(): number;
  workspaceBytes(double: number, m: number, n: number, k: number): number;
  gemmF32: KernelEntry;
  gemmF64: KernelEntry;
  gemmIndirectF32: IndirectEntry;
  gemmIndirectF64: IndirectEntry;
  rowIndirectF32: RowEntry;
  rowIndirectF64: RowEntry;
  rowsIndirectF32: RowsEntry;
  runsIndirectF32: RunsEntry;
  runsIndirectF64: RunsEntry;
  gatherRuns(
    size: number,
    rows: number,
    x: number,
    rowOffsets: number,
    count: number,
    runs: number,
    out: number,
    outRow: number,
  ): void;
  copyRuns(
    size: number,
    lines: number,
    length: number,
    from: number,
    fromLine: number,
    to: number,
    toLine: number,
    step: number,
  ): void;
  zipLines(
    size: number,
    planes: number,
    lines: number,
    step: number,
    sources: number,
    lineStarts: number,
    to: number,
    planeStep: number,
  ): void;
}

/** The rows kernel: the runs kernel's arguments, then whether columns increase. */
type RowsEntry = (...args: [...Parameters<RunsEntry>, increasing: number]) => void;

type RunsEntry = (
  m: number,
  k: number,
  n: number,
  a: number,
  aRowStride: number,
  x: number,
  rowOffsets: number,
  colOffsets: number,
  c: number,
  cRowStride: number,
  accumulate: number,
) => void;

type RowEntry = (
  k: number,
  n: number,
  a: number,
  x: number,
  rowOffsets: number,
  colOffsets: number,
  c: number,
  accumulate: number,
  increasing: number,
) => void;

type IndirectEntry = (
  m: number,
  n: number,
  k: number,
  a: number,
  aRowStride: number,
  aColStride: number,
  x: number,
  rowOffsets: number,
  colOffsets: number,
  c: number,
  cRowStride: number,
  cColStride: number,
  accumulate: number,
  work: number,
) => void;

type KernelEntry = (
  m: number,
  n: number,
  k: number,
  a: number,
  aRowStride: number,
  aColStride: number,
  b: number,
  bRowStride: number,
  bColStride: number,
  c: number,
  cRowStride: number,
  cColStride: number,
  accumulate: number,
  work: number,
) => void;

interface Instance {
  build: WasmGemmBuild;
  kernels: Kernels;
  /** First free byte of the scratch stack. */
  top: number;
  /** Bottom of the scratch stack: the first byte after the module's static data. */
  base: number;
  /** The kernels' blockDepth(). */
  blockDepth: number;
  /** Bytes of memory; only ensureBytes grows it (the kernels never do). */
  size: number;
  float32: Float32Array;
  float64: Float64Array;
  int32: Int32Array;
}

/** Scratch regions start at multiples of this many bytes (a cache line). */
const ALIGN = 64;
const PAGE = 65536;
/** Memory32 can address at most 4 GiB. */
const MAX_BYTES = 65536 * PAGE;

let instance: Instance | undefined;
let forcedBuild: WasmGemmBuild | undefined;

/** Decodes base64 text into bytes. */
function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The builds of the kernels that this engine can run, preferred first: relaxed SIMD where
 * `WebAssembly.validate` accepts it, and baseline SIMD.
 *
 * @returns `["relaxed", "baseline"]` or `["baseline"]`.
 */
export function wasmGemmBuilds(): WasmGemmBuild[] {
  return WebAssembly.validate(decodeBase64(RELAXED_GEMM_WASM))
    ? ["relaxed", "baseline"]
    : ["baseline"];
}

/** This thread's instance, created at first use. */
function current(): Instance {
  if (instance) return instance;
  const build = forcedBuild ?? wasmGemmBuilds()[0];
  const bytes = decodeBase64(build === "relaxed" ? RELAXED_GEMM_WASM : BASELINE_GEMM_WASM);
  const kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes), {})
    .exports as unknown as Kernels;
  const base = alignUp(kernels.heapBase());
  const buffer = kernels.memory.buffer;
  const created: Instance = {
    build,
    kernels,
    top: base,
    base,
    blockDepth: kernels.blockDepth(),
    size: buffer.byteLength,
    float32: new Float32Array(buffer),
    float64: new Float64Array(buffer),
    int32: new Int32Array(buffer),
  };
  instance = created;
  return created;
}

function alignUp(bytes: number): number {
  return Math.ceil(bytes / ALIGN) * ALIGN;
}

function elementSize(dtype: WasmScratchDType): number {
  return dtype === "float64" ? 8 : 4;
}

/** Makes the memory at least `end` bytes long, growing it by at least half its size. */
function ensureBytes(state: Instance, end: number): void {
  const size = state.size;
  if (end <= size) return;
  if (end > MAX_BYTES) {
    throw new RangeError(
      `Cannot reserve WASM memory: ${end} bytes are needed, more than the ${MAX_BYTES} a WASM memory can hold`,
    );
  }
  const target = Math.min(MAX_BYTES, Math.max(end, Math.ceil(size * 1.5)));
  state.kernels.memory.grow(Math.ceil((target - size) / PAGE));
  const buffer = state.kernels.memory.buffer;
  state.size = buffer.byteLength;
  state.float32 = new Float32Array(buffer);
  state.float64 = new Float64Array(buffer);
  state.int32 = new Int32Array(buffer);
}

/** Takes `bytes` from the top of the scratch stack, aligned; returns its byte address. */
function reserveBytes(state: Instance, bytes: number): number {
  const start = state.top;
  ensureBytes(state, start + bytes);
  state.top = alignUp(start + bytes);
  return start;
}

/**
 * The build of the kernels that this thread runs (the instance is created if need be).
 *
 * @returns `"relaxed"` where the engine validates relaxed SIMD, else `"baseline"`.
 */
export function wasmGemmBuild(): WasmGemmBuild {
  return current().build;
}

/**
 * Forces one build of the kernels, or `undefined` for the engine's preferred one; for tests.
 * Drops this thread's instance and its memory, so it throws while scratch regions are reserved.
 *
 * @param build The build to run from now on.
 */
export function forceWasmGemmBuild(build: WasmGemmBuild | undefined): void {
  if (instance && instance.top !== instance.base) {
    throw new Error("Cannot switch the WASM GEMM build while scratch regions are reserved");
  }
  forcedBuild = build;
  instance = undefined;
}

/**
 * The top of the scratch stack, to hand back to {@linkcode wasmScratchRelease}.
 *
 * @returns An opaque mark.
 */
export function wasmScratchMark(): number {
  return current().top;
}

/**
 * Reserves `length` elements of `dtype` on top of the scratch stack, 64-byte aligned, growing
 * the memory if needed (which detaches earlier views: fetch them again with
 * {@linkcode wasmMemoryView}). The contents are whatever was there before.
 *
 * @param dtype The element type, which fixes the unit of the returned offset.
 * @param length Number of elements.
 * @returns The region's first element as an index into `wasmMemoryView(dtype)`.
 */
export function wasmScratchReserve(dtype: WasmScratchDType, length: number): number {
  if (!Number.isInteger(length) || length < 0) {
    throw new RangeError(
      `Cannot reserve WASM memory: length=${length} is not a non-negative integer`,
    );
  }
  const size = elementSize(dtype);
  return reserveBytes(current(), length * size) / size;
}

/**
 * Releases every region reserved since `mark` was taken (their memory is reused, not freed).
 *
 * @param mark A value returned by {@linkcode wasmScratchMark} on this instance.
 */
export function wasmScratchRelease(mark: number): void {
  const state = current();
  if (!Number.isInteger(mark) || mark < state.base || mark > state.top) {
    throw new RangeError(
      `Cannot release WASM memory: mark=${mark} is not between ${state.base} and ${state.top}`,
    );
  }
  state.top = mark;
}

/**
 * Runs `body` with the scratch stack's top marked, and releases every region it reserved
 * when it returns or throws.
 *
 * @param body Reserves regions and uses them, synchronously.
 * @returns What `body` returns.
 */
export function withWasmScratch<T>(body: () => T): T {
  const mark = wasmScratchMark();
  try {
    return body();
  } finally {
    wasmScratchRelease(mark);
  }
}

/**
 * The whole WASM memory as a typed array of `dtype`, re-created after the memory grew.
 *
 * @param dtype The element type.
 * @returns A view whose indices are the element offsets used by this module.
 */
export function wasmMemoryView(dtype: "float32"): Float32Array;
export function wasmMemoryView(dtype: "float64"): Float64Array;
export function wasmMemoryView(dtype: "int32"): Int32Array;
export function wasmMemoryView(dtype: WasmGemmDType): Float32Array | Float64Array;
export function wasmMemoryView(dtype: WasmScratchDType): Float32Array | Float64Array | Int32Array {
  const state = current();
  return dtype === "float32" ? state.float32 : dtype === "float64" ? state.float64 : state.int32;
}

/**
 * The depth of the kernels' blocks of the sum: splitting K into chunks that start at multiples
 * of it, and accumulating all but the first, gives the same bits as one call.
 *
 * @returns The block depth in elements (the same for both dtypes).
 */
export function wasmGemmBlockDepth(): number {
  return current().blockDepth;
}

/**
 * Multiplies matrices that lie in WASM memory: `C = A·B`, or `C += A·B` with `accumulate`, with
 * A m×k, B k×n and C m×n. Element (r, c) of A is at `aOffset + r*aRowStride + c*aColStride` in
 * `wasmMemoryView(dtype)`, and likewise for B and C; strides may be zero or negative. C must
 * not overlap A, B, or itself. The packing workspace is taken from the top of the scratch stack
 * for the call (the memory may grow: fetch views again afterwards).
 *
 * Each element of C is summed in the same order whatever m and n are: splitting the product
 * over rows or columns of C gives identical bits.
 *
 * @param dtype Element type of A, B and C.
 * @param m Rows of A and C.
 * @param n Columns of B and C.
 * @param k Columns of A, rows of B.
 * @param aOffset Element offset of A[0, 0].
 * @param aRowStride Elements from one row of A to the next.
 * @param aColStride Elements from one column of A to the next.
 * @param bOffset Element offset of B[0, 0].
 * @param bRowStride Elements from one row of B to the next.
 * @param bColStride Elements from one column of B to the next.
 * @param cOffset Element offset of C[0, 0].
 * @param cRowStride Elements from one row of C to the next.
 * @param cColStride Elements from one column of C to the next.
 * @param accumulate Add to C instead of overwriting it (which does not read it).
 */
export function gemmInMemory(
  dtype: WasmGemmDType,
  m: number,
  n: number,
  k: number,
  aOffset: number,
  aRowStride: number,
  aColStride: number,
  bOffset: number,
  bRowStride: number,
  bColStride: number,
  cOffset: number,
  cRowStride: number,
  cColStride: number,
  accumulate: boolean,
): void {
  const state = current();
  const size = elementSize(dtype);
  const a = [aOffset, aRowStride, aColStride] as const;
  const c = [cOffset, cRowStride, cColStride] as const;
  if (!checkProduct(state, size, m, n, k, a, c)) return;
  if (k > 0) checkView("b", bOffset, bRowStride, bColStride, k, n, state.size / size);
  withWorkspace(state, size, m, n, k, (work) => {
    const kernel = size === 8 ? state.kernels.gemmF64 : state.kernels.gemmF32;
    kernel(
      m,
      n,
      k,
      aOffset * size,
      aRowStride,
      aColStride,
      bOffset * size,
      bRowStride,
      bColStride,
      cOffset * size,
      cRowStride,
      cColStride,
      accumulate ? 1 : 0,
      work,
    );
  });
}

/** Checks a product's sizes and its A (m×k) and C (m×n) views; false when C is empty. */
function checkProduct(
  state: Instance,
  size: number,
  m: number,
  n: number,
  k: number,
  [aOffset, aRowStride, aColStride]: readonly [number, number, number],
  [cOffset, cRowStride, cColStride]: readonly [number, number, number],
): boolean {
  checkSize(m, "m");
  checkSize(n, "n");
  checkSize(k, "k");
  if (m === 0 || n === 0) return false;
  const elements = state.size / size;
  if (k > 0) checkView("a", aOffset, aRowStride, aColStride, m, k, elements);
  checkView("c", cOffset, cRowStride, cColStride, m, n, elements);
  return true;
}

/** Runs `run` with a packing workspace for an m×n×k product taken from the top of the
 * scratch stack, and gives it back. */
function withWorkspace(
  state: Instance,
  size: number,
  m: number,
  n: number,
  k: number,
  run: (work: number) => void,
): void {
  const mark = state.top;
  try {
    run(reserveBytes(state, state.kernels.workspaceBytes(size === 8 ? 1 : 0, m, n, k)));
  } finally {
    state.top = mark;
  }
}

function checkSize(value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`Cannot run gemmInMemory: ${name}=${value} is not a non-negative integer`);
  }
}

function checkInteger(value: number, name: string): void {
  if (!Number.isInteger(value)) {
    throw new RangeError(`Cannot run gemmInMemory: ${name}=${value} is not an integer`);
  }
}

/** Throws unless the rows×cols view lies within the first `elements` elements of memory. */
function checkView(
  name: string,
  offset: number,
  rowStride: number,
  colStride: number,
  rows: number,
  cols: number,
  elements: number,
): void {
  checkInteger(offset, `${name}Offset`);
  checkInteger(rowStride, `${name}RowStride`);
  checkInteger(colStride, `${name}ColStride`);
  const down = (rows - 1) * rowStride;
  const across = (cols - 1) * colStride;
  const first = offset + Math.min(down, 0) + Math.min(across, 0);
  const last = offset + Math.max(down, 0) + Math.max(across, 0);
  if (first < 0 || last >= elements) {
    throw new RangeError(
      `Cannot run gemmInMemory: ${name} as a ${rows}×${cols} view spans elements ${first}..${last}, outside the WASM memory of ${elements}`,
    );
  }
}

/**
 * {@linkcode gemmInMemory} with an indirect B: `B[p, j]` is element
 * `xOffset + rowOffsets[p] + colOffsets[j]` of `wasmMemoryView(dtype)`, where `rowOffsets`
 * (k entries) and `colOffsets` (n entries) are int32 regions at those element offsets of
 * `wasmMemoryView("int32")`. This multiplies an unfolded input straight from its image: the
 * row offsets name (channel, tap) and the column offsets output positions, or the reverse.
 * Every address must lie inside the memory, and B may read a few elements past the largest
 * one (at most three today: keep 16 elements of room); sums run in the same order as
 * {@linkcode gemmInMemory}'s, also for the few rows of A that run kernels of their own.
 *
 * @param dtype Element type of A, B and C.
 * @param m Rows of A and C.
 * @param n Columns of B and C.
 * @param k Columns of A, rows of B.
 * @param aOffset Element offset of A[0, 0].
 * @param aRowStride Elements from one row of A to the next.
 * @param aColStride Elements from one column of A to the next.
 * @param xOffset Element offset that B's offsets count from.
 * @param rowOffsets Int32 offset of B's k row offsets.
 * @param colOffsets Int32 offset of B's n column offsets.
 * @param cOffset Element offset of C[0, 0].
 * @param cRowStride Elements from one row of C to the next.
 * @param cColStride Elements from one column of C to the next.
 * @param accumulate Add to C instead of overwriting it.
 * @param increasingColumns The caller's promise that `colOffsets` increase strictly, which
 *   lets the one-row kernel find runs of consecutive columns faster (default false).
 */
export function gemmIndirectInMemory(
  dtype: WasmGemmDType,
  m: number,
  n: number,
  k: number,
  aOffset: number,
  aRowStride: number,
  aColStride: number,
  xOffset: number,
  rowOffsets: number,
  colOffsets: number,
  cOffset: number,
  cRowStride: number,
  cColStride: number,
  accumulate: boolean,
  increasingColumns = false,
): void {
  const state = current();
  const size = elementSize(dtype);
  const a = [aOffset, aRowStride, aColStride] as const;
  const c = [cOffset, cRowStride, cColStride] as const;
  if (!checkProduct(state, size, m, n, k, a, c)) return;
  if (k > 0) {
    checkView("rowOffsets", rowOffsets, 1, 1, k, 1, state.size / 4);
    checkView("colOffsets", colOffsets, 1, 1, n, 1, state.size / 4);
  }
  const rowKernels = aColStride === 1 && cColStride === 1;
  // Whether the columns start with a run of eight (output positions) or not (kernel taps).
  const columnsRun = columnRun(colOffsets, n);
  if (m <= 4 && rowKernels && !columnsRun && shortRuns(colOffsets, n, size)) {
    // A few rows and columns in short runs (a depthwise or grouped weight gradient: taps):
    // each run read as one vector, where the GEMM would pad both A's rows and B's columns.
    const kernel = size === 8 ? state.kernels.runsIndirectF64 : state.kernels.runsIndirectF32;
    kernel(
      m,
      k,
      n,
      aOffset * size,
      aRowStride,
      xOffset * size,
      rowOffsets * 4,
      colOffsets * 4,
      cOffset * size,
      cRowStride,
      accumulate ? 1 : 0,
    );
    return;
  }
  if (m === 1 && rowKernels) {
    // One row (a depthwise convolution): a kernel that does not pad it to a tile's rows.
    const kernel = size === 8 ? state.kernels.rowIndirectF64 : state.kernels.rowIndirectF32;
    kernel(
      k,
      n,
      aOffset * size,
      xOffset * size,
      rowOffsets * 4,
      colOffsets * 4,
      cOffset * size,
      accumulate ? 1 : 0,
      increasingColumns ? 1 : 0,
    );
    return;
  }
  if (size === 4 && m <= 4 && rowKernels && columnsRun) {
    // A few rows (a grouped convolution's channels) and columns in runs (output positions):
    // straight from B, without packing it; the GEMM packs other layouts better.
    state.kernels.rowsIndirectF32(
      m,
      k,
      n,
      aOffset * size,
      aRowStride,
      xOffset * size,
      rowOffsets * 4,
      colOffsets * 4,
      cOffset * size,
      cRowStride,
      accumulate ? 1 : 0,
      increasingColumns ? 1 : 0,
    );
    return;
  }
  withWorkspace(state, size, m, n, k, (work) => {
    const kernel = size === 8 ? state.kernels.gemmIndirectF64 : state.kernels.gemmIndirectF32;
    kernel(
      m,
      n,
      k,
      aOffset * size,
      aRowStride,
      aColStride,
      xOffset * size,
      rowOffsets * 4,
      colOffsets * 4,
      cOffset * size,
      cRowStride,
      cColStride,
      accumulate ? 1 : 0,
      work,
    );
  });
}

/** Whether the first (up to 64) of the `n` column offsets at int32 offset `at` come in runs
 * of consecutive offsets, cut at a v128's lanes, that fill at least half of those lanes and
 * are at least 1.5 long on average (so not columns two apart, which the one-row kernel
 * reads as vectors). */
function shortRuns(at: number, n: number, size: number): boolean {
  const offsets = wasmMemoryView("int32");
  const lanes = 16 / size;
  const count = Math.min(n, 64);
  let runs = 0;
  for (let j = 0; j < count; runs++) {
    let length = 1;
    while (
      length < lanes && j + length < count && offsets[at + j + length] === offsets[at + j] + length
    ) {
      length++;
    }
    j += length;
  }
  return 2 * count >= runs * Math.max(3, lanes);
}

/** Whether the first eight of the `n` column offsets at int32 offset `at` are consecutive. */
function columnRun(at: number, n: number): boolean {
  const offsets = wasmMemoryView("int32");
  return n >= 8 && offsets[at + 7] - offsets[at] === 7;
}

/**
 * Writes `rows` rows of an unfolded input, `outRow` elements apart from element `out` on:
 * row `p` is, for each run of `runs` (pairs of an element offset and a length, at int32
 * offset `runsAt`), the `length` elements from `x + rowOffsets[p] + offset` on, where
 * `rowOffsets` is an int32 region of `rows` entries. Everything lies in
 * `wasmMemoryView(dtype)`.
 *
 * @param dtype Element type.
 * @param rows Number of rows.
 * @param x Element offset that the offsets count from.
 * @param rowOffsets Int32 offset of the rows' offsets.
 * @param runsAt Int32 offset of the runs (offset, length pairs).
 * @param runs Number of runs.
 * @param out Element offset of the first row of the result.
 * @param outRow Elements from one row of the result to the next.
 */
export function gatherRunsInMemory(
  dtype: WasmGemmDType,
  rows: number,
  x: number,
  rowOffsets: number,
  runsAt: number,
  runs: number,
  out: number,
  outRow: number,
): void {
  if (rows === 0 || runs === 0) return;
  const state = current();
  const size = elementSize(dtype);
  checkView("rowOffsets", rowOffsets, 1, 1, rows, 1, state.size / 4);
  checkView("runs", runsAt, 1, 1, 2 * runs, 1, state.size / 4);
  state.kernels.gatherRuns(
    size,
    rows,
    x * size,
    rowOffsets * 4,
    runs,
    runsAt * 4,
    out * size,
    outRow,
  );
}

/**
 * Interleaves `sources.length` sources (the step) into `planes` planes of `lines` lines each,
 * planes `planeStep` elements apart from element `to` of `wasmMemoryView(dtype)`: line `l`
 * of each plane from element `lineStarts[l]` of it (an int32 table at `lineStartsAt`) holds
 * element `t` of source `s`'s line at element `step·t + s`. Source `s` holds its lines of
 * `length` elements one after the other, plane by plane, from element `at` (`null`: zeros).
 * A strided input gradient's phases along the last dimension fill their inputs this way,
 * each input written once. The destination must not overlap the sources.
 *
 * @param dtype Element type.
 * @param planes Number of planes.
 * @param lines Lines per plane.
 * @param sources Per position along a destination line modulo the step: where that
 *   source's lines lie and their length.
 * @param lineStartsAt Int32 offset of the lines' starts within a destination plane.
 * @param to Element offset of the first destination plane.
 * @param planeStep Elements from one destination plane to the next.
 */
export function zipLinesInMemory(
  dtype: WasmGemmDType,
  planes: number,
  lines: number,
  sources: readonly { at: number | null; length: number }[],
  lineStartsAt: number,
  to: number,
  planeStep: number,
): void {
  const step = sources.length;
  if (planes === 0 || lines === 0 || step === 0) return;
  const state = current();
  const size = elementSize(dtype);
  const elements = state.size / size;
  checkView("lineStarts", lineStartsAt, 1, 1, lines, 1, state.size / 4);
  const starts = wasmMemoryView("int32").subarray(lineStartsAt, lineStartsAt + lines);
  let last = 0;
  for (const start of starts) last = Math.max(last, start);
  const longest = Math.max(...sources.map((source) => source.length));
  const reach = to + (planes - 1) * planeStep + last + step * longest;
  const sourceOutside = sources.some(({ at, length }) =>
    length < 0 || (at !== null && (at < 0 || at + planes * lines * length > elements))
  );
  if (
    planeStep < 0 || to < 0 || starts.some((start) => start < 0) || reach > elements ||
    sourceOutside
  ) {
    throw new RangeError(
      `Cannot zip lines: ${planes} planes of ${lines} lines from ${step} sources to ${to} (${planeStep} apart) leave the WASM memory of ${elements} elements`,
    );
  }
  withWasmScratch(() => {
    const table = wasmScratchReserve("int32", 3 * step);
    const ints = wasmMemoryView("int32");
    sources.forEach(({ at, length }, s) => {
      ints[table + 3 * s] = at === null ? 0 : (at * size) | 0;
      ints[table + 3 * s + 1] = length;
      ints[table + 3 * s + 2] = at === null ? 0 : 1;
    });
    current().kernels.zipLines(
      size,
      planes,
      lines,
      step,
      table * 4,
      lineStartsAt * 4,
      to * size,
      planeStep,
    );
  });
}

/**
 * Copies `lines` runs of `length` elements within WASM memory: run `l` from element
 * `from + l·fromLine` to `to + l·toLine` of `wasmMemoryView(dtype)` (strides non-negative,
 * runs not overlapping), a run's elements `step` apart in the source (default 1:
 * consecutive) and consecutive in the destination. Images, and strided views of them, go
 * into and out of their zero-padded buffers this way.
 *
 * @param dtype Element type.
 * @param lines Number of runs.
 * @param length Elements per run.
 * @param from Element offset of the first run's source.
 * @param fromLine Elements from one source run to the next.
 * @param to Element offset of the first run's destination.
 * @param toLine Elements from one destination run to the next.
 * @param step Elements between a source run's elements (a positive integer).
 */
export function copyRunsInMemory(
  dtype: WasmScratchDType,
  lines: number,
  length: number,
  from: number,
  fromLine: number,
  to: number,
  toLine: number,
  step = 1,
): void {
  if (lines === 0 || length === 0) return;
  const state = current();
  const size = elementSize(dtype);
  const elements = state.size / size;
  const runs: [number, number, number][] = [[from, fromLine, (length - 1) * step + 1], [
    to,
    toLine,
    length,
  ]];
  for (const [at, apart, span] of runs) {
    if (
      !(step >= 1) || !Number.isInteger(step) || at < 0 || apart < 0 ||
      at + (lines - 1) * apart + span > elements
    ) {
      throw new RangeError(
        `Cannot copy runs: ${lines} runs of ${length} (${step} apart) from ${at}, ${apart} apart, leave the WASM memory of ${elements} elements`,
      );
    }
  }
  state.kernels.copyRuns(size, lines, length, from * size, fromLine, to * size, toLine, step);
}
