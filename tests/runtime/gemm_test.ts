import assert from "node:assert/strict";
import { gemm, type GemmOptions, type StridedMatrix } from "../../runtime/gemm.ts";
import { gemmReference } from "../../runtime/gemm_reference.ts";
import {
  gemmInMemory,
  wasmGemmBuild,
  wasmGemmBuilds,
  wasmMemoryView,
  wasmScratchReserve,
  withWasmScratch,
} from "../../runtime/_wasm_gemm.ts";
import { withBuild } from "../_wasm_builds.ts";
import { BASELINE_GEMM_WASM, RELAXED_GEMM_WASM } from "../../runtime/_gemm_wasm.ts";

type FloatArrayType = typeof Float32Array | typeof Float64Array;

/** How a view lays a rows×cols matrix out in its data. */
type Layout =
  | "rowMajor" // C order
  | "colMajor" // Fortran order: a transposed operand
  | "padded" // offset 5, rows 3 elements apart more than needed
  | "interleaved" // every other element, from offset 1
  | "flipped" // rows in reverse order (negative rowStride)
  | "mirrored" // columns in reverse order (negative colStride)
  | "rowBroadcast" // one row repeated (rowStride 0)
  | "colBroadcast" // one column repeated (colStride 0)
  | "sparse" // every third element of every other row: gathered, not copied with its span
  | "scalar"; // one element repeated (both strides 0)

interface Case {
  m: number;
  n: number;
  k: number;
  layouts?: [Layout, Layout, Layout];
  accumulate?: boolean;
}

/** Hand-picked shapes: each comment says what it varies. */
const CASES: Case[] = [
  { m: 1, n: 1, k: 1 }, // smallest product
  { m: 4, n: 3, k: 2 }, // exactly one micro-tile
  { m: 5, n: 4, k: 3 }, // one full tile plus edge tiles in both directions
  { m: 3, n: 2, k: 7 }, // smaller than one tile
  { m: 1, n: 37, k: 9 }, // a row vector times a matrix
  { m: 37, n: 1, k: 9 }, // a matrix times a column vector
  { m: 8, n: 6, k: 1 }, // outer product
  { m: 95, n: 97, k: 255 }, // just under / over the MC and KC blocks
  { m: 97, n: 96, k: 257 }, // one past MC and KC
  { m: 300, n: 270, k: 530 }, // several blocks over M and K, with edges
  { m: 5, n: 3100, k: 300 }, // two blocks over N
  { m: 193, n: 62, k: 513, accumulate: true }, // accumulate over several K blocks
  { m: 64, n: 64, k: 64, layouts: ["colMajor", "colMajor", "colMajor"] }, // (Bᵀ·Aᵀ)ᵀ
  { m: 130, n: 40, k: 300, layouts: ["mirrored", "flipped", "flipped"] }, // negative strides
  { m: 3, n: 3080, k: 260, layouts: ["colMajor", "mirrored", "mirrored"] }, // the same over N
  { m: 50, n: 40, k: 30, layouts: ["rowBroadcast", "colBroadcast", "interleaved"] }, // broadcasts
  { m: 9, n: 11, k: 13, layouts: ["scalar", "scalar", "mirrored"], accumulate: true }, // ones
  { m: 20, n: 30, k: 270, layouts: ["interleaved", "flipped", "colMajor"] }, // permuted views
  { m: 70, n: 45, k: 300, layouts: ["sparse", "sparse", "sparse"] }, // gathered operands and C
  { m: 6, n: 8, k: 5 }, // exactly one float32 micro-tile of the relaxed build
  { m: 5, n: 4, k: 257 }, // exactly one float64 micro-tile of the baseline build, two K blocks
  { m: 30, n: 24, k: 259, layouts: ["rowMajor", "colMajor", "padded"] }, // transposed packing
  { m: 31, n: 26, k: 262, layouts: ["colMajor", "rowMajor", "rowMajor"] }, // column copies, edges
  { m: 241, n: 2049, k: 17 }, // one past the float32 M and N blocks
  { m: 121, n: 1025, k: 3, layouts: ["colMajor", "rowMajor", "mirrored"] }, // the float64 ones
];

const LAYOUTS: Layout[] = [
  "rowMajor",
  "colMajor",
  "padded",
  "interleaved",
  "flipped",
  "mirrored",
  "rowBroadcast",
  "colBroadcast",
  "scalar",
  "sparse",
];
/** Layouts for C, whose elements must not share storage. */
const OUTPUT_LAYOUTS: Layout[] = [...LAYOUTS.slice(0, 6), "sparse"];

/** A seeded PRNG returning floats in [0, 1) (mulberry32). */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random rows×cols view with the given layout, values in [-1, 1). */
function randomMatrix(
  random: () => number,
  Type: FloatArrayType,
  layout: Layout,
  rows: number,
  cols: number,
): StridedMatrix {
  const views: Record<Layout, [offset: number, rowStride: number, colStride: number]> = {
    rowMajor: [0, cols, 1],
    colMajor: [0, 1, rows],
    padded: [5, cols + 3, 1],
    interleaved: [1, 2 * cols, 2],
    flipped: [(rows - 1) * cols, -cols, 1],
    mirrored: [cols - 1, cols, -1],
    rowBroadcast: [0, 0, 1],
    colBroadcast: [0, 1, 0],
    scalar: [0, 0, 0],
    sparse: [3, 6 * cols + 5, 3],
  };
  const [offset, rowStride, colStride] = views[layout];
  const last = offset + Math.max(0, (rows - 1) * rowStride) + Math.max(0, (cols - 1) * colStride);
  const data = new Type(last + 4);
  for (let i = 0; i < data.length; i++) data[i] = 2 * random() - 1;
  return { data, offset, rowStride, colStride };
}

/** The direct triple loop: C = A·B, or C += A·B, summed in float64. */
function referenceGemm(
  m: number,
  n: number,
  k: number,
  a: StridedMatrix,
  b: StridedMatrix,
  c: StridedMatrix,
  accumulate: boolean,
): void {
  const at = (x: StridedMatrix, r: number, col: number) =>
    x.offset + r * x.rowStride + col * x.colStride;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = accumulate ? c.data[at(c, i, j)] : 0;
      for (let p = 0; p < k; p++) sum += a.data[at(a, i, p)] * b.data[at(b, p, j)];
      c.data[at(c, i, j)] = sum;
    }
  }
}

type Gemm = (
  m: number,
  n: number,
  k: number,
  a: StridedMatrix,
  b: StridedMatrix,
  c: StridedMatrix,
  options?: GemmOptions,
) => void;

/** Runs `product` and the direct loop on the same case, and compares all of C's data. */
function checkCase(
  product: Gemm,
  random: () => number,
  Type: FloatArrayType,
  { m, n, k, layouts = ["rowMajor", "rowMajor", "rowMajor"], accumulate = false }: Case,
): void {
  const a = randomMatrix(random, Type, layouts[0], m, k);
  const b = randomMatrix(random, Type, layouts[1], k, n);
  const c = randomMatrix(random, Type, layouts[2], m, n);
  const aBefore = a.data.slice();
  const bBefore = b.data.slice();
  const expected = { ...c, data: c.data.slice() };
  referenceGemm(m, n, k, a, b, expected, accumulate);
  product(m, n, k, a, b, c, { accumulate });
  const label = `${Type.name} ${m}×${n}×${k} ${layouts.join("/")} accumulate=${accumulate}`;
  assert.deepEqual(a.data, aBefore, `${label}: a changed`);
  assert.deepEqual(b.data, bBefore, `${label}: b changed`);
  let scale = 1;
  for (const value of expected.data) scale = Math.max(scale, Math.abs(value));
  const tolerance = (Type === Float32Array ? 1e-5 : 1e-12) * scale;
  for (let i = 0; i < c.data.length; i++) {
    const error = Math.abs(c.data[i] - expected.data[i]);
    if (!(error <= tolerance)) {
      assert.fail(`${label}: data[${i}] is ${c.data[i]}, expected ${expected.data[i]}`);
    }
  }
}

/** A random case: sizes up to 40 (sometimes 0), random layouts and accumulate. */
function randomCase(random: () => number): Case {
  const size = () => random() < 0.1 ? 0 : 1 + Math.floor(random() * 40);
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  return {
    m: size(),
    n: size(),
    k: size(),
    layouts: [pick(LAYOUTS), pick(LAYOUTS), pick(OUTPUT_LAYOUTS)],
    accumulate: random() < 0.5,
  };
}

/** The builds of the WASM kernels that this engine runs: relaxed SIMD if it validates. */
const BUILDS = wasmGemmBuilds();

/** The products under test: gemm on each build, and the TypeScript reference. */
const PRODUCTS: [name: string, run: (fn: () => void) => void, product: Gemm][] = [
  ...BUILDS.map((build): [string, (fn: () => void) => void, Gemm] => [
    `gemm() on the ${build} build`,
    (fn) => withBuild(build, fn),
    gemm,
  ]),
  ["gemmReference()", (fn) => fn(), gemmReference],
];

for (const [name, run, product] of PRODUCTS) {
  for (const Type of [Float64Array, Float32Array]) {
    Deno.test(`${name} matches a direct loop on hand-picked ${Type.name} cases`, () => {
      run(() => {
        const random = mulberry32(1);
        for (const item of CASES) {
          checkCase(product, random, Type, item);
          checkCase(product, random, Type, { ...item, accumulate: !item.accumulate });
        }
      });
    });

    Deno.test(`${name} matches a direct loop on random ${Type.name} shapes and views`, () => {
      run(() => {
        const random = mulberry32(2);
        for (let i = 0; i < 300; i++) checkCase(product, random, Type, randomCase(random));
      });
    });
  }
}

Deno.test("gemm() runs the relaxed build exactly when the engine validates relaxed SIMD", () => {
  const decode = (text: string) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  const relaxed = WebAssembly.validate(decode(RELAXED_GEMM_WASM));
  assert.equal(WebAssembly.validate(decode(BASELINE_GEMM_WASM)), true);
  assert.deepEqual(BUILDS, relaxed ? ["relaxed", "baseline"] : ["baseline"]);
  assert.equal(wasmGemmBuild(), BUILDS[0]);
});

Deno.test("gemm() and gemmReference() agree on larger products", () => {
  const random = mulberry32(3);
  const shapes = [
    [512, 384, 700],
    [1000, 3, 2000],
    [3, 700, 1500],
    [250, 260, 1],
    [2100, 2100, 3], // more than gemm's scratch block: two blocks over M
    [2, 4200, 1000], // two blocks over N
  ];
  for (const Type of [Float64Array, Float32Array]) {
    for (const [m, n, k] of shapes) {
      const a = randomMatrix(random, Type, "rowMajor", m, k);
      const b = randomMatrix(random, Type, "colMajor", k, n);
      const c = randomMatrix(random, Type, "rowMajor", m, n);
      const expected = { ...c, data: c.data.slice() };
      gemmReference(m, n, k, a, b, expected);
      gemm(m, n, k, a, b, c);
      const tolerance = (Type === Float32Array ? 2e-6 : 1e-14) * k;
      for (let i = 0; i < c.data.length; i++) {
        if (!(Math.abs(c.data[i] - expected.data[i]) <= tolerance)) {
          assert.fail(
            `${Type.name} ${m}×${n}×${k}: data[${i}] is ${c.data[i]}, expected ${expected.data[i]}`,
          );
        }
      }
    }
  }
});

/** The view of `x` whose element (0, 0) is `x`'s element (row, col). */
function block(x: StridedMatrix, row: number, col: number): StridedMatrix {
  return { ...x, offset: x.offset + row * x.rowStride + col * x.colStride };
}

for (const build of BUILDS) {
  Deno.test(`gemm() on the ${build} build gives the same bits when C is computed in pieces`, () => {
    withBuild(build, () => {
      const random = mulberry32(4);
      const [m, n, k] = [61, 83, 600];
      const rowCuts = [0, 1, 7, 30, 61];
      const colCuts = [0, 9, 40, 41, 83];
      for (const Type of [Float64Array, Float32Array]) {
        for (const accumulate of [false, true]) {
          const a = randomMatrix(random, Type, "rowMajor", m, k);
          const b = randomMatrix(random, Type, "flipped", k, n);
          const whole = randomMatrix(random, Type, "rowMajor", m, n);
          const pieces = { ...whole, data: whole.data.slice() };
          const transposed = randomMatrix(random, Type, "colMajor", m, n);
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) transposed.data[i + j * m] = whole.data[i * n + j];
          }
          gemm(m, n, k, a, b, whole, { accumulate });
          gemm(m, n, k, a, b, transposed, { accumulate });
          for (let r = 0; r + 1 < rowCuts.length; r++) {
            for (let q = 0; q + 1 < colCuts.length; q++) {
              const [i, j] = [rowCuts[r], colCuts[q]];
              gemm(
                rowCuts[r + 1] - i,
                colCuts[q + 1] - j,
                k,
                block(a, i, 0),
                block(b, 0, j),
                block(pieces, i, j),
                { accumulate },
              );
            }
          }
          const label = `${Type.name} accumulate=${accumulate}`;
          assert.deepEqual(pieces.data, whole.data, `${label}: pieces differ`);
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              if (!Object.is(transposed.data[i + j * m], whole.data[i * n + j])) {
                assert.fail(`${label}: a column-major C differs at (${i}, ${j})`);
              }
            }
          }
        }
      }
    });
  });
}

Deno.test("gemm() splits a product too large for one scratch block over K without changing bits", () => {
  // 2×3×k in float32 needs 5k + 6 > 2^22 elements of scratch: gemm runs it in two K blocks.
  const [m, n, k] = [2, 3, (1 << 20) + 300];
  const random = mulberry32(5);
  const a = randomMatrix(random, Float32Array, "rowMajor", m, k);
  const b = randomMatrix(random, Float32Array, "rowMajor", k, n);
  const c = randomMatrix(random, Float32Array, "rowMajor", m, n);
  gemm(m, n, k, a, b, c);
  withWasmScratch(() => {
    const aAt = wasmScratchReserve("float32", m * k);
    const bAt = wasmScratchReserve("float32", k * n);
    const cAt = wasmScratchReserve("float32", m * n);
    wasmMemoryView("float32").set(a.data.subarray(0, m * k), aAt);
    wasmMemoryView("float32").set(b.data.subarray(0, k * n), bAt);
    gemmInMemory("float32", m, n, k, aAt, k, 1, bAt, n, 1, cAt, n, 1, false);
    assert.deepEqual(c.data.subarray(0, m * n), wasmMemoryView("float32").slice(cAt, cAt + m * n));
  });
});

Deno.test("gemm() sets C to zero when k is 0, or leaves it with accumulate", () => {
  const empty = { data: new Float64Array(0), offset: 0, rowStride: 0, colStride: 0 };
  const c = {
    data: new Float64Array([1, 2, 3, 4, 5, 6, 7]),
    offset: 1,
    rowStride: 3,
    colStride: 1,
  };
  gemm(2, 2, 0, empty, empty, c, { accumulate: true });
  assert.deepEqual([...c.data], [1, 2, 3, 4, 5, 6, 7]);
  gemm(2, 2, 0, empty, empty, c);
  assert.deepEqual([...c.data], [1, 0, 0, 4, 0, 0, 7]);
});

Deno.test("gemm() does nothing when m or n is 0", () => {
  const empty = { data: new Float32Array(0), offset: 0, rowStride: 0, colStride: 0 };
  const x = { data: new Float32Array([1, 2, 3]), offset: 0, rowStride: 1, colStride: 1 };
  gemm(0, 3, 1, empty, x, empty);
  gemm(3, 0, 1, x, empty, empty);
  assert.deepEqual([...x.data], [1, 2, 3]);
});

Deno.test("gemm() overwrites C without reading it", () => {
  const ones = { data: new Float64Array([1, 1]), offset: 0, rowStride: 1, colStride: 1 };
  const c = { data: new Float64Array([NaN]), offset: 0, rowStride: 1, colStride: 1 };
  gemm(1, 1, 2, ones, ones, c);
  assert.deepEqual([...c.data], [2]);
});

Deno.test("gemm() rejects sizes that are not non-negative integers and names them", () => {
  const x = { data: new Float64Array(4), offset: 0, rowStride: 2, colStride: 1 };
  assert.throws(() => gemm(-1, 2, 2, x, x, x), {
    name: "RangeError",
    message: "Cannot run gemm: m=-1 is not a non-negative integer",
  });
  assert.throws(() => gemm(2, 1.5, 2, x, x, x), {
    name: "RangeError",
    message: "Cannot run gemm: n=1.5 is not a non-negative integer",
  });
  assert.throws(() => gemm(2, 2, "2" as unknown as number, x, x, x), {
    name: "TypeError",
    message: 'Cannot run gemm: k="2" is not a non-negative integer',
  });
});

Deno.test("gemm() rejects views that are not float strided matrices and names them", () => {
  const x = { data: new Float64Array(4), offset: 0, rowStride: 2, colStride: 1 };
  assert.throws(() => gemm(2, 2, 2, null as unknown as StridedMatrix, x, x), {
    name: "TypeError",
    message: "Cannot run gemm: expected a to be a strided matrix, got null",
  });
  const ints = { ...x, data: new Int32Array(4) as unknown as Float64Array };
  assert.throws(() => gemm(2, 2, 2, x, ints, x), {
    name: "TypeError",
    message: "Cannot run gemm: b.data=a Int32Array is not a Float32Array or a Float64Array",
  });
  assert.throws(() => gemm(2, 2, 2, x, x, { ...x, rowStride: 0.5 }), {
    name: "RangeError",
    message: "Cannot run gemm: c.rowStride=0.5 is not an integer",
  });
  assert.throws(() => gemm(2, 2, 2, { ...x, offset: undefined as unknown as number }, x, x), {
    name: "TypeError",
    message: "Cannot run gemm: a.offset=undefined is not an integer",
  });
});

Deno.test("gemm() rejects mixed element types and names them", () => {
  const x = { data: new Float64Array(4), offset: 0, rowStride: 2, colStride: 1 };
  const y = { ...x, data: new Float32Array(4) };
  assert.throws(() => gemm(2, 2, 2, x, y, x), {
    name: "TypeError",
    message:
      "Cannot run gemm: a, b and c must have one element type, got Float64Array, Float32Array and Float64Array",
  });
});

Deno.test("gemm() rejects views reaching outside their data and names them", () => {
  const x = { data: new Float64Array(4), offset: 0, rowStride: 2, colStride: 1 };
  assert.throws(() => gemm(2, 2, 2, x, x, { ...x, offset: 1 }), {
    name: "RangeError",
    message: "Cannot run gemm: c as a 2×2 view spans indices 1..4, outside its data of length 4",
  });
  assert.throws(() => gemm(2, 3, 2, x, { ...x, colStride: -1 }, x), {
    name: "RangeError",
    message: "Cannot run gemm: b as a 2×3 view spans indices -2..2, outside its data of length 4",
  });
});

Deno.test("gemm() rejects a non-boolean accumulate option", () => {
  const x = { data: new Float64Array(4), offset: 0, rowStride: 2, colStride: 1 };
  assert.throws(() => gemm(2, 2, 2, x, x, x, { accumulate: 1 as unknown as boolean }), {
    name: "TypeError",
    message: "Cannot run gemm: options.accumulate=1 is not a boolean",
  });
});
