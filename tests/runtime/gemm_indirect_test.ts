import assert from "node:assert/strict";
import {
  gemmIndirectInMemory,
  gemmInMemory,
  wasmGemmBuilds,
  type WasmGemmDType,
  wasmMemoryView,
  wasmScratchReserve,
  withWasmScratch,
} from "../../runtime/_wasm_gemm.ts";
import { mulberry32 } from "../_random.ts";
import { withBuild } from "../_wasm_builds.ts";

/** Offset tables that exercise every packing path of the indirect B: runs of consecutive
 * offsets (vector copies), offsets two apart (float32 even lanes), lines of either, whose
 * slivers cross from one line to the next (float32 blends of two runs), consecutive rows
 * (transposed loads), rows two apart (float32 even lanes, transposed) and scattered ones
 * (one by one); products of one to four rows whose columns start with a run of eight go to
 * the row kernels instead, vector by vector and column by column (one row also with columns
 * two apart, as even lanes), and those whose columns
 * come in short runs (a kernel's taps: rows of 3, 5 or 7) to the runs kernel, a run to a
 * vector, two blocks of the sum side by side. */
const LAYOUTS: Record<string, (count: number, random: () => number) => number[]> = {
  consecutive: (count) => Array.from({ length: count }, (_, i) => 3 + i),
  "two apart": (count) => Array.from({ length: count }, (_, i) => 2 * i + 1),
  "rows of 3": (count) => Array.from({ length: count }, (_, i) => 9 * Math.floor(i / 3) + (i % 3)),
  "rows of 7": (count) => Array.from({ length: count }, (_, i) => 20 * Math.floor(i / 7) + (i % 7)),
  "rows of 5": (count) => Array.from({ length: count }, (_, i) => 11 * Math.floor(i / 5) + (i % 5)),
  "rows of 10": (count) =>
    Array.from({ length: count }, (_, i) => 30 * Math.floor(i / 10) + (i % 10)),
  "two apart in rows of 5": (count) =>
    Array.from({ length: count }, (_, i) => 13 * Math.floor(i / 5) + 2 * (i % 5)),
  scattered: (count, random) => Array.from({ length: count }, () => Math.floor(random() * 40)),
};

/** Multiplies A by the indirect B, and by the same B written out as a dense matrix. */
function indirectAndDense(
  dtype: WasmGemmDType,
  m: number,
  n: number,
  k: number,
  rowOffsets: number[],
  colOffsets: number[],
  accumulate: boolean,
  seed: number,
  promise?: boolean,
): { indirect: number[]; dense: number[]; loop: number[] } {
  return withWasmScratch(() => {
    const random = mulberry32(seed);
    const span = Math.max(0, ...rowOffsets) + Math.max(0, ...colOffsets) + 1;
    const x = wasmScratchReserve(dtype, span + 16);
    const a = wasmScratchReserve(dtype, m * k);
    const b = wasmScratchReserve(dtype, k * n);
    const c1 = wasmScratchReserve(dtype, m * n);
    const c2 = wasmScratchReserve(dtype, m * n);
    const rows = wasmScratchReserve("int32", k);
    const cols = wasmScratchReserve("int32", n);
    let heap = wasmMemoryView(dtype);
    for (let i = 0; i < span + 16; i++) heap[x + i] = random() - 0.5;
    for (let i = 0; i < m * k; i++) heap[a + i] = random() - 0.5;
    for (let i = 0; i < m * n; i++) heap[c1 + i] = heap[c2 + i] = random() - 0.5;
    const before = Array.from(heap.subarray(c1, c1 + m * n));
    for (let p = 0; p < k; p++) {
      for (let j = 0; j < n; j++) heap[b + p * n + j] = heap[x + rowOffsets[p] + colOffsets[j]];
    }
    const ints = wasmMemoryView("int32");
    ints.set(rowOffsets, rows);
    ints.set(colOffsets, cols);
    const increasing = colOffsets.every((offset, j) => j === 0 || offset > colOffsets[j - 1]);
    // Half the time, promise increasing columns where they do (the one-row kernel's shortcut).
    const promised = promise ?? (increasing && seed % 3 !== 0);
    gemmIndirectInMemory(dtype, m, n, k, a, k, 1, x, rows, cols, c1, n, 1, accumulate, promised);
    gemmInMemory(dtype, m, n, k, a, k, 1, b, n, 1, c2, n, 1, accumulate);
    heap = wasmMemoryView(dtype);
    const loop: number[] = [];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = accumulate ? before[i * n + j] : 0;
        for (let p = 0; p < k; p++) {
          sum += heap[a + i * k + p] * heap[x + rowOffsets[p] + colOffsets[j]];
        }
        loop.push(sum);
      }
    }
    return {
      indirect: Array.from(heap.subarray(c1, c1 + m * n)),
      dense: Array.from(heap.subarray(c2, c2 + m * n)),
      loop,
    };
  });
}

for (const build of wasmGemmBuilds()) {
  for (const dtype of ["float32", "float64"] as const) {
    Deno.test(`gemmIndirectInMemory() equals gemmInMemory() on the gathered B bit for bit (${build}, ${dtype})`, () => {
      withBuild(build, () => {
        let seed = 1;
        for (const [rowName, rowLayout] of Object.entries(LAYOUTS)) {
          for (const [colName, colLayout] of Object.entries(LAYOUTS)) {
            for (
              const [m, n, k] of [
                [7, 19, 13],
                [13, 37, 300],
                [5, 70, 20],
                [1, 8, 4],
                [1, 37, 300],
                [1, 45, 9],
                [1, 70, 265],
                [2, 19, 13],
                [3, 37, 300],
                [4, 70, 20],
                [1, 9, 700],
                [4, 12, 530],
              ]
            ) {
              const random = mulberry32(seed);
              const rowOffsets = rowLayout(k, random);
              const colOffsets = colLayout(n, random);
              const accumulate = seed % 2 === 0;
              const { indirect, dense, loop } = indirectAndDense(
                dtype,
                m,
                n,
                k,
                rowOffsets,
                colOffsets,
                accumulate,
                seed++,
              );
              const label = `rows ${rowName}, columns ${colName}, ${m}×${n}×${k}`;
              assert.deepEqual(indirect, dense, label);
              const tolerance = dtype === "float32" ? 1e-4 : 1e-12;
              indirect.forEach((value, i) =>
                assert.ok(Math.abs(value - loop[i]) <= tolerance * (1 + k), label)
              );
            }
          }
        }
      });
    });
  }
}

/** A depthwise 3×3 product's tables: taps `shift` apart along a line and `down` apart across
 * lines, and `lines` output lines of `width` columns `stride` apart, `lineStep` apart. */
function stencilTables(
  width: number,
  lines: number,
  lineStep: number,
  shift: number,
  down: number,
  stride = 1,
): { rows: number[]; cols: number[] } {
  const rows = [0, 1, 2].flatMap((r) => [0, 1, 2].map((c) => r * down + c * shift));
  const cols = Array.from(
    { length: lines * width },
    (_, j) => Math.floor(j / width) * lineStep + stride * (j % width),
  );
  return { rows, cols };
}

/** [width, lines, lineStep, shift, down] of stencilTables. */
type StencilCase = [number, number, number, number, number];

/** 3×3 stencil tables (columns `stride` apart along lines) multiplied by the indirect kernels
 * bit for bit as by the GEMM on the gathered B, and within rounding of a loop, with and
 * without promising increasing columns, into C and onto it. */
function checkStencils(
  dtype: WasmGemmDType,
  cases: readonly StencilCase[],
  stride: number,
  seed: number,
): void {
  for (const [width, lines, lineStep, shift, down] of cases) {
    for (const promise of [true, false]) {
      for (const accumulate of [false, true]) {
        const { rows, cols } = stencilTables(width, lines, lineStep, shift, down, stride);
        const { indirect, dense, loop } = indirectAndDense(
          dtype,
          1,
          cols.length,
          9,
          rows,
          cols,
          accumulate,
          seed++,
          promise,
        );
        const label =
          `width ${width} (${stride} apart), ${lines} lines ${lineStep} apart, taps ${shift}/${down}`;
        assert.deepEqual(indirect, dense, label);
        const tolerance = dtype === "float32" ? 1e-5 : 1e-13;
        indirect.forEach((value, i) => assert.ok(Math.abs(value - loop[i]) <= tolerance, label));
      }
    }
  }
}

for (const build of wasmGemmBuilds()) {
  for (const dtype of ["float32", "float64"] as const) {
    Deno.test(`gemmIndirectInMemory() runs 3×3 stencils bit for bit as the GEMM (${build}, ${dtype})`, () => {
      withBuild(build, () => {
        // Three lines at a time with tails of lines and one or two lines left over, dilation
        // along the line, and tables the stencil path must leave to the column kernels (taps
        // two lines apart, lines too short, fewer than three lines); taps mirrored (an input
        // gradient's: rows and shifts backwards, lines forwards, columns from 2·22 + 2 on).
        checkStencils(
          dtype,
          [
            [56, 9, 58, 1, 58],
            [13, 7, 15, 1, 15],
            [8, 5, 12, 2, 12],
            [9, 6, 11, 1, 11],
            [56, 4, 58, 1, 116],
            [7, 6, 9, 1, 9],
            [3, 7, 5, 1, 5],
            [20, 2, 22, 1, 22],
          ],
          1,
          500,
        );
        const mirrored = stencilTables(20, 7, 22, -1, -22);
        const shifted = mirrored.cols.map((col) => col + 2 * 22 + 2);
        const back = indirectAndDense(dtype, 1, 140, 9, mirrored.rows, shifted, false, 10, true);
        assert.deepEqual(back.indirect, back.dense, "mirrored taps");
        back.indirect.forEach((value, i) =>
          assert.ok(Math.abs(value - back.loop[i]) <= (dtype === "float32" ? 1e-5 : 1e-13))
        );
        // Lines one after the other but the last one shifted (three together, one alone),
        // and two images of five lines side by side (three together and two alone each).
        const { rows, cols } = stencilTables(16, 4, 18, 1, 18);
        for (let j = 48; j < 64; j++) cols[j] += 2;
        const { indirect, dense } = indirectAndDense(dtype, 1, 64, 9, rows, cols, false, 7, true);
        assert.deepEqual(indirect, dense, "uneven last line");
        const images = stencilTables(12, 10, 14, 1, 14);
        for (let j = 60; j < 120; j++) images.cols[j] += 100;
        const sides = indirectAndDense(dtype, 1, 120, 9, images.rows, images.cols, true, 8, true);
        assert.deepEqual(sides.indirect, sides.dense, "images side by side");
      });
    });
    Deno.test(`gemmIndirectInMemory() runs stride-2 3×3 stencils bit for bit as the GEMM (${build}, ${dtype})`, () => {
      withBuild(build, () => {
        // Columns two apart along lines (a stride-2 depthwise convolution), lines any distance
        // apart, with tails of lines; and tables the path must leave to the column kernels
        // (lines too short, taps two apart).
        checkStencils(
          dtype,
          [
            [56, 5, 230, 1, 115],
            [13, 4, 58, 1, 29],
            [8, 3, 40, 1, 17],
            [9, 3, 21, 1, 21],
            [5, 4, 24, 1, 12],
            [3, 4, 14, 1, 7],
            [16, 3, 70, 2, 35],
          ],
          2,
          900,
        );
        // The second line's middle column one off: not lines of columns two apart.
        const { rows, cols } = stencilTables(16, 3, 40, 1, 20, 2);
        cols[24] += 1;
        const { indirect, dense } = indirectAndDense(dtype, 1, 48, 9, rows, cols, false, 9);
        assert.deepEqual(indirect, dense, "uneven second line");
      });
    });
  }
}

Deno.test("gemmIndirectInMemory() rejects offset tables outside the memory", () => {
  withWasmScratch(() => {
    const a = wasmScratchReserve("float32", 4);
    const c = wasmScratchReserve("float32", 4);
    const size = wasmMemoryView("int32").length;
    assert.throws(
      () => gemmIndirectInMemory("float32", 2, 2, 2, a, 2, 1, 0, size - 1, 0, c, 2, 1, false),
      (error: Error) => error instanceof RangeError && /rowOffsets/.test(error.message),
    );
  });
});
