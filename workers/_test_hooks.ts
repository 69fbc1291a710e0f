/**
 * Test-only hooks into the pool. Tests push faults here; the pool attaches each to the
 * next dispatch of the shard it names, and the worker acts it out before computing:
 * `"throw"` throws from the shard's function, `"crash"` kills the worker with an
 * uncaught error and never answers. Tests may also watch the order of dispatches.
 *
 * @module
 */
import type { ShardRequest } from "./_protocol.ts";

/** A failure a worker simulates. */
export type Fault = "throw" | "crash";

/** Faults waiting for a dispatch of shard `shard` (0-based) of any call. */
export const pendingFaults: { shard: number; fault: Fault }[] = [];

/** Called with every shard the pool hands to a worker, in order. */
export const dispatchObserver: { observe?: (request: ShardRequest) => void } = {};

/** Removes and returns the first pending fault for shard `shard`, if any. */
export function takeFault(shard: number): Fault | undefined {
  const at = pendingFaults.findIndex((pending) => pending.shard === shard);
  return at < 0 ? undefined : pendingFaults.splice(at, 1)[0].fault;
}

/** Acts out a fault inside a worker: throws, or returns a Promise that never settles
 * while an uncaught error ends the worker (thrown from a microtask, so that the worker
 * ends before it reads the next message: a shard sent ahead never starts). */
export function actOut(fault: Fault): Promise<never> {
  if (fault === "throw") throw new Error("injected fault");
  return new Promise<never>(() => {
    queueMicrotask(() => {
      throw new Error("injected crash");
    });
  });
}
