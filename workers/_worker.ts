// The pool's worker: rebuilds the plan from the equation and the full shapes (cached in
// this worker's plan cache) and computes one shard into a view of the shared output.
import { expose } from "comlink";
// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import { contractPath, executePlan, type NdArray } from "@einconv/runtime";
import { actOut } from "./_test_hooks.ts";
import type { TensorView, WorkerApi } from "./_protocol.ts";

const view = (t: TensorView): NdArray => ndarray(t.data, t.shape, t.stride, t.offset);

const api: WorkerApi = {
  ping() {},
  async run(request) {
    if (request.fault !== undefined) await actOut(request.fault);
    const plan = contractPath(request.equation, ...request.shapes, {
      patterns: request.patterns,
    });
    executePlan(plan, request.operands.map(view), {
      shard: request.shard,
      out: view(request.out),
      upperTriangle: request.upperTriangle,
    });
  },
};

expose(api);
