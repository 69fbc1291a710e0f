// Renders the comparison as one markdown table with notes below it.
import type { BenchCase } from "./_cases.ts";

/** What one runner gave for one case. */
export type Cell =
  | {
    status: "ok";
    gflops: number;
    medianMs: number;
    /** Timed calls; 0 when one cold call is the figure. */
    reps: number;
    /** Relative error against the row's reference (null for the reference itself). */
    error: number | null;
    /** Whether `error` is above the tolerance of the case's dtype. */
    flagged: boolean;
  }
  | { status: "refuses" | "skipped" | "absent" | "error"; reason: string };

/** One case with one cell per runner (in the runners' order). */
export interface Row {
  case: BenchCase;
  gflop: number;
  cells: Cell[];
}

/** The KFAC-reduce measurement. */
export interface KfacReport {
  label: string;
  kfacReduceMs: number;
  unfoldRouteMs: number;
  /** `unfoldRouteMs / kfacReduceMs`. */
  speedUp: number;
  /** Relative error of the unfold route against `kfacReduce`. */
  error: number;
}

/** The runners' headings, and which of them are this library. */
export interface Columns {
  labels: string[];
  ours: boolean[];
}

/** Relative errors above these flag a cell. */
export const TOLERANCE = { float32: 1e-4, float64: 1e-10 };

const number = (v: number) =>
  v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);

function cellText(cell: Cell): string {
  if (cell.status === "ok") {
    return number(cell.gflops) + (cell.reps === 0 ? "*" : "") + (cell.flagged ? " ✗" : "");
  }
  return { refuses: "refuses", skipped: "skipped", absent: "—", error: "error" }[cell.status];
}

/** The best GFLOP/s among the peers' cells of a row, or null. */
function bestPeer(row: Row, columns: Columns): number | null {
  const peers = row.cells.flatMap((cell, at) =>
    !columns.ours[at] && cell.status === "ok" ? [cell.gflops] : []
  );
  return peers.length ? Math.max(...peers) : null;
}

/**
 * The comparison as markdown: one table of GFLOP/s with ratios to the best peer and the
 * largest relative error per row, then notes (refusals, float64 cost, KFAC-reduce).
 */
export function renderTable(
  rows: readonly Row[],
  columns: Columns,
  kfac: KfacReport | null,
  header: string,
): string {
  const ours = columns.labels.filter((_, at) => columns.ours[at]);
  const heads = [
    "case",
    "what",
    "GFLOP",
    ...columns.labels,
    ...ours.map((label) => `${label} / best peer`),
    "max rel. err",
  ];
  const lines = [
    header,
    "",
    `| ${heads.join(" | ")} |`,
    `|${heads.map((_, at) => (at < 2 ? "---" : "---:")).join("|")}|`,
  ];
  for (const row of rows) {
    const best = bestPeer(row, columns);
    const ratios = row.cells.flatMap((cell, at) => {
      if (!columns.ours[at]) return [];
      return [cell.status === "ok" && best !== null ? `${(cell.gflops / best).toFixed(2)}×` : "—"];
    });
    const errors = row.cells.flatMap((cell) =>
      cell.status === "ok" && cell.error !== null ? [cell.error] : []
    );
    const worst = errors.length ? Math.max(...errors).toExponential(1) : "—";
    const texts = [row.case.name, row.case.description, row.gflop.toFixed(2)];
    lines.push(`| ${[...texts, ...row.cells.map(cellText), ...ratios, worst].join(" | ")} |`);
  }
  lines.push("", ...notes(rows, columns, kfac));
  return lines.join("\n");
}

function notes(rows: readonly Row[], columns: Columns, kfac: KfacReport | null): string[] {
  const out = [
    "GFLOP/s (higher is better): FLOPs = 2·N·C_out·prod(O)·C_in/G·prod(K), matmul 2n³; median of " +
    "timed calls after warm-up, best of the rounds. * = one cold call (it took longer than the budget). " +
    "Errors: largest |difference| / largest |value| against the row's first einconv result; " +
    `✗ = above ${TOLERANCE.float32} (float32) or ${TOLERANCE.float64} (float64). ` +
    "— = not applicable (tfjs has no float64).",
  ];
  const reasons = new Map<string, string[]>();
  for (const row of rows) {
    row.cells.forEach((cell, at) => {
      if (cell.status === "ok" || cell.status === "absent") return;
      const key = `${columns.labels[at]} ${cell.status}: ${cell.reason}`;
      reasons.set(key, [...(reasons.get(key) ?? []), row.case.name]);
    });
  }
  for (const [key, names] of reasons) out.push(`- ${key} [${names.join(", ")}]`);
  const a32 = rows.find((row) => row.case.name === "A");
  const a64 = rows.find((row) => row.case.name === "A.f64");
  if (a32 && a64) {
    const ratios = columns.labels.flatMap((label, at) => {
      const [c32, c64] = [a32.cells[at], a64.cells[at]];
      if (c32.status !== "ok" || c64.status !== "ok") return [];
      return [`${label} ${(c64.medianMs / c32.medianMs).toFixed(2)}×`];
    });
    if (ratios.length) out.push(`- float64 / float32 time on case A: ${ratios.join(", ")}`);
  }
  if (kfac) {
    out.push(
      `- KFAC-reduce on case A's input (${kfac.label}): kfacReduce ${
        number(kfac.kfacReduceMs)
      } ms, ` +
        `unfoldNd then sum and outer product ${number(kfac.unfoldRouteMs)} ms: ` +
        `${kfac.speedUp.toFixed(2)}× faster (paper: up to 4.5×); relative error ${
          kfac.error.toExponential(1)
        }`,
    );
  }
  return out;
}
