import type { ContractionPlan } from "./contract_path.ts";
import { describeValue as describe } from "./validate.ts";

/**
 * Contractions cheaper than this many FLOPs (opt_einsum's count) are not sharded: on this
 * library's kernels they take a few milliseconds, about what handing them to workers costs.
 *
 * @example Small plans stay on the calling thread
 * ```ts
 * import assert from "node:assert/strict";
 * import { contractPath, DEFAULT_SHARD_MIN_FLOPS, planShards } from "@einconv/runtime";
 *
 * const plan = contractPath("ij,jk->ik", [100, 100], [100, 100]);
 * assert.ok(plan.flops < DEFAULT_SHARD_MIN_FLOPS);
 * assert.equal(planShards(plan, 2), null);
 * ```
 */
export const DEFAULT_SHARD_MIN_FLOPS = 1e7;

/** Options of {@linkcode planShards}. */
export interface PlanShardsOptions {
  /** Plans cheaper than this many FLOPs get no shards (default
   * {@linkcode DEFAULT_SHARD_MIN_FLOPS}). */
  minFlops?: number;
}

/**
 * How a contraction is split across workers: shard `s` computes the part of the result
 * where output index `index` lies in `[boundaries[s], boundaries[s + 1])`.
 */
export interface ShardPlan {
  /** The output index that is split. */
  readonly index: string;
  /** Shard boundaries, ascending from 0 to the size of `index`; one more than the
   * number of shards. */
  readonly boundaries: readonly number[];
  /** Estimated FLOPs of the largest shard: the steps that carry `index` scaled to its
   * slice, plus every step that does not carry it. */
  readonly shardFlops: number;
  /** FLOPs computed more than once: every shard after the first recomputes the steps
   * whose operands do not hold `index`. */
  readonly repeatedFlops: number;
}

/**
 * Plans how to split a contraction over `workers` workers along one output index. Pure:
 * only the plan's steps and sizes are read.
 *
 * Every operand holding the split index is read through a slice, so a step whose
 * operands hold it costs its share of the FLOPs, while a step whose operands do not is
 * recomputed in full by every shard. The index chosen is the output index whose split
 * gives the cheapest largest shard, then the least repeated work, then the earliest in
 * the output (the batch index of the convolution expressions, then output channels).
 * Shards are as even as the index's size allows, at most one per worker. A split that
 * would not make the largest shard at least a quarter cheaper than the whole plan is
 * not worth it, and one shard covers the output.
 *
 * @param plan A plan from {@linkcode contractPath}.
 * @param workers Number of workers, a non-negative integer.
 * @param options The cost threshold.
 * @returns The shards, or `null` when the plan is cheaper than `options.minFlops`, has
 *   no output index of size at least 1 or `workers` is 0: the calling thread runs it.
 *
 * @example A batched product split along its batch index
 * ```ts
 * import assert from "node:assert/strict";
 * import { contractPath, planShards } from "@einconv/runtime";
 *
 * const plan = contractPath("bij,bjk->bik", [8, 64, 64], [8, 64, 64]);
 * const shards = planShards(plan, 2, { minFlops: 0 });
 * assert.equal(shards?.index, "b");
 * assert.deepEqual(shards?.boundaries, [0, 4, 8]);
 * assert.equal(shards?.repeatedFlops, 0);
 * assert.equal(planShards(plan, 2), null); // below the default threshold
 * ```
 */
export function planShards(
  plan: ContractionPlan,
  workers: number,
  options: PlanShardsOptions = {},
): ShardPlan | null {
  if (!Number.isInteger(workers) || workers < 0) {
    throw new RangeError(
      `Cannot read workers: expected a non-negative integer, got ${describe(workers)}`,
    );
  }
  const minFlops = options.minFlops ?? DEFAULT_SHARD_MIN_FLOPS;
  if (typeof minFlops !== "number" || !(minFlops >= 0)) {
    throw new RangeError(
      `Cannot read minFlops: expected a non-negative number, got ${describe(minFlops)}`,
    );
  }
  if (workers === 0 || plan.flops < minFlops) return null;
  let best: ShardPlan | null = null;
  for (const index of plan.parsed.output) {
    const size = plan.sizes.get(index)!;
    if (size === 0) continue;
    const count = Math.min(workers, size);
    let carried = 0;
    let uncarried = 0;
    for (const step of plan.steps) {
      if (step.inputs.some((names) => names.includes(index))) carried += step.flops;
      else uncarried += step.flops;
    }
    const candidate: ShardPlan = {
      index,
      boundaries: evenBoundaries(size, count),
      shardFlops: carried * Math.ceil(size / count) / size + uncarried,
      repeatedFlops: uncarried * (count - 1),
    };
    if (
      best === null || candidate.shardFlops < best.shardFlops ||
      (candidate.shardFlops === best.shardFlops && candidate.repeatedFlops < best.repeatedFlops)
    ) {
      best = candidate;
    }
  }
  if (best === null) return null;
  if (best.boundaries.length > 2 && best.shardFlops > 0.75 * plan.flops) {
    const size = best.boundaries.at(-1)!;
    return { index: best.index, boundaries: [0, size], shardFlops: plan.flops, repeatedFlops: 0 };
  }
  return best;
}

/** `count + 1` boundaries splitting `[0, size)` into parts whose sizes differ by at most 1,
 * the larger ones first. */
function evenBoundaries(size: number, count: number): number[] {
  const base = Math.floor(size / count);
  const extra = size % count;
  const boundaries = [0];
  for (let s = 0; s < count; s++) boundaries.push(boundaries[s] + base + (s < extra ? 1 : 0));
  return boundaries;
}
