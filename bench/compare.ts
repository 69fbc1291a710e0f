/**
 * The comparison table of issue 7: the benchmark cases run, in one process, with this
 * library (one worker and all workers) and with the tfjs `cpu` and `wasm` backends on the
 * same deterministic inputs; every result is checked against ours and the GFLOP/s are
 * printed as one markdown table with the ratio of ours to the best peer. It also times
 * KFAC-reduce (`kfacReduce`) against the unfold-then-reduce route of the same library.
 *
 * ```sh
 * deno task bench                               # every case, a few minutes
 * deno task bench --cases A,M1024               # some cases
 * deno task bench --quick                       # cases A, C, M512
 * BENCH_TARGET_MS=3000 deno task bench --slow   # longer budget, also calls that take minutes
 * deno task bench --rounds 1                    # one pass (faster, more exposed to noise)
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  configureWorkers,
  contiguous,
  einsum,
  kfacReduce,
  maxRelativeError,
  type NdArray,
  shutdownWorkers,
  tensor,
  unfoldNd,
} from "../mod.ts";
import { type BenchCase, CASES, flops, QUICK_CASES, selectCases } from "./_cases.ts";
import { type CaseInputs, caseInputs } from "./_inputs.ts";
import { einconvRunner, operand } from "./_einconv.ts";
import { measure } from "./_measure.ts";
import { type Progress, progressBar } from "./_progress.ts";
import type { FlatResult, Runner } from "./_runner.ts";
import { type Cell, type KfacReport, renderTable, type Row, TOLERANCE } from "./_table.ts";

/** Options of {@linkcode runComparison}. */
export interface ComparisonOptions {
  /** Case names in table order (default every case: A … H, M512, M1024, A.f64). */
  cases?: readonly string[];
  /** Without `cases`: only the quick cases A, C and M512 (default false). */
  quick?: boolean;
  /** Time budget per measurement in milliseconds (default env `BENCH_TARGET_MS`, else 1000),
   * shared by its rounds. */
  targetMs?: number;
  /** Passes over every case and runner, one after the other, each with its share of the
   * budget; a runner's figure is its best pass (default 3). On a shared machine, bursts of
   * load from elsewhere then hit one pass rather than one runner or one case. */
  rounds?: number;
  /** Worker counts to run this library with (default 1 and `navigator.hardwareConcurrency`). */
  workers?: readonly number[];
  /** Whether to run the tfjs peers (default true). */
  peers?: boolean;
  /** Whether to run peer calls known to take minutes each (default false). */
  slow?: boolean;
  /** Whether to time KFAC-reduce against the unfold route (default true). */
  kfac?: boolean;
  /** Whether to draw a progress bar on stderr (default true). */
  progress?: boolean;
  /** Whether this library's calls return new arrays (paying the page faults of fresh
   * memory) instead of writing into one reused output, as tfjs-wasm keeps its results in
   * its own reused memory (default false). */
  freshResults?: boolean;
}

/** What {@linkcode runComparison} measured. */
export interface Comparison {
  /** Column headings, ours first. */
  labels: string[];
  /** One row per case. */
  rows: Row[];
  /** The KFAC-reduce measurement, if requested. */
  kfac: KfacReport | null;
  /** The printable table with its notes (markdown). */
  table: string;
}

/** Default time budget per measurement, in milliseconds. */
const DEFAULT_TARGET_MS = 1000;
/** Default passes over the runners of a case. */
const DEFAULT_ROUNDS = 3;

/**
 * Runs the benchmark cases with this library and its peers and renders the comparison.
 * The worker pool is left with its default configuration.
 *
 * @param options Cases, budget, worker counts, peers, KFAC-reduce, progress bar.
 * @returns The rows, the KFAC-reduce figures and the table.
 *
 * @example Matrix product only, this library alone
 * ```ts ignore
 * import { runComparison } from "./compare.ts";
 *
 * const { table } = await runComparison({ cases: ["M512"], peers: false, kfac: false });
 * console.log(table);
 * ```
 */
export async function runComparison(options: ComparisonOptions = {}): Promise<Comparison> {
  const cases = selectCases(
    options.cases ?? (options.quick ? QUICK_CASES : CASES.map((c) => c.name)),
  );
  const targetMs = options.targetMs ?? envTargetMs();
  const rounds = options.rounds ?? DEFAULT_ROUNDS;
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(`Cannot read rounds: expected a positive integer, got ${rounds}`);
  }
  const counts = [...new Set(options.workers ?? [1, navigator.hardwareConcurrency])];
  const runners = counts.map((count) => einconvRunner(count, options.freshResults ?? false));
  if (options.peers ?? true) {
    const { tfjsRunner } = await import("./_tfjs.ts");
    const slow = options.slow ?? false;
    runners.push(tfjsRunner("cpu", slow), tfjsRunner("wasm", slow));
  }
  const withKfac = options.kfac ?? true;
  const progress = progressBar(
    cases.length * runners.length * rounds + (withKfac ? 2 : 0),
    options.progress ?? true,
  );
  try {
    // Round after round over every case: a slow minute on a shared machine then hits one
    // round of a few cases rather than every round of one case.
    const states = cases.map((c): CaseState => ({ case: c, reference: null, cells: [] }));
    for (let round = 0; round < rounds; round++) {
      for (const state of states) {
        await runRound(state, runners, round, rounds, targetMs, progress);
      }
    }
    const rows = states.map((state): Row => ({
      case: state.case,
      gflop: flops(state.case) / 1e9,
      cells: state.cells,
    }));
    const kfac = withKfac ? await measureKfac(counts[counts.length - 1], targetMs, progress) : null;
    progress.done();
    const columns = { labels: runners.map((r) => r.label), ours: runners.map((r) => r.ours) };
    const header = `einconv vs tfjs, GFLOP/s, float32 unless noted (deno ${Deno.version.deno}, ` +
      `${navigator.hardwareConcurrency} cores, ${targetMs} ms per measurement in ` +
      `${rounds} round${rounds === 1 ? "" : "s"}, best round)`;
    return { labels: columns.labels, rows, kfac, table: renderTable(rows, columns, kfac, header) };
  } finally {
    configureWorkers();
  }
}

function envTargetMs(): number {
  let text: string | undefined;
  try {
    text = Deno.env.get("BENCH_TARGET_MS");
  } catch {
    return DEFAULT_TARGET_MS; // no --allow-env
  }
  if (text === undefined) return DEFAULT_TARGET_MS;
  const value = Number(text);
  if (!(value > 0)) {
    throw new RangeError(
      `Cannot read BENCH_TARGET_MS: expected a positive number of milliseconds, got "${text}"`,
    );
  }
  return value;
}

/** One case's row as the rounds fill it in. */
interface CaseState {
  case: BenchCase;
  /** The first result of ours, against which every other result is checked. */
  reference: FlatResult | null;
  /** One cell per runner: its best round's speed, its worst round's error. */
  cells: Cell[];
}

/**
 * One round of one case: every runner once, each keeping its best round; the first result
 * of ours is the reference and every round's result is checked against it. A runner that
 * refuses, fails or makes one cold call (slower than the whole budget) in the first round
 * is not run again; one that fails later shows the failure.
 */
async function runRound(
  state: CaseState,
  runners: readonly Runner[],
  round: number,
  rounds: number,
  targetMs: number,
  progress: Progress,
): Promise<void> {
  const { case: c, cells } = state;
  const inputs = caseInputs(c);
  for (const [at, runner] of runners.entries()) {
    progress.step(`${c.name} · ${runner.label}${rounds > 1 ? ` · round ${round + 1}` : ""}`);
    const before = cells[at];
    if (round > 0 && (before.status !== "ok" || before.reps === 0)) continue;
    await runner.activate();
    const { cell, result } = await runCell(runner, c, inputs, targetMs / rounds, targetMs);
    if (cell.status === "ok") {
      if (state.reference === null && (runner.ours || runners.every((r) => !r.ours))) {
        state.reference = result!;
      } else if (state.reference !== null && result !== state.reference) {
        cell.error = relativeError(result!, state.reference);
        cell.flagged = !(cell.error <= TOLERANCE[c.dtype]);
      }
    }
    if (round === 0) {
      cells.push(cell);
      continue;
    }
    // The best round's speed, the worst round's error: every round's result is checked.
    if (cell.status !== "ok" || before.status !== "ok") {
      cells[at] = cell;
      continue;
    }
    const worst = (before.error ?? 0) >= (cell.error ?? 0) ? before : cell;
    const fastest = cell.gflops > before.gflops ? cell : before;
    cells[at] = { ...fastest, error: worst.error, flagged: before.flagged || cell.flagged };
  }
}

async function runCell(
  runner: Runner,
  c: BenchCase,
  inputs: CaseInputs,
  targetMs: number,
  coldMs: number,
): Promise<{ cell: Cell; result?: FlatResult }> {
  const failed = (error: unknown): { cell: Cell } => ({
    cell: {
      status: runner.ours ? "error" : "refuses",
      reason: String(error instanceof Error ? error.message : error).split("\n")[0],
    },
  });
  let preparation;
  try {
    preparation = runner.prepare(c, inputs);
  } catch (error) {
    return failed(error);
  }
  if (!("ready" in preparation)) {
    const [status, reason] = Object.entries(preparation)[0] as [
      Exclude<Cell["status"], "ok">,
      string,
    ];
    return { cell: { status, reason } };
  }
  const { ready } = preparation;
  try {
    const timing = await measure(() => ready.run(), targetMs, coldMs);
    const result = await ready.result();
    const gflops = flops(c) / timing.medianMs / 1e6;
    const { medianMs, reps } = timing;
    const cell: Cell = { status: "ok", gflops, medianMs, reps, error: null, flagged: false };
    return { cell, result };
  } catch (error) {
    return failed(error);
  } finally {
    ready.dispose();
  }
}

/** Largest |a − b| over largest |b|, with `a` read in `b`'s shape (Infinity if sizes differ). */
function relativeError(actual: FlatResult, expected: FlatResult): number {
  if (actual.data.length !== expected.data.length) return Infinity;
  return maxRelativeError(tensor(actual.data, { shape: expected.shape }), expected);
}

/**
 * KFAC-reduce of case A's input (kernel 3, padding 1) with `workers` workers: the
 * library's `kfacReduce`, which sums the index patterns over output positions before
 * they meet the input, against unfolding the input (im2col), summing the columns over
 * positions and taking their outer product, both through this library.
 */
async function measureKfac(
  workers: number,
  targetMs: number,
  progress: Progress,
): Promise<KfacReport> {
  const a = CASES.find((c) => c.name === "A")!;
  if (a.kind !== "conv") throw new TypeError("Cannot time KFAC-reduce: case A is no convolution");
  const x = operand(caseInputs(a), "x", "float32");
  const options = { padding: a.padding, stride: a.stride, dilation: a.dilation };
  const positions = a.inputSize[0] * a.inputSize[1]; // stride 1, "same" padding
  const scale = 1 / (a.batch * positions * positions);
  configureWorkers({ count: workers, idleTimeout: Infinity });
  const last: { direct?: NdArray; unfolded?: NdArray } = {};
  progress.step("KFAC-reduce · kfacReduce");
  const kfacTiming = await measure(async () => {
    last.direct = await kfacReduce(x, a.kernelSize, options);
  }, targetMs);
  progress.step("KFAC-reduce · unfoldNd route");
  const unfoldTiming = await measure(async () => {
    const columns = await unfoldNd(x, a.kernelSize, options); // [B, C·K, O]
    const sums = await einsum("bio->bi", columns);
    const factor = await einsum("bi,bj->ij", sums, sums);
    for (let i = 0; i < factor.data.length; i++) factor.data[i] *= scale;
    last.unfolded = factor;
  }, targetMs);
  const error = relativeError(contiguous(last.unfolded!), contiguous(last.direct!));
  return {
    label: `einconv ×${workers}`,
    kfacReduceMs: kfacTiming.medianMs,
    unfoldRouteMs: unfoldTiming.medianMs,
    speedUp: unfoldTiming.medianMs / kfacTiming.medianMs,
    error,
  };
}

const USAGE =
  `Usage: deno run -A bench/compare.ts [--cases A,M1024] [--quick] [--slow] [--no-peers] [--no-kfac] [--fresh]

  --cases NAMES  comma-separated cases among ${CASES.map((c) => c.name).join(", ")}
  --quick        cases ${QUICK_CASES.join(", ")} only
  --slow         also peer calls that take minutes each (tfjs-cpu G.dw)
  --no-peers     this library only
  --no-kfac      skip the KFAC-reduce measurement
  --rounds N     passes over the runners of each case, best one kept (default ${DEFAULT_ROUNDS})
  --fresh        einconv returns a new array per call instead of writing into a reused output
Env BENCH_TARGET_MS: time budget per measurement, shared by its rounds (default ${DEFAULT_TARGET_MS} ms).`;

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      cases: { type: "string" },
      quick: { type: "boolean" },
      slow: { type: "boolean" },
      "no-peers": { type: "boolean" },
      "no-kfac": { type: "boolean" },
      rounds: { type: "string" },
      fresh: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
  } else {
    const { table } = await runComparison({
      cases: values.cases?.split(","),
      quick: values.quick,
      slow: values.slow,
      peers: !values["no-peers"],
      kfac: !values["no-kfac"],
      rounds: values.rounds === undefined ? undefined : Number(values.rounds),
      freshResults: values.fresh,
    });
    console.log(table);
    shutdownWorkers();
  }
}
