// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import {
  assign,
  checkOutput,
  type ContractionPlan,
  contractPath,
  einsumArguments,
  type EinsumOptions,
  executePlan,
  kfcTriangle,
  mirrorUpperTriangle,
  type NdArray,
  planShards,
  resultDType,
  sameView,
  type ShardPlan,
  triangleShards,
} from "@einconv/runtime";
import { copyToShared, sharedArray } from "./_shared_array.ts";
import { pool, type ShardedCall } from "./_pool.ts";
import { newBoard, whenWritten } from "./_shard_board.ts";
import type { TensorView } from "./_protocol.ts";

/**
 * Evaluates an einsum and resolves to a new C-contiguous ndarray, bit for bit the one
 * `einsumSync` returns. Contractions large enough to pay for it (see `planShards`)
 * are split along one output index over the worker pool (see
 * {@linkcode configureWorkers}): operands are placed once in `SharedArrayBuffer`s
 * (unless they already are, see {@linkcode toShared}; the pool reuses the memory of
 * these copies in later calls), each worker takes shards from the call's board in shared
 * memory one after another (no message per shard) and computes each with the synchronous
 * executor into one shared result, and each slice is copied into the array returned as
 * soon as it is written, while the other shards run
 * (the shared result's memory is reused by later calls; the returned array is fresh
 * memory, whose page faults, several ms per MB on small VMs, then overlap the
 * computation; for that, a result of 2²⁰ elements or more gets several shards even on
 * one worker). A KFC of one tensor with itself (see `kfcTriangle`) is split instead into
 * bands of its rows of even work, each computing only the entries on and above the
 * diagonal; the rest is mirrored once all are done. Smaller ones run on the calling
 * thread. Calls are queued first come, first served. With options `{ out }` after the
 * operands, the result is written into `out` (of the result's shape, any strides) once
 * every shard has succeeded, and `out` is returned: reusing one output across calls spares
 * the page faults of fresh memory.
 *
 * Arguments are checked on the calling thread by the checks of `einsumSync`: invalid
 * ones reject with the same `TypeError` or `RangeError`. A shard that throws rejects
 * the call with an `Error` naming the shard; a worker that dies is replaced and its
 * shard run once more.
 *
 * @param equation numpy or einops style einsum equation.
 * @param args The tensors, one per term of the equation (they are not changed), then
 *   optionally `EinsumOptions`.
 * @returns A Promise of the contraction, over an ordinary `ArrayBuffer` (pass it to
 *   {@linkcode toShared} to hand it to workers without a copy each call), or of `out`.
 *
 * @example Batched matrix product
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { einsum } from "@einconv/workers";
 *
 * const a = tensor([[[1, 2]], [[3, 4]]]);
 * const b = tensor([[[1], [1]], [[2], [0]]]);
 * const c = await einsum("bij,bjk->bik", a, b);
 * assert.deepEqual(Array.from(c.data), [3, 6]);
 * ```
 *
 * @example Into a reused output
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor, zeros } from "@einconv/runtime";
 * import { einsum } from "@einconv/workers";
 *
 * const a = tensor([[1, 2], [3, 4]]);
 * const out = zeros([2, 2]);
 * for (const scale of [1, 2]) {
 *   const b = tensor([[scale, 0], [0, scale]]);
 *   assert.equal(await einsum("ij,jk->ik", a, b, { out }), out);
 * }
 * assert.deepEqual(Array.from(out.data), [2, 4, 6, 8]);
 * ```
 */
export async function einsum(
  equation: string,
  ...args: NdArray[] | [...NdArray[], EinsumOptions]
): Promise<NdArray> {
  const { operands, options: { out } } = einsumArguments(args);
  const plan = contractPath(equation, ...operands);
  if (out !== undefined) checkOutput(out, plan.outputShape, "out");
  const planned = planShards(plan, pool.usableCount(), { copiesOverlap: out === undefined });
  if (planned === null) return executePlan(plan, operands, { out });
  const dtype = resultDType(operands);
  const size = plan.outputShape.reduce((a, b) => a * b, 1);
  // Every take from the stash happens before the first await: no other call can be handed
  // the same buffer while this one still uses it.
  const stash = pool.stash;
  const computed = ndarray(sharedArray(dtype, size, (bytes) => stash.take(bytes)), [
    ...plan.outputShape,
  ]);
  // One copy per view: a tensor passed twice (as one object or two) is copied once, and the
  // workers see one tensor.
  const staged: { source: NdArray; copy: NdArray }[] = [];
  const shared = operands.map((x) => {
    if (x.data.buffer instanceof SharedArrayBuffer) return x;
    let entry = staged.find(({ source }) => sameView(source, x));
    if (entry === undefined) {
      entry = { source: x, copy: copyToShared(x, (bytes) => stash.take(bytes)) };
      staged.push(entry);
    }
    return entry.copy;
  });
  // A KFC of one tensor with itself split along its rows: each shard computes the entries
  // on and above the diagonal of its rows, in shards of even work, and the rest is mirrored
  // once all are done (a shard's rows alone would miss the symmetry). Seen on the operands
  // the workers read: one copy of a tensor passed twice.
  const found = planned.boundaries.length > 2 ? kfcTriangle(plan, shared) : null;
  const triangle = found !== null && found.index === planned.index ? found : null;
  const shards = triangle === null ? planned : triangleShards(
    triangle,
    Math.min(planned.boundaries.length - 1, TRIANGLE_SHARDS_PER_WORKER * pool.usableCount()),
  );
  // A new result is fresh memory: each shard's region is copied out as soon as it is
  // written, while the others run, so that its page faults overlap the computation. `out`
  // is written only once every shard has succeeded (no half-written output).
  const result = out === undefined
    ? (dtype === "float32" ? new Float32Array(size) : new Float64Array(size))
    : undefined;
  const axis = plan.parsed.output.indexOf(shards.index);
  const call = runShards(plan, shared, shards, computed, triangle !== null);
  // Every shard's completion is read off the board, where the worker that writes it wakes
  // this thread, without waiting for its runner's report (0.3–3 ms later on a busy VM).
  const written = (async () => {
    for (let shard = 0; shard + 1 < shards.boundaries.length; shard++) {
      if (!await whenWritten(call.board, shard, call.stopped)) return false;
      if (result === undefined) continue;
      const [start, end] = [shards.boundaries[shard], shards.boundaries[shard + 1]];
      copyRegion(computed.data, result, plan.outputShape, axis, start, end);
    }
    return true;
  })();
  Promise.all([call.settled, written]).then(() => {
    for (const { copy } of staged) stash.give(copy.data.buffer as SharedArrayBuffer);
    // Reused only once every shard has stopped writing and its region is copied out.
    if (out === undefined) stash.give(computed.data.buffer as SharedArrayBuffer);
  });
  if (!await written) {
    // Reused only once every shard has stopped writing.
    if (out !== undefined) {
      call.settled.then(() => stash.give(computed.data.buffer as SharedArrayBuffer));
    }
    await call.written; // rejects with the failure
  }
  if (result !== undefined) {
    if (triangle !== null) mirrorUpperTriangle(result, triangle);
    return ndarray(result, [...plan.outputShape]);
  }
  try {
    if (triangle !== null) mirrorUpperTriangle(computed.data, triangle);
    assign(out!, computed);
  } finally {
    stash.give(computed.data.buffer as SharedArrayBuffer);
  }
  return out!;
}

/** Shards per worker of a symmetric KFC: each unfolds the second side from its first row
 * on, so more shards unfold more (case A's KFC on 2 workers: 126–138 ms in 2 shards,
 * 130–134 in 4, 149–154 in 8); two each still let a faster core take more. */
const TRIANGLE_SHARDS_PER_WORKER = 2;

/** Queues the shards of one call on the pool: one runner per worker (at most one per
 * shard), which take the shards from the call's board as they come free. */
function runShards(
  plan: ContractionPlan,
  operands: readonly NdArray[],
  { index, boundaries }: ShardPlan,
  out: NdArray,
  upperTriangle: boolean,
): ShardedCall {
  const count = boundaries.length - 1;
  const label = (shard: number) =>
    `shard ${shard + 1} of ${count} (${JSON.stringify(index)} in [${boundaries[shard]}, ${
      boundaries[shard + 1]
    }))`;
  const request = {
    equation: plan.equation,
    shapes: plan.inputShapes.map((shape) => [...shape]),
    patterns: [...plan.patterns],
    operands: operands.map(viewOf),
    split: { index, boundaries: [...boundaries] },
    out: viewOf(out),
    board: newBoard(count),
    ...(upperTriangle ? { upperTriangle } : {}),
  };
  return pool.run({ request, label }, pool.usableCount());
}

function viewOf(x: NdArray): TensorView {
  return { data: x.data, shape: [...x.shape], stride: [...x.stride], offset: x.offset };
}

/** Copies the region `start <= i < end` along `axis` of a C-contiguous array of `shape`. */
function copyRegion(
  from: Float32Array | Float64Array,
  to: Float32Array | Float64Array,
  shape: readonly number[],
  axis: number,
  start: number,
  end: number,
): void {
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const rowLength = shape[axis] * inner;
  for (let row = 0, at = start * inner; row < outer; row++, at += rowLength) {
    to.set(from.subarray(at, at + (end - start) * inner), at);
  }
}
