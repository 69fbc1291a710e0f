// Running a plan shard by shard, as the worker pool does, for tests that compare the
// pieces put together with the whole result.
import {
  type ContractionPlan,
  type DType,
  executePlan,
  type NdArray,
  zeros,
} from "@einconv/runtime";
import { sliceAlong } from "../workers/_shard_board.ts";

/**
 * Runs `plan` once per shard along the output index `index`, shard `s` covering
 * `cuts[s] <= i < cuts[s + 1]` (empty ones too), each into its slice of one new array,
 * which it returns.
 *
 * @param plan The plan.
 * @param operands Its operands.
 * @param index An output index.
 * @param cuts Increasing boundaries from 0 to the index's size.
 * @param dtype The result's element type.
 * @returns The shards put together.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { contractPath, tensor } from "@einconv/runtime";
 * import { shardedRun } from "./_shards.ts";
 *
 * const a = tensor([[1, 2], [3, 4]]);
 * const plan = contractPath("ij->ji", a);
 * assert.deepEqual(Array.from(shardedRun(plan, [a], "j", [0, 1, 2]).data), [1, 3, 2, 4]);
 * ```
 */
export function shardedRun(
  plan: ContractionPlan,
  operands: readonly NdArray[],
  index: string,
  cuts: readonly number[],
  dtype: DType = "float64",
  options: ShardedRunOptions = {},
): NdArray {
  const axis = plan.parsed.output.indexOf(index);
  const out = zeros(plan.outputShape, dtype);
  if (options.fill !== undefined) out.data.fill(options.fill);
  for (let s = 0; s + 1 < cuts.length; s++) {
    const [start, end] = [cuts[s], cuts[s + 1]];
    executePlan(plan, operands, {
      shard: { index, start, end },
      out: sliceAlong(out, axis, start, end),
      upperTriangle: options.upperTriangle,
    });
  }
  return out;
}

/** Options of {@linkcode shardedRun}. */
export interface ShardedRunOptions {
  /** Every shard computes only the entries on and above the diagonal (see `executePlan`). */
  upperTriangle?: boolean;
  /** The output's entries before the shards run (default 0). */
  fill?: number;
}
