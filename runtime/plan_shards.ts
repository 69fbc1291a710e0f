import type { ContractionPlan } from "./contract_path.ts";
import { describeValue as describe } from "./validate.ts";
import { shapeSize } from "./_tensor.ts";

/**
 * At most this many shards per worker: a call's workers take them from a board in shared
 * memory as they come free, so a faster worker takes more (the cores of one machine need
 * not be equally fast: on this project's 2-core VM one runs SIMD code up to 2× slower than
 * the other at times). Each shard costs about 0.25 ms of fixed work (views, offset tables,
 * packed weights), so that with equal cores two per worker ran case A faster than four
 * (medians of 76–77 against 73–74 GFLOP/s on 2 workers, alternating runs).
 *
 * @example A convolution's batch of 8 in 8 shards for 2 workers
 * ```ts
 * import assert from "node:assert/strict";
 * import { contractPath, planShards, SHARDS_PER_WORKER } from "@einconv/runtime";
 *
 * const plan = contractPath(
 *   "nchw,koh,lpw,dckl->ndop",
 *   [8, 64, 56, 56],
 *   [3, 56, 56],
 *   [3, 56, 56],
 *   [64, 64, 3, 3],
 * );
 * const shards = planShards(plan, 2)!;
 * assert.equal(shards.boundaries.length - 1, Math.min(8, 2 * SHARDS_PER_WORKER));
 * ```
 */
export const SHARDS_PER_WORKER = 2;
/** Plans with fewer FLOPs than this per output element are memory-bound (a depthwise
 * convolution has 18): copying the pooled result out costs about what the workers save. */
const MIN_FLOPS_PER_OUTPUT = 64;
/** Shards a single worker's new result is split into, so that the calling thread copies
 * each out (taking the page faults of new memory) while the worker computes the next. */
const OVERLAP_SHARDS = 4;
/** A single worker's result is split (when copies overlap) only from this many elements:
 * below, the page faults its copies would hide cost less than the round trips (a 1×1
 * convolution's 4·10⁵-element result took 0.3–0.8 ms longer in two shards than in one). */
const MIN_OVERLAP_ELEMENTS = 1 << 20;
/** Shards beyond one per worker are each at least this many FLOPs: about 2 ms, eight times
 * a shard's fixed costs (a 1×1 convolution of 2·10⁸ FLOPs ran faster in 2 shards than in 7
 * of 3·10⁷ here). */
const MIN_EXTRA_SHARD_FLOPS = 8e7;
/** Extra shards re-read the operands that lack the split index; re-reading an element
 * is counted as this many FLOPs (a copy into a packed panel, a cache miss)… */
const REREAD_FLOPS = 16;
/** …and all extra shards together may add at most this share of the plan's FLOPs. */
const REREAD_SHARE = 0.05;

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
  /** Plans with fewer FLOPs than this per output element get no shards (default 64):
   * they are memory-bound, and copying the pooled result out costs about what the
   * workers save. */
  minFlopsPerOutput?: number;
  /** Whether each shard's part of the result is copied into new memory as soon as it is
   * written (the pool's einsum without `out`): then a single worker gets extra shards too
   * when the result has at least 2²⁰ elements, so that the calling thread's copies (and
   * the page faults of new memory) overlap the rest of the computation. Default false:
   * with one worker, one shard. */
  copiesOverlap?: boolean;
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
 * gives the cheapest largest shard, then the least repeated work, then the fewest
 * elements every shard must read whole (an implicit GEMM's data operand counts once per
 * kernel tap: a weight gradient splits along input channels), then the earliest in
 * the output (the batch index of the convolution expressions, then output channels).
 * Shards are as even as the index's size allows, one per worker; when no step is
 * recomputed, up to {@linkcode SHARDS_PER_WORKER} per worker (with a single worker, four
 * and only when `options.copiesOverlap`), as long as each extra one
 * is worth its fixed costs and the operands lacking the index are small enough to re-read
 * (a convolution split along its batch: yes; its weight gradient split along channels,
 * which every shard would unfold the whole input for: no), in whole rounds (a multiple of
 * the workers). Extra shards shrink (one share each for the first per worker, half that
 * for the next, …), so that the large ones start first and the small ones balance the end.
 * A split that would not make
 * the largest shard at least a quarter cheaper than the whole plan is not worth it, and
 * one shard covers the output.
 *
 * @param plan A plan from {@linkcode contractPath}.
 * @param workers Number of workers, a non-negative integer.
 * @param options The cost thresholds.
 * @returns The shards, or `null` when the plan is cheaper than `options.minFlops` or
 *   than `options.minFlopsPerOutput` FLOPs per output element (memory-bound, like a
 *   depthwise convolution), has
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
  const perOutput = options.minFlopsPerOutput ?? MIN_FLOPS_PER_OUTPUT;
  if (typeof perOutput !== "number" || !(perOutput >= 0)) {
    throw new RangeError(
      `Cannot read minFlopsPerOutput: expected a non-negative number, got ${describe(perOutput)}`,
    );
  }
  const overlap = options.copiesOverlap ?? false;
  if (typeof overlap !== "boolean") {
    throw new TypeError(
      `Cannot read copiesOverlap: expected a boolean, got ${describe(overlap)}`,
    );
  }
  if (workers === 0 || plan.flops < minFlops) return null;
  const outputSize = plan.outputShape.reduce((a, b) => a * b, 1);
  if (plan.flops < perOutput * outputSize) return null;
  let best: ShardPlan | null = null;
  let bestReread = Infinity;
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
    const reread = rereadElements(plan, index);
    if (
      best === null || candidate.shardFlops < best.shardFlops ||
      (candidate.shardFlops === best.shardFlops &&
        (candidate.repeatedFlops < best.repeatedFlops ||
          (candidate.repeatedFlops === best.repeatedFlops && reread < bestReread)))
    ) {
      best = candidate;
      bestReread = reread;
    }
  }
  if (best === null) return null;
  const size = best.boundaries.at(-1)!;
  const count = best.boundaries.length - 1;
  if (count > 1 && best.shardFlops > 0.75 * plan.flops) {
    return { index: best.index, boundaries: [0, size], shardFlops: plan.flops, repeatedFlops: 0 };
  }
  const overlapping = overlap && outputSize >= MIN_OVERLAP_ELEMENTS;
  if ((count < 2 && !overlapping) || best.repeatedFlops > 0) return best;
  const pieces = extraShards(plan, best.index, count, size);
  if (pieces === count) return best;
  const boundaries = guidedBoundaries(size, pieces, count);
  const largest = Math.max(...boundaries.slice(1).map((end, s) => end - boundaries[s]));
  return {
    index: best.index,
    boundaries,
    shardFlops: plan.flops * largest / size,
    repeatedFlops: 0,
  };
}

/** How many shards a split of `count` shards along `index` (of size `size`, with no
 * recomputed step) may become: see planShards. */
function extraShards(plan: ContractionPlan, index: string, count: number, size: number): number {
  const lacking = rereadElements(plan, index);
  let pieces = Math.min(
    size,
    count * (count === 1 ? OVERLAP_SHARDS : SHARDS_PER_WORKER),
    Math.floor(plan.flops / MIN_EXTRA_SHARD_FLOPS),
  );
  if (lacking > 0) {
    pieces = Math.min(pieces, Math.floor(REREAD_SHARE * plan.flops / (REREAD_FLOPS * lacking)));
  }
  // A whole number of rounds: 3 shards on 2 equally fast workers would leave one idle
  // while the other runs the third.
  return Math.max(count, pieces - pieces % count);
}

/** Elements that every shard of a split along `index` reads whole: the operands lacking
 * it (index patterns are never read as numbers), an implicit GEMM's data operand counted
 * once per kernel tap, since each shard unfolds it. */
function rereadElements(plan: ContractionPlan, index: string): number {
  const motif = plan.implicitGemm;
  const taps = motif === null ? 1 : shapeSize(motif.patterns.map((at) => plan.inputShapes[at][0]));
  let elements = 0;
  plan.parsed.inputs.forEach((names, at) => {
    if (plan.patterns[at] !== undefined || names.includes(index)) return;
    elements += shapeSize(plan.inputShapes[at]) * (motif?.data === at ? taps : 1);
  });
  return elements;
}

/**
 * `pieces + 1` boundaries splitting `[0, size)` for `workers` workers into shards that
 * shrink: the first `workers` of one share each, the next `workers` of half that, then a
 * quarter, … (as far as whole index values allow; at least one each). Whatever the cores'
 * speeds, the large shards start first and the small ones fill the end: three equal
 * shards on two equally fast workers would leave one idle for a third of the time. Each
 * round of `workers` shards gets a whole number of index values (its share, rounded where
 * the rounds meet) split as evenly as it allows, larger first, so that on equal cores the
 * worker done first with a smaller shard takes the next round's larger one: a batch of 16
 * in 4 shards for 2 workers is 6, 5, 3, 2 (8 each), not 5, 6, 2, 3 (7 and 9).
 */
function guidedBoundaries(size: number, pieces: number, workers: number): number[] {
  const rounds = Math.ceil(pieces / workers);
  const inRound = (r: number) => Math.min(workers, pieces - r * workers);
  const weights = Array.from({ length: rounds }, (_, r) => inRound(r) * 2 ** -r);
  const total = weights.reduce((a, b) => a + b, 0);
  const boundaries = [0];
  let sum = 0;
  for (let r = 0; r < rounds; r++) {
    const start = boundaries.at(-1)!;
    sum += weights[r];
    const later = pieces - (r + 1) * workers; // shards after this round, one value each
    const end = r === rounds - 1
      ? size
      : Math.min(Math.max(Math.round(size * sum / total), start + inRound(r)), size - later);
    const base = Math.floor((end - start) / inRound(r));
    const extra = (end - start) % inRound(r);
    for (let s = 0; s < inRound(r); s++) {
      boundaries.push(boundaries.at(-1)! + base + (s < extra ? 1 : 0));
    }
  }
  return boundaries;
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
