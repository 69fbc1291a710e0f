// A KFC of one tensor with itself on workers: split along its rows into bands of even work
// whose shards compute only the entries on and above the diagonal, mirrored once all are
// done; bit for bit the calling thread's, into a new array and into out.
import assert from "node:assert/strict";
import { type NdArray, zeros } from "@einconv/runtime";
import { kfc } from "@einconv/nn";
import { dispatchObserver } from "../../workers/_test_hooks.ts";
import type { RunnerRequest } from "../../workers/_protocol.ts";
import { mulberry32, randomFloatTensor } from "../_random.ts";
import { withWorkers } from "./_with_workers.ts";

/** Runs `call` and returns its result with the requests the pool dispatched for it. */
async function observed(
  call: () => Promise<NdArray>,
): Promise<{ result: NdArray; requests: RunnerRequest[] }> {
  const requests: RunnerRequest[] = [];
  dispatchObserver.observe = (request) => requests.push(request);
  try {
    return { result: await call(), requests };
  } finally {
    dispatchObserver.observe = undefined;
  }
}

for (const dtype of ["float32", "float64"] as const) {
  Deno.test(`kfc() on workers computes upper triangles in shards of even work (${dtype})`, async () => {
    const rng = mulberry32(dtype === "float32" ? 61 : 62);
    // 8.5·10⁷ FLOPs: sharded along the 16 channels of a 144×144 factor.
    const x = randomFloatTensor(rng, [8, 16, 16, 16], dtype);
    const options = { padding: 1, stride: [1, 2] };
    const local = await withWorkers(0, () => kfc(x, 3, options));
    await withWorkers(2, async () => {
      const { result, requests } = await observed(() => kfc(x, 3, options));
      assert.ok(requests.length >= 1 && requests.length <= 2, "at most one runner per worker");
      assert.ok(requests.every((request) => request.upperTriangle === true));
      // Bands of rows: the first narrower (more columns right of its diagonal).
      const { boundaries } = requests[0].split;
      assert.ok(boundaries.length >= 3, `${boundaries.length - 1} shards`);
      const widths = boundaries.slice(1).map((end, s) => end - boundaries[s]);
      assert.ok(widths[0] < widths.at(-1)!, `bands ${widths}`);
      assert.deepEqual(result.data, local.data);
      const out = zeros(local.shape, dtype);
      out.data.fill(Number.NaN);
      assert.equal(await kfc(x, 3, { ...options, out }), out);
      assert.deepEqual(out.data, local.data);
    });
  });
}

Deno.test("a grouped kfc() on workers splits its groups, each factor symmetric whole", async () => {
  const rng = mulberry32(63);
  const x = randomFloatTensor(rng, [8, 32, 12, 12], "float32");
  const options = { padding: 1, groups: 2 };
  const local = await withWorkers(0, () => kfc(x, 3, options));
  await withWorkers(2, async () => {
    const { result, requests } = await observed(() => kfc(x, 3, options));
    assert.ok(requests[0].split.boundaries.length >= 3, "sharded");
    assert.deepEqual(result.data, local.data);
  });
});
