/** How an equation names its indices. */
export type EquationStyle = "numpy" | "einops";

/** An einsum equation resolved against the ranks of its operands. */
export interface ParsedEquation {
  /** The equation as given. */
  equation: string;
  /** `"numpy"`: one letter per index; `"einops"`: names separated by spaces. */
  style: EquationStyle;
  /** Index names of every operand, one per dimension. Dimensions covered by an
   * ellipsis get the names `"...0"`, `"...1"`, … aligned to the right as numpy
   * broadcasting aligns them. */
  inputs: string[][];
  /** Index names of the result, one per dimension. */
  output: string[];
}

const ELLIPSIS = "...";
const NUMPY_INDEX = /^[A-Za-z]$/;
const EINOPS_INDEX = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses an einsum equation in numpy/torch style (`"ij,jk->ik"`, implicit output,
 * `...`, repeated indices) or einops style (`"batch c_in, c_out c_in -> batch c_out"`).
 *
 * The style is einops when a term holds names separated by spaces or a name with a
 * digit or an underscore; otherwise every letter is one index. In implicit mode the
 * output holds the ellipsis dimensions, then the indices that occur exactly once, sorted
 * by character code as numpy sorts them.
 *
 * @param equation The einsum equation.
 * @param ranks The rank of every operand, used to expand `...`.
 * @returns The index names of every operand and of the output.
 *
 * @example Ellipsis expansion
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseEquation } from "@einconv/runtime";
 *
 * const parsed = parseEquation("...ij,jk", [3, 2]);
 * assert.deepEqual(parsed.inputs, [["...0", "i", "j"], ["j", "k"]]);
 * assert.deepEqual(parsed.output, ["...0", "i", "k"]);
 * ```
 */
export function parseEquation(equation: string, ranks: readonly number[]): ParsedEquation {
  if (typeof equation !== "string") {
    throw new TypeError(`Cannot parse equation: expected a string, got ${typeof equation}`);
  }
  const fail = (what: string): never => {
    throw new RangeError(`Cannot parse equation ${JSON.stringify(equation)}: ${what}`);
  };
  const arrows = equation.split("->");
  if (arrows.length > 2) fail('"->" occurs more than once');
  const [left, right] = arrows;
  const style = detectStyle(equation);
  const terms = left.split(",").map((term, at) => splitTerm(term, style, `operand ${at}`, fail));
  if (terms.length !== ranks.length) {
    fail(
      `it has ${terms.length} operand${terms.length === 1 ? "" : "s"}, got ${ranks.length}`,
    );
  }
  let ellipsisRank = 0;
  const ellipsisRanks = terms.map((names, at) => {
    const dots = names.filter((name) => name === ELLIPSIS).length;
    if (dots > 1) fail(`operand ${at} has "..." more than once`);
    const named = names.length - dots;
    if (dots === 0 ? ranks[at] !== named : ranks[at] < named) {
      fail(
        `operand ${at} has rank ${ranks[at]}, its subscripts ${
          JSON.stringify(names.join(style === "numpy" ? "" : " "))
        } need ${dots === 0 ? "" : "at least "}${named}`,
      );
    }
    const rank = ranks[at] - named;
    ellipsisRank = Math.max(ellipsisRank, rank * dots);
    return rank * dots;
  });
  const ellipsisNames = (count: number) =>
    Array.from({ length: count }, (_, d) => `...${ellipsisRank - count + d}`);
  const inputs = terms.map((names, at) =>
    names.flatMap((name) => name === ELLIPSIS ? ellipsisNames(ellipsisRanks[at]) : [name])
  );
  let output: string[];
  if (right === undefined) {
    const counts = new Map<string, number>();
    for (const name of inputs.flat()) counts.set(name, (counts.get(name) ?? 0) + 1);
    const once = [...counts].filter(([name, n]) => n === 1 && !name.startsWith(ELLIPSIS))
      .map(([name]) => name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    output = [...ellipsisNames(ellipsisRank), ...once];
  } else {
    const names = splitTerm(right, style, "the output", fail);
    const known = new Set(inputs.flat());
    const seen = new Set<string>();
    output = [];
    for (const name of names) {
      if (seen.has(name)) fail(`index ${JSON.stringify(name)} occurs twice in the output`);
      seen.add(name);
      if (name === ELLIPSIS) output.push(...ellipsisNames(ellipsisRank));
      else if (!known.has(name)) {
        fail(`output index ${JSON.stringify(name)} does not occur in any operand`);
      } else output.push(name);
    }
  }
  return { equation, style, inputs, output };
}

function detectStyle(equation: string): EquationStyle {
  for (const term of equation.split(/,|->/)) {
    const names = term.trim().split(/\s+/).filter((name) => name !== "");
    if (names.length > 1 || names.some((name) => /[0-9_]/.test(name))) return "einops";
  }
  return "numpy";
}

function splitTerm(
  term: string,
  style: EquationStyle,
  where: string,
  fail: (what: string) => never,
): string[] {
  const names: string[] = [];
  if (style === "einops") {
    for (const word of term.trim().split(/\s+/)) {
      if (word === "") continue;
      const pieces = word.split(ELLIPSIS);
      pieces.forEach((piece, at) => {
        if (at > 0) names.push(ELLIPSIS);
        if (piece === "") return;
        if (!EINOPS_INDEX.test(piece)) {
          fail(
            `${where} has index ${
              JSON.stringify(piece)
            }; einops-style names are letters, digits and "_", starting with a letter or "_"`,
          );
        }
        names.push(piece);
      });
    }
    return names;
  }
  for (let at = 0; at < term.length; at++) {
    const char = term[at];
    if (char === " " || char === "\t") continue;
    if (term.startsWith(ELLIPSIS, at)) {
      names.push(ELLIPSIS);
      at += 2;
    } else if (NUMPY_INDEX.test(char)) names.push(char);
    else {
      fail(
        `${where} has character ${
          JSON.stringify(char)
        }; allowed are letters a-z and A-Z, ",", "->", "..." and spaces`,
      );
    }
  }
  return names;
}
