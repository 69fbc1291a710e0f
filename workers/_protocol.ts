import type { PatternHyperparameters } from "@einconv/runtime";
import type { Fault } from "./_test_hooks.ts";

/** An ndarray as it crosses to a worker: its storage (over a SharedArrayBuffer, so the
 * worker sees the same memory) and its layout. */
export interface TensorView {
  data: Float32Array | Float64Array;
  shape: number[];
  stride: number[];
  offset: number;
}

/** One shard of one einsum: what a worker needs to rebuild the plan and run its slice. */
export interface ShardRequest {
  /** The equation as the caller gave it. */
  equation: string;
  /** Every operand's full shape (the plan is made for these, not for the slice). */
  shapes: number[][];
  /** Index-pattern hyperparameters per operand, as the caller's plan used them. */
  patterns: (PatternHyperparameters | undefined)[];
  /** The operands, whole; the executor reads its slice through them. */
  operands: TensorView[];
  /** The output index range this shard computes. */
  shard: { index: string; start: number; end: number };
  /** The shard's slice of the shared output. */
  out: TensorView;
  /** Compute only the entries on and above the diagonal (a KFC of one tensor with itself,
   * see `executePlan`). */
  upperTriangle?: boolean;
  /** A failure to simulate (tests only). */
  fault?: Fault;
}

/** What `_worker.ts` exposes through comlink. */
export interface WorkerApi {
  /** Answers once the worker has loaded, so that the pool hands it shards. */
  ping(): void;
  /** Computes one shard into its output view. */
  run(request: ShardRequest): Promise<void>;
}
