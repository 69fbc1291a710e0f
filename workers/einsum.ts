// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import {
  checkTensor,
  type ContractionPlan,
  contractPath,
  executePlan,
  type NdArray,
  planShards,
  resultDType,
  type ShardPlan,
} from "@einconv/runtime";
import { copyToShared, sharedArray } from "./_shared_array.ts";
import { pool } from "./_pool.ts";
import type { TensorView } from "./_protocol.ts";

/**
 * Evaluates an einsum and resolves to a new C-contiguous ndarray, bit for bit the one
 * `einsumSync` returns. Contractions large enough to pay for it (see `planShards`)
 * are split along one output index over the worker pool (see
 * {@linkcode configureWorkers}): operands are placed once in `SharedArrayBuffer`s
 * (unless they already are, see {@linkcode toShared}; the pool reuses the memory of
 * these copies in later calls), every worker computes its slice
 * with the synchronous executor and writes it into one shared result, and each slice is
 * copied into the array returned as soon as it is written, while the other shards run
 * (the shared result's memory is reused by later calls; the returned array is fresh
 * memory, whose page faults, several ms per MB on small VMs, then overlap the
 * computation). Smaller ones run on the calling thread. Calls are queued first come, first
 * served.
 *
 * Arguments are checked on the calling thread by the checks of `einsumSync`: invalid
 * ones reject with the same `TypeError` or `RangeError`. A shard that throws rejects
 * the call with an `Error` naming the shard; a worker that dies is replaced and its
 * shard run once more.
 *
 * @param equation numpy or einops style einsum equation.
 * @param operands The tensors, one per term of the equation; they are not changed.
 * @returns A Promise of the contraction, over an ordinary `ArrayBuffer` (pass it to
 *   {@linkcode toShared} to hand it to workers without a copy each call).
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
 */
export async function einsum(equation: string, ...operands: NdArray[]): Promise<NdArray> {
  operands.forEach((x, at) => checkTensor(x, `operand ${at}`));
  const plan = contractPath(equation, ...operands);
  const shards = planShards(plan, pool.usableCount());
  if (shards === null) return executePlan(plan, operands);
  const dtype = resultDType(operands);
  const size = plan.outputShape.reduce((a, b) => a * b, 1);
  const stash = pool.stash;
  const out = ndarray(sharedArray(dtype, size, (bytes) => stash.take(bytes)), [
    ...plan.outputShape,
  ]);
  const staged = new Map<NdArray, NdArray>();
  const shared = operands.map((x) => {
    if (x.data.buffer instanceof SharedArrayBuffer) return x;
    if (!staged.has(x)) staged.set(x, copyToShared(x, (bytes) => stash.take(bytes)));
    return staged.get(x)!;
  });
  const result = dtype === "float32" ? new Float32Array(size) : new Float64Array(size);
  const axis = plan.parsed.output.indexOf(shards.index);
  // Each shard's region is copied out as soon as it is written, while the others run:
  // the result is fresh memory, whose page faults then overlap the computation.
  const copied = shardJobs(plan, shared, shards, out).map((job, shard) =>
    job.then(() =>
      copyRegion(
        out.data,
        result,
        plan.outputShape,
        axis,
        shards.boundaries[shard],
        shards.boundaries[shard + 1],
      )
    )
  );
  const settled = Promise.allSettled(copied);
  settled.then(() => {
    for (const copy of staged.values()) stash.give(copy.data.buffer as SharedArrayBuffer);
    // Reused only once every shard has stopped writing and its region is copied out.
    stash.give(out.data.buffer as SharedArrayBuffer);
  });
  await Promise.all(copied);
  return ndarray(result, [...plan.outputShape]);
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

function shardJobs(
  plan: ContractionPlan,
  operands: readonly NdArray[],
  { index, boundaries }: ShardPlan,
  out: NdArray,
): Promise<void>[] {
  const axis = plan.parsed.output.indexOf(index);
  const count = boundaries.length - 1;
  const call = { failed: false };
  return boundaries.slice(1).map((end, shard) => {
    const start = boundaries[shard];
    const slice = out.lo(...out.shape.map((_, d) => d === axis ? start : 0))
      .hi(...out.shape.map((n, d) => d === axis ? end - start : n));
    return pool.submit({
      request: {
        equation: plan.equation,
        shapes: plan.inputShapes.map((shape) => [...shape]),
        patterns: [...plan.patterns],
        operands: operands.map(viewOf),
        shard: { index, start, end },
        out: viewOf(slice),
      },
      shard,
      label: `shard ${shard + 1} of ${count} (${JSON.stringify(index)} in [${start}, ${end}))`,
      call,
    });
  });
}

function viewOf(x: NdArray): TensorView {
  return { data: x.data, shape: [...x.shape], stride: [...x.stride], offset: x.offset };
}
