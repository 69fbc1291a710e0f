// The pool behind einsum(): first come first served, idle workers ending by themselves,
// and faults injected through the test-only hooks in workers/_test_hooks.ts.
import assert from "node:assert/strict";
import { einsumSync, tensor } from "@einconv/runtime";
import { configureWorkers, einsum, shutdownWorkers } from "@einconv/workers";
import { dispatchObserver, pendingFaults } from "../../workers/_test_hooks.ts";
import { pool } from "../../workers/_pool.ts";
import { mulberry32, randomTensor } from "../_random.ts";
import { withWorkers } from "./_with_workers.ts";

/** 1.7e7 FLOPs: two shards along b, [0, 2) and [2, 4), on two workers. */
const EQUATION = "bij,bjk->bik";
const rng = mulberry32(21);
const a = randomTensor(rng, [4, 128, 128], "float32");
const b = randomTensor(rng, [4, 128, 128], "float32");
const expected = einsumSync(EQUATION, a, b);

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("the pool hands out queued calls first come, first served", async () => {
  // Call `at` multiplies a copy of `a` whose first element is `at`, which names the call
  // in the dispatch log.
  const operands = Array.from({ length: 12 }, (_, at) => {
    const marked = tensor(a.data, { shape: a.shape });
    marked.data[0] = at;
    return marked;
  });
  const dispatched: number[] = [];
  dispatchObserver.observe = (request) => dispatched.push(request.operands[0].data[0]);
  try {
    await withWorkers(2, async () => {
      const calls = operands.map((x) => einsum(EQUATION, x, b));
      const results = await Promise.all(calls);
      results.forEach((c, at) => {
        assert.deepEqual(c.data, einsumSync(EQUATION, operands[at], b).data);
      });
      assert.equal(pool.size, 2);
    });
  } finally {
    delete dispatchObserver.observe;
  }
  // Each call's runners go out in the order of the calls; a call done by its first runner
  // before a worker comes free for its second drops the second.
  assert.deepEqual(dispatched, [...dispatched].sort((x, y) => x - y));
  assert.deepEqual([...new Set(dispatched)], operands.map((_, at) => at));
  assert.ok(dispatched.length <= 2 * operands.length);
});

Deno.test("the pool ends idle workers after idleTimeout and starts them again", async () => {
  await withWorkers(2, async () => {
    configureWorkers({ count: 2, idleTimeout: 30 });
    await einsum(EQUATION, a, b);
    assert.equal(pool.size, 2);
    await delay(150);
    assert.equal(pool.size, 0);
    assert.deepEqual((await einsum(EQUATION, a, b)).data, expected.data);
    configureWorkers({ count: 2, idleTimeout: Infinity });
    await einsum(EQUATION, a, b);
    await delay(150);
    assert.equal(pool.size, 2);
    configureWorkers({ count: 1, idleTimeout: Infinity });
    assert.equal(pool.size, 1);
  });
});

Deno.test("a shard that throws rejects its call, naming the shard and the reason", async () => {
  await withWorkers(2, async () => {
    pendingFaults.push({ shard: 1, fault: "throw" });
    await assert.rejects(einsum(EQUATION, a, b), {
      name: "Error",
      message: 'Cannot finish einsum: shard 2 of 2 ("b" in [2, 4)) failed: injected fault',
    });
    assert.deepEqual((await einsum(EQUATION, a, b)).data, expected.data);
  });
});

Deno.test("a worker that dies is replaced and its shard runs once more", async () => {
  await withWorkers(2, async () => {
    pendingFaults.push({ shard: 0, fault: "crash" });
    assert.deepEqual((await einsum(EQUATION, a, b)).data, expected.data);
    assert.equal(pendingFaults.length, 0);
    assert.ok(pool.size <= 2);
  });
});

Deno.test("a shard whose worker dies twice rejects its call", async () => {
  await withWorkers(2, async () => {
    pendingFaults.push({ shard: 0, fault: "crash" }, { shard: 0, fault: "crash" });
    await assert.rejects(einsum(EQUATION, a, b), {
      name: "Error",
      message:
        /^Cannot finish einsum: shard 1 of 2 \("b" in \[0, 2\)\) failed: its worker died twice \(.*injected crash\)$/,
    });
    assert.deepEqual((await einsum(EQUATION, a, b)).data, expected.data);
  });
});

Deno.test("shutdownWorkers() rejects running and queued calls, and the pool starts again", async () => {
  await withWorkers(1, async () => {
    const calls = [einsum(EQUATION, a, b), einsum(EQUATION, a, b)];
    shutdownWorkers();
    assert.equal(pool.size, 0);
    for (const call of calls) {
      await assert.rejects(call, { message: /cancelled by shutdownWorkers\(\)$/ });
    }
    assert.deepEqual((await einsum(EQUATION, a, b)).data, expected.data);
  });
});

Deno.test("calls reject, not hang, when no worker can start", async () => {
  const workerUrl = pool.workerUrl;
  pool.workerUrl = new URL("./_no_such_worker.ts", import.meta.url);
  try {
    await withWorkers(2, async () => {
      await assert.rejects(einsum(EQUATION, a, b), {
        name: "Error",
        message:
          /^Cannot finish einsum: shard 1 of 2 \("b" in \[0, 2\)\) failed: no worker could start \(.+\)$/s,
      });
    });
  } finally {
    pool.workerUrl = workerUrl;
  }
  await withWorkers(2, async () => {
    assert.deepEqual((await einsum(EQUATION, a, b)).data, expected.data);
  });
});

Deno.test("a worker that dies mid-call: its shard runs again, the others once, one death counted", async () => {
  // 5.2e8 FLOPs: 6 shards along b for 2 workers, taken from the call's board.
  const rng = mulberry32(22);
  const x = randomTensor(rng, [8, 320, 320], "float32");
  const y = randomTensor(rng, [8, 320, 320], "float32");
  const want = einsumSync(EQUATION, x, y);
  const runs: (number | undefined)[] = [];
  dispatchObserver.observe = (request) => runs.push(request.rerun);
  try {
    await withWorkers(2, async () => {
      assert.deepEqual((await einsum(EQUATION, x, y)).data, want.data);
      // One runner per worker (the second dropped if the first took every shard before the
      // second worker had started).
      assert.ok(runs.length >= 1 && runs.length <= 2 && runs.every((r) => r === undefined));
      // Shard 2's worker dies once: a new worker runs shard 2 again (a lost shard would
      // leave the call pending, failing the test), and the call succeeds.
      pendingFaults.push({ shard: 2, fault: "crash" });
      runs.length = 0;
      assert.deepEqual((await einsum(EQUATION, x, y)).data, want.data);
      assert.equal(pendingFaults.length, 0);
      assert.deepEqual(runs.filter((r) => r !== undefined), [2], "shard 2 alone runs again");
      assert.ok(runs.length <= 3, `${runs.length} runners`);
    });
  } finally {
    delete dispatchObserver.observe;
  }
});
