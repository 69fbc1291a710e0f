import { configureWorkers, shutdownWorkers } from "@einconv/workers";

/**
 * Runs `body` with a pool of `count` workers, then shuts the pool down and restores the
 * default configuration, so that Deno's sanitizers find no worker or timer left.
 *
 * @param count Workers of the pool.
 * @param body The test's body.
 * @returns What `body` resolves to.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withWorkers } from "./_with_workers.ts";
 *
 * assert.equal(await withWorkers(2, () => Promise.resolve(7)), 7);
 * ```
 */
export async function withWorkers<T>(count: number, body: () => Promise<T>): Promise<T> {
  configureWorkers({ count });
  try {
    return await body();
  } finally {
    shutdownWorkers();
    configureWorkers();
  }
}
