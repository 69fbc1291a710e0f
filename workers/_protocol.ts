import type { PatternHyperparameters } from "@einconv/runtime";

/** An ndarray as it crosses to a worker: its storage (over a SharedArrayBuffer, so the
 * worker sees the same memory) and its layout. */
export interface TensorView {
  data: Float32Array | Float64Array;
  shape: number[];
  stride: number[];
  offset: number;
}

/**
 * What one worker runs for one sharded einsum: it rebuilds the plan, then takes shards from
 * the call's board (see `_shard_board.ts`) one after another, each computing its slice of
 * the shared output, until none is left.
 */
export interface RunnerRequest {
  /** The equation as the caller gave it. */
  equation: string;
  /** Every operand's full shape (the plan is made for these, not for a slice). */
  shapes: number[][];
  /** Index-pattern hyperparameters per operand, as the caller's plan used them. */
  patterns: (PatternHyperparameters | undefined)[];
  /** The operands, whole; the executor reads each shard's slice through them. */
  operands: TensorView[];
  /** Shard `s` computes the output where `index` lies in `[boundaries[s], boundaries[s + 1])`. */
  split: { index: string; boundaries: number[] };
  /** The whole shared output. */
  out: TensorView;
  /** The call's shard board, shared by its runners. */
  board: Int32Array;
  /** This runner's mark on the board for the shards it holds (unique in the pool, > 0). */
  token: number;
  /** A shard to run before taking others: one whose worker died running it. */
  rerun?: number;
  /** Compute only the entries on and above the diagonal (a KFC of one tensor with itself,
   * see `executePlan`). */
  upperTriangle?: boolean;
  /** Failures to simulate, one entry per shard (tests only, see `_test_hooks.ts`). */
  faults?: Int32Array;
}

/** How a runner ended: every shard it took is written, or `failed` names the one that threw
 * (the board is then closed). */
export interface RunnerReport {
  failed?: { shard: number; reason: string };
}

/** What `_worker.ts` exposes through comlink. */
export interface WorkerApi {
  /** Answers once the worker has loaded, so that the pool hands it runners. */
  ping(): void;
  /** Takes and computes shards until the board has none left. */
  run(request: RunnerRequest): Promise<RunnerReport>;
}
