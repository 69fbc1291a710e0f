/**
 * Test-only hooks into the pool. Tests push faults here; when the pool hands a call's
 * runner to a worker, it moves the faults pending for that call's shards onto the call's
 * shared fault list (one per shard at a time), and whichever worker takes the shard acts
 * it out before computing: `"throw"` throws from the shard, `"crash"` kills the worker
 * with an uncaught error and never answers. Tests may also watch the runners handed out.
 *
 * @module
 */
import type { RunnerRequest } from "./_protocol.ts";

/** A failure a worker simulates. */
export type Fault = "throw" | "crash";

const FAULTS: Fault[] = ["throw", "crash"];

/** Faults waiting for shard `shard` (0-based) of any call. */
export const pendingFaults: { shard: number; fault: Fault }[] = [];

/** Called with every runner the pool hands to a worker, in order. */
export const dispatchObserver: { observe?: (request: RunnerRequest) => void } = {};

/** A call's shared fault list for `count` shards, or undefined while no fault is pending. */
export function faultList(count: number, list?: Int32Array): Int32Array | undefined {
  if (pendingFaults.length === 0) return list;
  const faults = list ?? new Int32Array(new SharedArrayBuffer(4 * count));
  for (let shard = 0; shard < count; shard++) {
    const at = pendingFaults.findIndex((pending) => pending.shard === shard);
    if (at >= 0 && Atomics.load(faults, shard) === 0) {
      Atomics.store(faults, shard, 1 + FAULTS.indexOf(pendingFaults.splice(at, 1)[0].fault));
    }
  }
  return faults;
}

/** Removes and returns the fault listed for `shard`, if any (in a worker). */
export function takeFault(faults: Int32Array | undefined, shard: number): Fault | undefined {
  return faults === undefined ? undefined : FAULTS[Atomics.exchange(faults, shard, 0) - 1];
}

/** Acts out a fault inside a worker: throws, or returns a Promise that never settles
 * while an uncaught error ends the worker (thrown from a microtask, so that the worker
 * ends before it takes another shard). */
export function actOut(fault: Fault): Promise<never> {
  if (fault === "throw") throw new Error("injected fault");
  return new Promise<never>(() => {
    queueMicrotask(() => {
      throw new Error("injected crash");
    });
  });
}
