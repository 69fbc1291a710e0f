import assert from "node:assert/strict";
import {
  outputOffsets,
  paddedGeometry,
  stageImage,
  tapOffsets,
  type TapRule,
} from "../../runtime/_padded_image.ts";
import { wasmMemoryView, wasmScratchReserve, withWasmScratch } from "../../runtime/_wasm_gemm.ts";
import { mulberry32 } from "../_random.ts";

/** The tap rule of a convolution dimension: input `k·dilation + o·stride − padding`. */
function rule(
  inputSize: number,
  kernelSize: number,
  stride: number,
  padding: number,
  dilation: number,
): TapRule {
  const outputSize =
    Math.floor((inputSize + 2 * padding - dilation * (kernelSize - 1) - 1) / stride) +
    1;
  const base = Int32Array.from({ length: kernelSize }, (_, k) => k * dilation - padding);
  return { base, stride, kernelSize, outputSize, inputSize };
}

/** Row-major multi-indices of a shape. */
function* indices(shape: readonly number[]): Generator<number[]> {
  const total = shape.reduce((a, b) => a * b, 1);
  for (let flat = 0; flat < total; flat++) {
    const index: number[] = [];
    let rest = flat;
    for (let d = shape.length - 1; d >= 0; d--) {
      index.unshift(rest % shape[d]);
      rest = Math.floor(rest / shape[d]);
    }
    yield index;
  }
}

const [F32, F64] = ["float32", "float64"] as const;

const GEOMETRIES: Record<string, TapRule[]> = {
  "1-d, padding 2": [rule(11, 5, 1, 2, 1)],
  "2-d, stride 2, dilation 2": [rule(9, 3, 2, 1, 2), rule(7, 3, 2, 1, 2)],
  "3-d, 'same' with an even kernel": [
    rule(4, 2, 1, 0, 1),
    rule(5, 4, 1, 2, 1),
    rule(3, 3, 1, 1, 1),
  ],
};

/** Source layouts of 3 planes: strides of the spatial dimensions and plane offsets. */
function layouts(sizes: number[]): Record<string, { strides: number[]; planes: number[] }> {
  const inputs = sizes.reduce((a, b) => a * b, 1);
  const contiguous = sizes.map((_, d) => sizes.slice(d + 1).reduce((a, b) => a * b, 1));
  return {
    "contiguous planes": { strides: contiguous, planes: [0, inputs, 2 * inputs] },
    "planes with gaps, out of order": {
      strides: contiguous,
      planes: [inputs + 3, 0, 2 * inputs + 9],
    },
    "planes far apart (each compact, not together)": {
      strides: contiguous,
      planes: [5 * inputs, 0, 11 * inputs + 2],
    },
    "every third element": {
      strides: contiguous.map((s) => 3 * s),
      planes: [0, 3 * inputs, 6 * inputs],
    },
    "every other element (a stride-2 view: vectors of even lanes)": {
      strides: contiguous.map((s) => 2 * s),
      planes: [1, 2 * inputs + 1, 4 * inputs + 3],
    },
    "every other line": {
      strides: contiguous.map((s, d) => d === sizes.length - 1 ? s : 2 * s),
      planes: [0, 2 * inputs, 4 * inputs],
    },
    "reversed last dimension": {
      strides: contiguous.map((s, d) => d === sizes.length - 1 ? -s : s),
      planes: [sizes.at(-1)! - 1, inputs + sizes.at(-1)! - 1, 2 * inputs + sizes.at(-1)! - 1],
    },
  };
}

for (const [name, rules] of Object.entries(GEOMETRIES)) {
  Deno.test(`stageImage() pads every layout like a direct loop (${name})`, () => {
    const geometry = paddedGeometry(rules);
    const sizes = rules.map((r) => r.inputSize);
    for (const [layoutName, { strides, planes }] of Object.entries(layouts(sizes))) {
      // Shared sources too: their copies into WASM memory must land word-aligned with them
      // (planes at odd offsets), else V8 copies them byte by byte.
      for (
        const [dtype, shared] of [[F32, false], [F64, false], [F32, true], [F64, true]] as const
      ) {
        const random = mulberry32(5);
        const span = 13 * geometry.inputs + 20;
        const size = (dtype === "float32" ? 4 : 8) * span;
        const buffer = shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size);
        const src = dtype === "float32" ? new Float32Array(buffer) : new Float64Array(buffer);
        src.forEach((_, i) => src[i] = random() + 0.5); // never zero
        const copy = src.slice();
        withWasmScratch(() => {
          const at = wasmScratchReserve(dtype, planes.length * geometry.plane);
          wasmMemoryView(dtype).fill(0, at, at + planes.length * geometry.plane);
          stageImage(dtype, at, geometry, rules, src, planes, strides);
          const heap = wasmMemoryView(dtype);
          const expected = new Array<number>(planes.length * geometry.plane).fill(0);
          planes.forEach((planeAt, p) => {
            for (const index of indices(sizes)) {
              const from = planeAt + index.reduce((sum, i, d) => sum + i * strides[d], 0);
              const to = index.reduce(
                (sum, i, d) => sum + (i + geometry.before[d]) * geometry.strides[d],
                p * geometry.plane,
              );
              expected[to] = src[from];
            }
          });
          const label = `${layoutName}, ${dtype}${shared ? ", shared" : ""}`;
          assert.deepEqual(
            Array.from(heap.subarray(at, at + expected.length)),
            expected,
            label,
          );
          assert.deepEqual(src, copy, `${label}: the source is unchanged`);
          // Every tap of every output reads its input or a zero of the border.
          const taps = tapOffsets(rules, geometry);
          const outputs = outputOffsets(rules, geometry);
          const last = Math.max(...taps) + Math.max(...outputs);
          assert.ok(last < geometry.plane, label);
        });
      }
    }
  });
}
