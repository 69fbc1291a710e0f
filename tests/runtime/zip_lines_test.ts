// zipLinesInMemory: the phases of a strided input gradient along the last dimension
// interleaved into their lines, each input written once, zeros for phases no tap reaches.
import assert from "node:assert/strict";
import {
  wasmGemmBuilds,
  wasmMemoryView,
  wasmScratchReserve,
  withWasmScratch,
  zipLinesInMemory,
} from "../../runtime/_wasm_gemm.ts";
import { mulberry32 } from "../_random.ts";
import { withBuild } from "../_wasm_builds.ts";

/** [planes, line starts, plane size, source lengths (null: zeros)] */
const CASES: [number, number[], number, (number | null)[]][] = [
  [3, [0, 25, 50], 80, [12, 12]],
  [2, [1, 30], 64, [5, 4]],
  [2, [0, 20, 40], 61, [9, null]],
  [4, [3, 33], 70, [null, 7]],
  [1, [0, 40, 80], 120, [3, 3, 2]],
  [2, [2], 40, [4, null, 3]],
  [2, [0, 17], 34, [0, 0]],
];

for (const build of wasmGemmBuilds()) {
  for (const dtype of ["float32", "float64"] as const) {
    Deno.test(`zipLinesInMemory() interleaves sources into their lines (${build}, ${dtype})`, () => {
      withBuild(build, () => {
        const rng = mulberry32(12);
        for (const [planes, starts, planeSize, lengths] of CASES) {
          withWasmScratch(() => {
            const step = lengths.length;
            const lines = starts.length;
            const sources = lengths.map((length) => {
              const n = planes * lines * (length ?? 0);
              const at = length === null ? null : wasmScratchReserve(dtype, n);
              if (at !== null) {
                const heap = wasmMemoryView(dtype);
                for (let i = 0; i < n; i++) heap[at + i] = rng() - 0.5;
              }
              return { at, length: length ?? Math.max(...lengths.map((l) => l ?? 0)) - 1 };
            });
            const to = wasmScratchReserve(dtype, planes * planeSize);
            const startsAt = wasmScratchReserve("int32", lines);
            wasmMemoryView("int32").set(starts, startsAt);
            wasmMemoryView(dtype).fill(7, to, to + planes * planeSize);
            const want = new Array<number>(planes * planeSize).fill(7);
            let heap = wasmMemoryView(dtype);
            for (let p = 0; p < planes; p++) {
              for (let l = 0; l < lines; l++) {
                sources.forEach(({ at, length }, s) => {
                  for (let t = 0; t < length; t++) {
                    want[p * planeSize + starts[l] + step * t + s] = at === null
                      ? 0
                      : heap[at + (p * lines + l) * length + t];
                  }
                });
              }
            }
            zipLinesInMemory(dtype, planes, lines, sources, startsAt, to, planeSize);
            heap = wasmMemoryView(dtype);
            const label = `${planes} planes, lines at ${starts}, lengths ${lengths}`;
            assert.deepEqual(Array.from(heap.subarray(to, to + planes * planeSize)), want, label);
          });
        }
      });
    });
  }
}

Deno.test("zipLinesInMemory() rejects lines that leave the WASM memory", () => {
  withWasmScratch(() => {
    const startsAt = wasmScratchReserve("int32", 1);
    const elements = wasmMemoryView("float32").length;
    assert.throws(
      () =>
        zipLinesInMemory(
          "float32",
          1,
          1,
          [{ at: 0, length: 4 }, { at: null, length: 4 }],
          startsAt,
          elements - 4,
          0,
        ),
      (error: Error) => error instanceof RangeError && /zip lines/.test(error.message),
    );
  });
});
