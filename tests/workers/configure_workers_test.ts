import assert from "node:assert/strict";
import { configureWorkers, type WorkerOptions } from "@einconv/workers";
import { pool } from "../../workers/_pool.ts";

Deno.test("configureWorkers() sets count and idleTimeout, defaults when left out", () => {
  configureWorkers({ count: 3, idleTimeout: 10 });
  assert.equal(pool.count, 3);
  assert.equal(pool.idleTimeout, 10);
  configureWorkers({ count: 0 });
  assert.equal(pool.count, 0);
  assert.equal(pool.idleTimeout, 250);
  configureWorkers();
  assert.equal(pool.count, navigator.hardwareConcurrency);
  assert.equal(pool.size, 0);
});

Deno.test("configureWorkers() rejects bad options, naming them", () => {
  const cases: [unknown, string, string][] = [
    [{ count: -1 }, "RangeError", "Cannot read count: expected a non-negative integer, got -1"],
    [{ count: 1.5 }, "RangeError", "Cannot read count: expected a non-negative integer, got 1.5"],
    [{ count: "2" }, "TypeError", 'Cannot read count: expected a non-negative integer, got "2"'],
    [
      { idleTimeout: -5 },
      "RangeError",
      "Cannot read idleTimeout: expected a non-negative number of milliseconds, got -5",
    ],
    [
      { idleTimeout: NaN },
      "RangeError",
      "Cannot read idleTimeout: expected a non-negative number of milliseconds, got NaN",
    ],
    [null, "TypeError", "Cannot read options: expected an object, got null"],
  ];
  for (const [options, name, message] of cases) {
    assert.throws(() => configureWorkers(options as WorkerOptions), { name, message });
  }
  assert.equal(pool.count, navigator.hardwareConcurrency);
});
