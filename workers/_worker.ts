// The pool's worker: rebuilds the plan from the equation and the full shapes (cached in
// this worker's plan cache), then takes shards from the call's board one after another and
// computes each into its slice of the shared output.
import { expose } from "comlink";
// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import { contractPath, executePlan, type NdArray } from "@einconv/runtime";
import { closeBoard, holdShard, markDone, sliceAlong, takeShard } from "./_shard_board.ts";
import { actOut, takeFault } from "./_test_hooks.ts";
import type { RunnerReport, TensorView, WorkerApi } from "./_protocol.ts";

const view = (t: TensorView): NdArray => ndarray(t.data, t.shape, t.stride, t.offset);

const api: WorkerApi = {
  ping() {},
  async run(request): Promise<RunnerReport> {
    const { board, token, split: { index, boundaries } } = request;
    const plan = contractPath(request.equation, ...request.shapes, {
      patterns: request.patterns,
    });
    const operands = request.operands.map(view);
    const out = view(request.out);
    const axis = plan.parsed.output.indexOf(index);
    let shard = request.rerun ?? takeShard(board, token);
    for (; shard >= 0; shard = takeShard(board, token)) {
      const [start, end] = [boundaries[shard], boundaries[shard + 1]];
      try {
        // A fault (tests) acts before a shard sent to run again is held: a worker may die
        // between being sent a shard and holding it.
        const fault = takeFault(request.faults, shard);
        if (fault !== undefined) await actOut(fault);
        if (shard === request.rerun) holdShard(board, shard, token);
        executePlan(plan, operands, {
          shard: { index, start, end },
          out: sliceAlong(out, axis, start, end),
          upperTriangle: request.upperTriangle,
        });
      } catch (error) {
        closeBoard(board);
        return {
          failed: { shard, reason: error instanceof Error ? error.message : String(error) },
        };
      }
      markDone(board, shard);
    }
    return {};
  },
};

expose(api);
