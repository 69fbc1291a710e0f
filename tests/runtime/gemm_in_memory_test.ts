import assert from "node:assert/strict";
import {
  forceWasmGemmBuild,
  gemmInMemory,
  wasmGemmBlockDepth,
  wasmGemmBuilds,
  type WasmGemmDType,
  wasmMemoryView,
  wasmScratchMark,
  wasmScratchRelease,
  wasmScratchReserve,
  withWasmScratch,
} from "../../runtime/_wasm_gemm.ts";
import { withBuild } from "../_wasm_builds.ts";

/** A seeded PRNG returning floats in [-1, 1) (mulberry32). */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return 2 * (((t ^ (t >>> 14)) >>> 0) / 4294967296) - 1;
  };
}

/** A strided matrix in WASM memory: element (r, c) at `offset + r*rowStride + c*colStride`. */
interface View {
  offset: number;
  rowStride: number;
  colStride: number;
}

/** Reserves a region holding a rows×cols view with the given strides, filled at random. */
function randomView(
  dtype: WasmGemmDType,
  random: () => number,
  rows: number,
  cols: number,
  rowStride: number,
  colStride: number,
): View {
  const down = (rows - 1) * rowStride;
  const across = (cols - 1) * colStride;
  const span = Math.abs(down) + Math.abs(across) + 1;
  const at = wasmScratchReserve(dtype, span);
  const heap = wasmMemoryView(dtype);
  for (let i = 0; i < span; i++) heap[at + i] = random();
  return { offset: at - Math.min(down, 0) - Math.min(across, 0), rowStride, colStride };
}

/** C = A·B (or C += A·B) over views of WASM memory, by a direct loop summed in float64. */
function directProduct(
  dtype: WasmGemmDType,
  m: number,
  n: number,
  k: number,
  a: View,
  b: View,
  c: View,
  accumulate: boolean,
): number[] {
  const heap = wasmMemoryView(dtype);
  const at = (x: View, r: number, col: number) => x.offset + r * x.rowStride + col * x.colStride;
  const result: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = accumulate ? heap[at(c, i, j)] : 0;
      for (let p = 0; p < k; p++) sum += heap[at(a, i, p)] * heap[at(b, p, j)];
      result.push(sum);
    }
  }
  return result;
}

function readView(dtype: WasmGemmDType, m: number, n: number, c: View): number[] {
  const heap = wasmMemoryView(dtype);
  const result: number[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) result.push(heap[c.offset + i * c.rowStride + j * c.colStride]);
  }
  return result;
}

/** Each case: sizes, then the strides of A, B and C (rowStride, colStride). */
const CASES: [m: number, n: number, k: number, strides: number[]][] = [
  [13, 17, 300, [300, 1, 17, 1, 17, 1]], // row-major everywhere, two K blocks, edge tiles
  [13, 17, 30, [1, 13, 1, 30, 1, 13]], // column-major everywhere: C through the edge-tile path
  [9, 10, 11, [-11, 1, 10, -1, -10, 1]], // negative strides
  [7, 8, 9, [0, 1, 1, 0, 8, 1]], // broadcast rows of A and columns of B
  [24, 16, 5, [5, 1, 16, 1, 32, 2]], // full tiles written to C with a column stride of 2
];

for (const build of wasmGemmBuilds()) {
  for (const dtype of ["float32", "float64"] as const) {
    Deno.test(`gemmInMemory() on the ${build} build multiplies ${dtype} views like a loop`, () => {
      withBuild(build, () => checkCases(dtype));
    });
  }
}

/** Runs every case of CASES, overwriting and accumulating, against the direct loop. */
function checkCases(dtype: WasmGemmDType): void {
  const random = mulberry32(1);
  for (const [m, n, k, s] of CASES) {
    for (const accumulate of [false, true]) {
      withWasmScratch(() => {
        const a = randomView(dtype, random, m, k, s[0], s[1]);
        const b = randomView(dtype, random, k, n, s[2], s[3]);
        const c = randomView(dtype, random, m, n, s[4], s[5]);
        const expected = directProduct(dtype, m, n, k, a, b, c, accumulate);
        gemmInMemory(
          dtype,
          m,
          n,
          k,
          a.offset,
          a.rowStride,
          a.colStride,
          b.offset,
          b.rowStride,
          b.colStride,
          c.offset,
          c.rowStride,
          c.colStride,
          accumulate,
        );
        const actual = readView(dtype, m, n, c);
        const tolerance = dtype === "float32" ? 1e-4 : 1e-12;
        actual.forEach((value, i) => {
          if (!(Math.abs(value - expected[i]) <= tolerance)) {
            assert.fail(`${m}×${n}×${k} ${s}: element ${i} is ${value}, expected ${expected[i]}`);
          }
        });
      });
    }
  }
}

for (const dtype of ["float32", "float64"] as const) {
  Deno.test(`gemmInMemory() gives the same ${dtype} bits when K is split at block multiples`, () => {
    const random = mulberry32(2);
    const depth = wasmGemmBlockDepth();
    const [m, n, k] = [11, 19, 3 * depth + 7];
    withWasmScratch(() => {
      const a = randomView(dtype, random, m, k, k, 1);
      const b = randomView(dtype, random, k, n, n, 1);
      const whole = randomView(dtype, random, m, n, n, 1);
      const split = randomView(dtype, random, m, n, n, 1);
      const run = (c: View, p: number, depth: number, accumulate: boolean) =>
        gemmInMemory(
          dtype,
          m,
          n,
          depth,
          a.offset + p,
          k,
          1,
          b.offset + p * n,
          n,
          1,
          c.offset,
          n,
          1,
          accumulate,
        );
      run(whole, 0, k, false);
      run(split, 0, depth, false);
      run(split, depth, 2 * depth, true);
      run(split, 3 * depth, 7, true);
      assert.deepEqual(readView(dtype, m, n, split), readView(dtype, m, n, whole));
    });
  });
}

Deno.test("wasmScratchReserve() grows the memory, keeps contents and offsets, and views follow", () => {
  withWasmScratch(() => {
    const at = wasmScratchReserve("float64", 4);
    const before = wasmMemoryView("float64");
    before.set([1, 2, 3, 4], at);
    const size = before.length;
    const big = wasmScratchReserve("float64", size);
    assert.equal(before.length, 0, "the old view is detached");
    const after = wasmMemoryView("float64");
    assert.ok(after.length >= big + size);
    assert.deepEqual([...after.subarray(at, at + 4)], [1, 2, 3, 4]);
    assert.equal(wasmMemoryView("float32").buffer, after.buffer);
    assert.equal(big % 8, 0, "regions start on a 64-byte boundary");
  });
});

Deno.test("wasmScratchRelease() reuses the released memory, and gemmInMemory() releases its own", () => {
  const mark = wasmScratchMark();
  const first = wasmScratchReserve("float32", 100);
  wasmScratchRelease(mark);
  assert.equal(wasmScratchReserve("float32", 100), first);
  const top = wasmScratchMark();
  gemmInMemory("float32", 2, 2, 2, first, 10, 1, first + 20, 10, 1, first + 40, 10, 1, false);
  assert.equal(wasmScratchMark(), top);
  wasmScratchRelease(mark);
  assert.equal(wasmScratchMark(), mark);
});

Deno.test("gemmInMemory() leaves C alone when m or n is 0 and zeroes it when k is 0", () => {
  withWasmScratch(() => {
    const c = wasmScratchReserve("float64", 4);
    wasmMemoryView("float64").set([1, 2, 3, 4], c);
    gemmInMemory("float64", 0, 2, 3, -1, 0, 0, -1, 0, 0, c, 2, 1, false);
    gemmInMemory("float64", 2, 2, 0, -1, 0, 0, -1, 0, 0, c, 2, 1, true);
    assert.deepEqual([...wasmMemoryView("float64").subarray(c, c + 4)], [1, 2, 3, 4]);
    gemmInMemory("float64", 2, 1, 0, -1, 0, 0, -1, 0, 0, c, 2, 1, false);
    assert.deepEqual([...wasmMemoryView("float64").subarray(c, c + 4)], [0, 2, 0, 4]);
  });
});

Deno.test("gemmInMemory() rejects sizes and views outside WASM memory and names them", () => {
  const elements = wasmMemoryView("float32").length;
  assert.throws(() => gemmInMemory("float32", -1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, false), {
    name: "RangeError",
    message: "Cannot run gemmInMemory: m=-1 is not a non-negative integer",
  });
  assert.throws(() => gemmInMemory("float32", 1, 1, 1, 0.5, 1, 1, 0, 1, 1, 0, 1, 1, false), {
    name: "RangeError",
    message: "Cannot run gemmInMemory: aOffset=0.5 is not an integer",
  });
  assert.throws(
    () => gemmInMemory("float32", 2, 2, 2, 0, 2, 1, 0, 2, -1, 0, 2, 1, false),
    {
      name: "RangeError",
      message:
        `Cannot run gemmInMemory: b as a 2×2 view spans elements -1..2, outside the WASM memory of ${elements}`,
    },
  );
  assert.throws(
    () => gemmInMemory("float32", 2, 2, 2, 0, 2, 1, 0, 2, 1, elements - 3, 2, 1, false),
    {
      name: "RangeError",
      message: `Cannot run gemmInMemory: c as a 2×2 view spans elements ${
        elements - 3
      }..${elements}, outside the WASM memory of ${elements}`,
    },
  );
});

Deno.test("wasmScratchReserve() and wasmScratchRelease() reject bad arguments and name them", () => {
  assert.throws(() => wasmScratchReserve("float32", -1), {
    name: "RangeError",
    message: "Cannot reserve WASM memory: length=-1 is not a non-negative integer",
  });
  const mark = wasmScratchMark();
  assert.throws(() => wasmScratchRelease(mark + 64), {
    name: "RangeError",
    message: new RegExp(
      `^Cannot release WASM memory: mark=${mark + 64} is not between \\d+ and ${mark}$`,
    ),
  });
});

Deno.test("forceWasmGemmBuild() refuses to drop the instance while scratch is reserved", () => {
  withWasmScratch(() => {
    wasmScratchReserve("float32", 1);
    assert.throws(() => forceWasmGemmBuild("baseline"), {
      name: "Error",
      message: "Cannot switch the WASM GEMM build while scratch regions are reserved",
    });
  });
});
