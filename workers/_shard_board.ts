// The board of one sharded call, in shared memory: which shard is next, and which runner
// holds each one. Workers take shards from it one after another without a message per
// shard; the calling thread reads it to learn which shards are written and, when a worker
// dies, which shard it was running.
import type { NdArray } from "@einconv/runtime";

/** A shard's state once its slice of the output is written. */
export const DONE = -1;

/**
 * A new board for `count` shards, all waiting: an Int32Array over a SharedArrayBuffer whose
 * entry 0 is the next shard to take and entry `1 + s` the state of shard `s`: 0 waiting,
 * a runner's token (> 0) while that runner computes it, `DONE` once it is written.
 */
export function newBoard(count: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * (1 + count)));
}

/** The number of shards on a board. */
export function shardCount(board: Int32Array): number {
  return board.length - 1;
}

/** Takes the next waiting shard for the runner `token` and returns it, or -1 when none
 * is left (or the board is closed). */
export function takeShard(board: Int32Array, token: number): number {
  const shard = Atomics.add(board, 0, 1);
  if (shard >= shardCount(board)) return -1;
  Atomics.store(board, 1 + shard, token);
  return shard;
}

/** Marks `shard` as held by the runner `token` (a shard run again after its worker died). */
export function holdShard(board: Int32Array, shard: number, token: number): void {
  Atomics.store(board, 1 + shard, token);
}

/** Marks `shard` written and wakes whoever waits for it (see {@linkcode whenWritten}). */
export function markDone(board: Int32Array, shard: number): void {
  Atomics.store(board, 1 + shard, DONE);
  Atomics.notify(board, 1 + shard);
}

/** No shard is taken from a closed board (one failed; the call is over). */
export function closeBoard(board: Int32Array): void {
  Atomics.store(board, 0, shardCount(board));
}

/** Whether every shard is written. */
export function allDone(board: Int32Array): boolean {
  for (let s = 1; s < board.length; s++) if (Atomics.load(board, s) !== DONE) return false;
  return true;
}

/** Whether `shard` is written. */
export function isWritten(board: Int32Array, shard: number): boolean {
  return Atomics.load(board, 1 + shard) === DONE;
}

/** The first shard not yet written, or -1. */
export function firstUnwritten(board: Int32Array): number {
  for (let s = 1; s < board.length; s++) if (Atomics.load(board, s) !== DONE) return s - 1;
  return -1;
}

/** The shards the runner `token` holds and has not written (at most one). */
export function heldBy(board: Int32Array, token: number): number[] {
  const held: number[] = [];
  for (let s = 1; s < board.length; s++) if (Atomics.load(board, s) === token) held.push(s - 1);
  return held;
}

/** Wakes every waiter of {@linkcode whenWritten} on the board (they then return, once
 * their `stop` has resolved, or wait again). */
export function wakeAll(board: Int32Array): void {
  for (let s = 1; s < board.length; s++) Atomics.notify(board, s);
}

/**
 * Resolves to true once `shard` is written, or to false once `stop` resolves first. Waits
 * without a message: the worker that writes the shard wakes this thread through the board.
 * (`stop` is a Promise rather than a notification from this thread: Deno's event loop does
 * not wait for a thread's own notifications, only for other threads'.)
 */
export async function whenWritten(
  board: Int32Array,
  shard: number,
  stop: Promise<void>,
): Promise<boolean> {
  let stopped = false;
  const stopping = stop.then(() => {
    stopped = true;
  });
  for (;;) {
    const state = Atomics.load(board, 1 + shard);
    if (state === DONE) return true;
    if (stopped) return false;
    const wait = Atomics.waitAsync(board, 1 + shard, state);
    if (wait.async) await Promise.race([wait.value, stopping]);
  }
}

/** The slice of `out` where the index at `axis` lies in `[start, end)`. */
export function sliceAlong(
  out: NdArray,
  axis: number,
  start: number,
  end: number,
): NdArray {
  return out.lo(...out.shape.map((_, d) => d === axis ? start : 0))
    .hi(...out.shape.map((n, d) => d === axis ? end - start : n));
}
