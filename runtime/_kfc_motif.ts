import type { ParsedEquation } from "./parse_equation.ts";
import type { PatternHyperparameters } from "./index_pattern_registry.ts";

/**
 * A Kronecker factor of two unfolded inputs that share their output positions (KFC),
 * `Y[batch, rows₁, k₁, rows₂, k₂] = Σ_{contracted, o} U₁[…, o] · U₂[…, o]` times the sums of
 * scalar operands, run as one GEMM per batch and contracted entry (and band of outputs) of
 * the two unfolded inputs in WASM memory, never built whole. Positions are operand
 * positions; names are index names by role.
 */
export interface ImplicitKfc {
  /** The two data operands. */
  readonly data: readonly [number, number];
  /** Each data operand's patterns, one per spatial dimension: the d-th of the second
   * shares its output index with the d-th of the first. */
  readonly patterns: readonly [readonly number[], readonly number[]];
  /** Operands whose every index is theirs alone: their sums multiply the result. */
  readonly scalars: readonly number[];
  /** Indices of both data operands and the output (looped over, e.g. groups). */
  readonly batch: readonly string[];
  /** Indices of both data operands summed away (e.g. the batch of images). */
  readonly contracted: readonly string[];
  /** Indices of one data operand and the output only (e.g. its channels). */
  readonly rows: readonly [readonly string[], readonly string[]];
  /** Per data operand, per pattern `[k, o, i]`. */
  readonly taps: readonly [
    readonly (readonly [string, string, string])[],
    readonly (readonly [string, string, string])[],
  ];
}

/**
 * Recognises a KFC network: two dense data operands, each with N ≥ 1 index patterns whose
 * input indices are its last ones (in the patterns' order) and only its; the d-th
 * patterns of both share an output index that nothing else holds; every kernel index in
 * the output; every other index of the data operands in both (batch or summed) or in one
 * and the output; any further dense operand holds only indices of its own. Returns null
 * for anything else.
 */
export function findImplicitKfc(
  parsed: ParsedEquation,
  patterns: readonly (PatternHyperparameters | undefined)[],
): ImplicitKfc | null {
  const { inputs, output } = parsed;
  if (inputs.some((names) => new Set(names).size !== names.length)) return null;
  const holders = new Map<string, number[]>();
  inputs.forEach((names, at) =>
    names.forEach((name) => holders.set(name, [...(holders.get(name) ?? []), at]))
  );
  const out = new Set(output);
  const own = (at: number) =>
    inputs[at].every((name) => holders.get(name)!.length === 1 && !out.has(name));
  const dense = inputs.map((_, at) => at).filter((at) => patterns[at] === undefined);
  const scalars = dense.filter(own);
  const data = dense.filter((at) => !own(at));
  if (data.length !== 2) return null;
  const attached = data.map((d) =>
    inputs.map((_, at) => at).filter((at) =>
      patterns[at] !== undefined && holders.get(inputs[at][2])!.includes(d)
    )
  );
  const n = attached[0].length;
  if (n === 0 || attached[1].length !== n) return null;
  if (attached[0].length + attached[1].length !== inputs.length - dense.length) return null;
  const taps = attached.map((list) =>
    list.map((at) => inputs[at] as unknown as [string, string, string])
  );
  for (let side = 0; side < 2; side++) {
    const names = inputs[data[side]];
    const last = names.slice(names.length - n);
    const fits = taps[side].every(([k, o, i], d) =>
      last[d] === i && holders.get(i)!.length === 2 && !out.has(i) &&
      holders.get(k)!.length === 1 && out.has(k) &&
      o === taps[1 - side][d][1] && holders.get(o)!.length === 2 && !out.has(o)
    );
    if (!fits) return null;
  }
  const inputNames = new Set(taps.flat().map((tap) => tap[2]));
  const rest = data.map((at) => inputs[at].filter((name) => !inputNames.has(name)));
  const shared = new Set(rest[0].filter((name) => rest[1].includes(name)));
  const rows = rest.map((names) => names.filter((name) => !shared.has(name)));
  if (!rows.every((names) => names.every((name) => out.has(name)))) return null;
  const batch = rest[0].filter((name) => shared.has(name) && out.has(name));
  const contracted = rest[0].filter((name) => shared.has(name) && !out.has(name));
  return {
    data: [data[0], data[1]],
    patterns: [attached[0], attached[1]],
    scalars,
    batch,
    contracted,
    rows: [rows[0], rows[1]],
    taps: [taps[0], taps[1]],
  };
}

/** The order in which an implicit KFC writes its result: `[batch, rows₁, k₁…, rows₂, k₂…]`. */
export function implicitKfcOrder(motif: ImplicitKfc): string[] {
  return [
    ...motif.batch,
    ...motif.rows[0],
    ...motif.taps[0].map((tap) => tap[0]),
    ...motif.rows[1],
    ...motif.taps[1].map((tap) => tap[0]),
  ];
}
