// Convolutions large enough to be sharded, grouped and not: the workers' results equal
// the calling thread's bit for bit and the direct-loop reference within rounding. The
// implicit GEMMs write their blocks straight in the output's order (groups outside the
// batch included), into each shard's slice of the shared result.
import assert from "node:assert/strict";
import { assertAllClose, type NdArray } from "@einconv/runtime";
import { convNd, convNdInputVjp, convNdWeightVjp } from "@einconv/nn";
import { mulberry32, randomFloatTensor } from "../_random.ts";
import {
  referenceConv,
  referenceConvInputVjp,
  referenceConvWeightVjp,
} from "../_reference_conv.ts";
import { dispatchObserver } from "../../workers/_test_hooks.ts";
import { withWorkers } from "./_with_workers.ts";

/** Runs `call`, asserting that the pool ran it in more than one shard. */
async function sharded(call: () => Promise<NdArray>): Promise<NdArray> {
  let shards = 0;
  dispatchObserver.observe = (request) => shards = request.split.boundaries.length - 1;
  try {
    const result = await call();
    assert.ok(shards >= 2, `ran in ${shards} shards`);
    return result;
  } finally {
    dispatchObserver.observe = undefined;
  }
}

Deno.test("one worker computes a large new result in shards, copied out as they finish, and into out in one", async () => {
  const rng = mulberry32(43);
  // 3·10⁸ FLOPs into 2²⁰ elements: three shards when each is copied into new memory as it
  // finishes, one when the result goes into out at the end.
  const x = randomFloatTensor(rng, [8, 16, 64, 64], "float32");
  const w = randomFloatTensor(rng, [32, 16, 3, 3], "float32");
  const options = { padding: 1 };
  const local = await withWorkers(0, () => convNd(x, w, null, options));
  await withWorkers(1, async () => {
    let [shards, runners] = [0, 0];
    dispatchObserver.observe = (request) => {
      shards = request.split.boundaries.length - 1;
      runners++;
    };
    try {
      const fresh = await convNd(x, w, null, options);
      assert.ok(shards > 1, `a new result in ${shards} shards`);
      assert.equal(runners, 1, "one runner takes them all");
      assert.deepEqual(fresh.data, local.data);
      const out = await convNd(x, w, null, { ...options, out: fresh.lo(0).hi(8) });
      assert.equal(shards, 1, "into out");
      assert.deepEqual(out.data, local.data);
    } finally {
      dispatchObserver.observe = undefined;
    }
  });
});

for (const groups of [1, 4]) {
  Deno.test(`sharded convolution, input and weight gradients equal the calling thread's (groups ${groups})`, async () => {
    const rng = mulberry32(31 + groups);
    // Above the 10⁷ FLOPs that are worth sharding: 3.3·10⁷ each.
    const channels = groups === 1 ? 32 : 64;
    const x = randomFloatTensor(rng, [8, channels, 30, 30], "float32");
    const w = randomFloatTensor(rng, [channels, channels / groups, 3, 3], "float32");
    const options = { padding: 2, stride: 2, dilation: 2, groups };
    const y = await convNd(x, w, null, options);
    const dy = randomFloatTensor(rng, y.shape, "float32");
    const local = {
      y,
      dx: await convNdInputVjp(w, dy, [30, 30], options),
      dw: await convNdWeightVjp(x, dy, [3, 3], options),
    };
    assertAllClose(local.y, referenceConv(x, w, null, options), { rtol: 1e-5 });
    assertAllClose(local.dx, referenceConvInputVjp(w, dy, [30, 30], options), { rtol: 1e-5 });
    assertAllClose(local.dw, referenceConvWeightVjp(x, dy, [3, 3], options), { rtol: 1e-5 });
    await withWorkers(2, async () => {
      const pooled = {
        y: await sharded(() => convNd(x, w, null, options)),
        dx: await sharded(() => convNdInputVjp(w, dy, [30, 30], options)),
        dw: await sharded(() => convNdWeightVjp(x, dy, [3, 3], options)),
      };
      for (const key of ["y", "dx", "dw"] as const) {
        assert.deepEqual(pooled[key].shape, local[key].shape, key);
        assert.deepEqual(pooled[key].data, local[key].data, key);
      }
    });
  });
}
