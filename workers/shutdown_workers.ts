import { pool } from "./_pool.ts";

/**
 * Terminates the pool's workers now. Calls still queued or running on them reject with
 * an `Error` naming the shard that was cancelled. The configuration stays: a later
 * large call starts workers again.
 *
 * Scripts need not call it (an idle pool ends its workers by itself); tests that use
 * the pool call it at their end so that Deno's sanitizers find nothing running.
 *
 * @example Cancelling a running call
 * ```ts
 * import assert from "node:assert/strict";
 * import { zeros } from "@einconv/runtime";
 * import { configureWorkers, einsum, shutdownWorkers } from "@einconv/workers";
 *
 * configureWorkers({ count: 1 });
 * const a = zeros([512, 512], "float32");
 * const pending = einsum("ij,jk->ik", a, a);
 * shutdownWorkers();
 * configureWorkers();
 * await assert.rejects(pending, { message: /cancelled by shutdownWorkers\(\)$/ });
 * ```
 */
export function shutdownWorkers(): void {
  pool.shutdown();
}
