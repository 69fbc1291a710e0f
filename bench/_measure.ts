// The timing loop of bench/compare.ts: warm-up, then the median of repetitions within a
// time budget. A call slower than the budget runs once and is reported as it is.

/** How one operation timed. */
export interface Timing {
  /** Median wall time of the timed calls, in milliseconds. */
  medianMs: number;
  /** Timed calls (0 when the warm-up call alone exceeded the budget). */
  reps: number;
  /** Wall time of the first (warm-up) call. */
  firstMs: number;
}

/** Warm-up calls stop once this much time is spent, or after `WARM_UP_CALLS` calls: a
 * few milliseconds' call runs about a hundred times before V8 has optimised the
 * JavaScript around it (on both sides of a worker pool), after which it is 20–30% faster. */
const WARM_UP_MS = 500;
/** Most warm-up calls. */
const WARM_UP_CALLS = 50;
/** Timed calls stop after this many, even when the budget is not used up. */
const MAX_REPS = 25;

/**
 * Times `fn`: one warm-up call, more while they are cheap (up to 50 calls or 500 ms, a
 * quarter of `targetMs` at most), then repetitions until
 * `targetMs` is spent, reporting their median. When the first call alone takes
 * `coldMs` (default `targetMs`) or more, it is the only call and its time is the figure
 * (`reps` 0).
 */
export async function measure(
  fn: () => unknown,
  targetMs: number,
  coldMs: number = targetMs,
): Promise<Timing> {
  const time = async () => {
    const start = performance.now();
    await fn();
    return performance.now() - start;
  };
  const firstMs = await time();
  if (firstMs >= coldMs) return { medianMs: firstMs, reps: 0, firstMs };
  for (
    let spent = firstMs, calls = 1;
    spent < Math.min(WARM_UP_MS, targetMs / 4) && calls < WARM_UP_CALLS;
    calls++
  ) {
    spent += await time();
  }
  const times: number[] = [];
  for (let spent = 0; spent < targetMs && times.length < MAX_REPS;) {
    const ms = await time();
    times.push(ms);
    spent += ms;
  }
  return { medianMs: median(times), reps: times.length, firstMs };
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
