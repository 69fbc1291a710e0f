// What every library under comparison provides to bench/compare.ts: a runner prepares one
// case (inputs converted, layout chosen) and hands back the call to time.
import type { BenchCase } from "./_cases.ts";
import type { CaseInputs } from "./_inputs.ts";

/** A result in canonical layout (NCHW / OIHW, row-major). */
export interface FlatResult {
  shape: number[];
  data: Float32Array | Float64Array;
}

/** A case ready to time. */
export interface Prepared {
  /** One call of the operation; the timing waits for a returned Promise. */
  run(): unknown;
  /** The last call's result, converted to canonical layout (not timed). */
  result(): FlatResult | Promise<FlatResult>;
  /** Frees what `run` and the preparation allocated. */
  dispose(): void;
}

/**
 * A runner's answer for one case: ready, or why there is no figure. `refuses` means the
 * library has no way to do it (an error from the library counts too), `skipped` that
 * it would take too long, `absent` that the case does not apply (float64 in a float32-only
 * library).
 */
export type Preparation =
  | { ready: Prepared }
  | { refuses: string }
  | { skipped: string }
  | { absent: string };

/** One column of the comparison table. */
export interface Runner {
  /** Column heading, such as `tfjs-wasm ×1`. */
  label: string;
  /** Whether it is this library (its errors are failures, not refusals). */
  ours: boolean;
  /** Called before the runner's first case of a row (sets a backend, a worker count). */
  activate(): Promise<void>;
  prepare(c: BenchCase, inputs: CaseInputs): Preparation;
}
