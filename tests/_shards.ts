// Running a plan shard by shard, as the worker pool does, for tests that compare the
// pieces put together with the whole result.
import {
  type ContractionPlan,
  type DType,
  executePlan,
  type NdArray,
  zeros,
} from "@einconv/runtime";

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
): NdArray {
  const axis = plan.parsed.output.indexOf(index);
  const out = zeros(plan.outputShape, dtype);
  for (let s = 0; s + 1 < cuts.length; s++) {
    const [start, end] = [cuts[s], cuts[s + 1]];
    const slice = out.lo(...out.shape.map((_, d) => d === axis ? start : 0))
      .hi(...out.shape.map((n, d) => d === axis ? end - start : n));
    executePlan(plan, operands, { shard: { index, start, end }, out: slice });
  }
  return out;
}
