import type { ParsedEquation } from "./parse_equation.ts";
import type { PatternHyperparameters } from "./index_pattern_registry.ts";

/**
 * A convolution-shaped network `T × Π_1 × … × Π_N × W` that runs as one implicit GEMM:
 * per entry of the batch indices, `Y[D, O] = W[D, (C, K)] · U[(C, K), O]` where the
 * unfolded input `U[(c, k), o] = T[…, c, i(k, o)]` is read through offset tables and never
 * built whole. Positions are operand positions; names are index names by role.
 */
export interface ImplicitGemm {
  /** `"forward"`: `Y = W · U` (the weight holds the kernel taps, the result the outputs);
   * `"weight"`: `dW = V · Uᵀ` (the gradient V holds the outputs, the result the taps);
   * `"input"`: the input gradient; `"unfold"`: `U` itself, with no weight (a gather of the
   * data's padded image, row by row, never a product with dense patterns);
   * `"transposeUnfold"`: the unfold of a transposed convolution (the data holds the
   * patterns' outputs, the result their inputs: every stride-th input of a tap's row). */
  readonly kind: "forward" | "weight" | "input" | "unfold" | "transposeUnfold";
  /** The data operand T. */
  readonly data: number;
  /** The pattern operands, one per spatial dimension. */
  readonly patterns: readonly number[];
  /** The weight operand W (forward), or the output gradient V (weight); null for an
   * unfold. */
  readonly weight: number | null;
  /** Indices of T, W and the output (looped over, e.g. groups). */
  readonly batch: readonly string[];
  /** Indices of T and the output only (looped over, e.g. the batch). */
  readonly rows: readonly string[];
  /** Indices of T and W summed away (the GEMM's depth, with the kernel taps for
   * "forward" and with the outputs for "weight"). */
  readonly contracted: readonly string[];
  /** Indices of W and the output only (the GEMM's rows, e.g. output channels). For
   * "weight", `rows` are the GEMM's columns with the taps. */
  readonly channels: readonly string[];
  /** Per pattern `[k, o, i]`: kernel tap (in W), output (in the output), input (in T). */
  readonly taps: readonly (readonly [string, string, string])[];
}

/**
 * Recognises the four convolution motifs: exactly one dense data operand, N ≥ 1 index
 * patterns whose input index only the data operand has, and one more dense operand that
 * holds every pattern's kernel index with the outputs in the result (a forward
 * convolution), or every pattern's output index with the kernel taps in the result (a
 * weight gradient), or one dense operand holding the outputs and one holding the taps
 * with the inputs in the result (an input gradient); or no other operand, with every
 * pattern's kernel and output indices in the result (an unfold).
 * Returns null for anything else (it then plans pairwise).
 */
export function findImplicitGemm(
  parsed: ParsedEquation,
  patterns: readonly (PatternHyperparameters | undefined)[],
): ImplicitGemm | null {
  const { inputs, output } = parsed;
  const patternAt = inputs.map((_, at) => at).filter((at) => patterns[at] !== undefined);
  const denseAt = inputs.map((_, at) => at).filter((at) => patterns[at] === undefined);
  if (patternAt.length === 0 || denseAt.length === 0 || denseAt.length > 2) return null;
  if (inputs.some((names) => new Set(names).size !== names.length)) return null;
  const out = new Set(output);
  if (denseAt.length === 1) return findUnfold(parsed, patternAt, denseAt[0]);
  for (const [data, weight] of [denseAt, [...denseAt].reverse()]) {
    const t = new Set(inputs[data]);
    const w = new Set(inputs[weight]);
    const taps = patternAt.map((at) => inputs[at] as unknown as [string, string, string]);
    const tapNames = new Set(taps.flat());
    if (tapNames.size !== 3 * taps.length) continue;
    const inputsFit = taps.every(([, , i]) => t.has(i) && !w.has(i) && !out.has(i));
    const forward = inputsFit &&
      taps.every(([k, o]) =>
        w.has(k) && !t.has(k) && !out.has(k) && out.has(o) && !t.has(o) && !w.has(o)
      );
    const weightVjp = inputsFit &&
      taps.every(([k, o]) =>
        out.has(k) && !t.has(k) && !w.has(k) && w.has(o) && !t.has(o) && !out.has(o)
      );
    const inputVjp = taps.every(([k, o, i]) =>
      t.has(o) && !w.has(o) && !out.has(o) && w.has(k) && !t.has(k) && !out.has(k) &&
      out.has(i) && !t.has(i) && !w.has(i)
    );
    if (!(forward || weightVjp || inputVjp)) continue;
    const rest = (names: readonly string[]) => names.filter((name) => !tapNames.has(name));
    const tRest = rest(inputs[data]);
    const wRest = rest(inputs[weight]);
    const batch = tRest.filter((name) => w.has(name) && out.has(name));
    const contracted = tRest.filter((name) => w.has(name) && !out.has(name));
    const rows = tRest.filter((name) => !w.has(name));
    const channels = wRest.filter((name) => !t.has(name));
    // Every index must play one role: nothing summed inside T or W alone.
    if (!rows.every((name) => out.has(name)) || !channels.every((name) => out.has(name))) {
      continue;
    }
    const kind = forward ? "forward" : weightVjp ? "weight" : "input";
    return { kind, data, patterns: patternAt, weight, batch, rows, contracted, channels, taps };
  }
  return null;
}

/** An unfold: every pattern's input index only in the data and among its last indices, in
 * the patterns' order; its kernel and output indices in the result and not in the data;
 * every other index of the data in the result. Or a transposed unfold: the same with the
 * patterns' output and input indices in each other's places. */
function findUnfold(
  { inputs, output }: ParsedEquation,
  patternAt: readonly number[],
  data: number,
): ImplicitGemm | null {
  const t = new Set(inputs[data]);
  const out = new Set(output);
  const taps = patternAt.map((at) => inputs[at] as unknown as [string, string, string]);
  const tapNames = new Set(taps.flat());
  if (tapNames.size !== 3 * taps.length) return null;
  const rows = inputs[data].filter((name) => !tapNames.has(name));
  if (!rows.every((name) => out.has(name))) return null;
  if (output.length !== rows.length + 2 * taps.length) return null;
  // The data's last indices are the ones it shares with the patterns, in their order (a
  // convolution's layout, whose lines the kernel copies); else a gather along the others
  // does better.
  const last = inputs[data].slice(inputs[data].length - taps.length);
  for (const [kind, read, written] of [["unfold", 2, 1], ["transposeUnfold", 1, 2]] as const) {
    const fits = taps.every((tap, d) =>
      last[d] === tap[read] && !out.has(tap[read]) && out.has(tap[0]) && !t.has(tap[0]) &&
      out.has(tap[written]) && !t.has(tap[written])
    );
    if (!fits) continue;
    return {
      kind,
      data,
      patterns: patternAt,
      weight: null,
      batch: [],
      rows,
      contracted: [],
      channels: [],
      taps,
    };
  }
  return null;
}

/**
 * The order in which an implicit GEMM writes its result: `output` itself when the kernel
 * can (the output ends with the kernel's block of channels and positions, or is the weight
 * gradient's natural order), else the natural `[batch, rows, channels, positions]` (the
 * weight gradient's `[batch, channels, rows, taps]`), which a permutation then follows.
 */
export function implicitGemmOrder(motif: ImplicitGemm, output: readonly string[]): string[] {
  const [kernels, outputs, inputs] = [0, 1, 2].map((at) => motif.taps.map((tap) => tap[at]));
  const same = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && a.every((name, at) => name === b[at]);
  if (motif.kind === "weight") {
    const natural = [...motif.batch, ...motif.channels, ...motif.rows, ...kernels];
    return same(natural, output) ? [...output] : natural;
  }
  if (motif.kind === "unfold" || motif.kind === "transposeUnfold") {
    const natural = [...motif.rows, ...kernels, ...(motif.kind === "unfold" ? outputs : inputs)];
    return same(natural, output) ? [...output] : natural;
  }
  const block = [...motif.channels, ...(motif.kind === "input" ? inputs : outputs)];
  const natural = [...motif.batch, ...motif.rows, ...block];
  const fits = output.length === natural.length &&
    natural.every((name) => output.includes(name)) &&
    same(output.slice(output.length - block.length), block);
  return fits ? [...output] : natural;
}
