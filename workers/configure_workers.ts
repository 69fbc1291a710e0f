import { describeValue } from "@einconv/runtime";
import { DEFAULT_IDLE_TIMEOUT, pool } from "./_pool.ts";

/** Options of {@linkcode configureWorkers}. */
export interface WorkerOptions {
  /** Workers to shard large contractions over (default `navigator.hardwareConcurrency`);
   * 0 runs every call on the calling thread. */
  count?: number;
  /** Milliseconds the pool stays idle before its workers are terminated (default 250),
   * which lets a script exit once its work is done; the next large call starts them
   * again. `Infinity` keeps them until {@linkcode shutdownWorkers}, and then a script
   * exits only after calling it. */
  idleTimeout?: number;
}

/**
 * Configures the worker pool used by the asynchronous `einsum` (and so by everything
 * built on it). Options left out take their defaults. Workers start lazily, on the
 * first call large enough to shard; surplus workers end once idle. Calls already
 * queued keep their shards.
 *
 * Workers load this package's worker module, so they need read permission for it
 * (`--allow-read`); without it every call runs on the calling thread.
 *
 * @param options Number of workers and idle timeout.
 *
 * @example Two workers, then the calling thread only
 * ```ts
 * import assert from "node:assert/strict";
 * import { einsumSync, tensor } from "@einconv/runtime";
 * import { configureWorkers, einsum, shutdownWorkers } from "@einconv/workers";
 *
 * const a = tensor(Float32Array.from({ length: 256 * 256 }, (_, i) => i % 7), {
 *   shape: [256, 256],
 * });
 * configureWorkers({ count: 2 }); // 2·256³ FLOPs: split over 2 workers
 * const pooled = await einsum("ij,jk->ik", a, a);
 * shutdownWorkers();
 * configureWorkers({ count: 0 }); // the calling thread only
 * const local = await einsum("ij,jk->ik", a, a);
 * configureWorkers(); // back to the defaults
 * assert.deepEqual(pooled.data, local.data);
 * assert.deepEqual(local.data, einsumSync("ij,jk->ik", a, a).data);
 * ```
 */
export function configureWorkers(options: WorkerOptions = {}): void {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot read options: expected an object, got ${describeValue(options)}`);
  }
  const { count = navigator.hardwareConcurrency, idleTimeout = DEFAULT_IDLE_TIMEOUT } = options;
  if (typeof count !== "number") {
    throw new TypeError(
      `Cannot read count: expected a non-negative integer, got ${describeValue(count)}`,
    );
  }
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`Cannot read count: expected a non-negative integer, got ${count}`);
  }
  if (typeof idleTimeout !== "number") {
    throw new TypeError(
      `Cannot read idleTimeout: expected a non-negative number of milliseconds, got ${
        describeValue(idleTimeout)
      }`,
    );
  }
  if (!(idleTimeout >= 0)) {
    throw new RangeError(
      `Cannot read idleTimeout: expected a non-negative number of milliseconds, got ${idleTimeout}`,
    );
  }
  pool.idleTimeout = idleTimeout;
  pool.resize(count);
}
