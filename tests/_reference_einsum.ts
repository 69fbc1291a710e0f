// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import type { NdArray } from "@einconv/runtime";

/** The ellipsis token; broadcast dimension `j` is named `...j`, which no index name can be. */
const ELLIPSIS = "...";

/**
 * Evaluates an einsum equation by brute force: one loop over every assignment of
 * values to all indices, the product of the operands' entries accumulated in float64.
 *
 * It is the oracle the einsum engine is tested against, so it is written to be
 * obviously correct, not fast. Equations follow numpy: explicit (`"ij,jk->ik"`) or
 * implicit output (`"ij,jk"`: the indices occurring exactly once, sorted by char
 * code, after the ellipsis dimensions), repeated indices within an operand
 * (diagonals), 0-d operands, size-0 dimensions, and `...` with broadcasting of
 * size-1 dimensions. Broadcast dimensions missing from an explicit output are
 * summed. An equation is read in einops style (names separated by spaces, as in
 * `"batch c_in, c_out c_in -> batch c_out"`) when a term has inner whitespace or a
 * name with a digit or an underscore.
 *
 * @param equation The einsum equation.
 * @param operands The operands, one per input term; any strides and dtypes.
 * @returns A new C-contiguous float64 ndarray.
 *
 * @example A matrix product and a trace
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor, toNested } from "@einconv/runtime";
 * import { referenceEinsum } from "./_reference_einsum.ts";
 *
 * const a = tensor([[1, 2], [3, 4]]);
 * assert.deepEqual(toNested(referenceEinsum("ij,jk->ik", a, a)), [[7, 10], [15, 22]]);
 * assert.equal(referenceEinsum("ii", a).get(), 5);
 * ```
 */
export function referenceEinsum(equation: string, ...operands: NdArray[]): NdArray {
  const { inputs, output } = parseEquation(equation, operands.map((x) => x.shape));
  const sizes = indexSizes(inputs, operands);
  const labels = [...output, ...[...sizes.keys()].filter((name) => !output.includes(name))];
  const extents = labels.map((name) => sizes.get(name)!);
  const outShape = output.map((name) => sizes.get(name)!);
  const outStrides = rowMajorStrides(outShape);
  // How far each operand's read position moves when one index advances by one; a
  // name repeated in a term adds up its strides (a diagonal), a broadcast size-1
  // dimension adds nothing.
  const steps = operands.map((x, k) =>
    labels.map((name) => {
      let step = 0;
      inputs[k].forEach((dimName, d) => {
        if (dimName === name && x.shape[d] === sizes.get(name)) step += x.stride[d];
      });
      return step;
    })
  );
  const out = new Float64Array(outShape.reduce((a, b) => a * b, 1));
  const total = extents.reduce((a, b) => a * b, 1);
  const value = new Array<number>(labels.length).fill(0);
  for (let count = 0; count < total; count++) {
    let product = 1;
    operands.forEach((x, k) => {
      let at = x.offset;
      value.forEach((v, l) => at += v * steps[k][l]);
      product *= x.data[at];
    });
    let outAt = 0;
    outStrides.forEach((stride, l) => outAt += value[l] * stride);
    out[outAt] += product;
    for (let l = labels.length - 1; l >= 0; l--) {
      if (++value[l] < extents[l]) break;
      value[l] = 0;
    }
  }
  return ndarray(out, outShape);
}

/** The equation with `...` expanded: the index names of every operand's dimensions and of the output. */
interface ParsedEquation {
  inputs: string[][];
  output: string[];
}

function parseEquation(equation: string, shapes: readonly number[][]): ParsedEquation {
  if (typeof equation !== "string") {
    throw new TypeError(`Cannot read equation: expected a string, got ${typeof equation}`);
  }
  const sides = equation.split("->");
  if (sides.length > 2) {
    throw new RangeError(
      `Cannot read equation: expected at most one "->", got ${JSON.stringify(equation)}`,
    );
  }
  const terms = sides[0].split(",");
  if (terms.length !== shapes.length) {
    throw new RangeError(
      `Cannot read equation: ${
        JSON.stringify(equation)
      } has ${terms.length} input terms, got ${shapes.length} operands`,
    );
  }
  const isEinops = [...terms, ...sides.slice(1)].some((term) =>
    /\s/.test(term.trim()) || /[0-9_]/.test(term)
  );
  const tokens = terms.map((term) => tokenize(term, isEinops, equation));
  const ellipsisRanks = tokens.map((names, k) => {
    const named = names.filter((name) => name !== ELLIPSIS).length;
    const rank = shapes[k].length;
    if (names.includes(ELLIPSIS) ? rank < named : rank !== named) {
      throw new RangeError(
        `Cannot read operand ${k}: term ${
          JSON.stringify(terms[k].trim())
        } does not fit its shape [${shapes[k]}]`,
      );
    }
    return rank - named;
  });
  const broadcastRank = Math.max(0, ...ellipsisRanks);
  const broadcastNames = Array.from({ length: broadcastRank }, (_, j) => `${ELLIPSIS}${j}`);
  const inputs = tokens.map((names, k) =>
    names.flatMap((name) =>
      name === ELLIPSIS ? broadcastNames.slice(broadcastRank - ellipsisRanks[k]) : [name]
    )
  );
  if (sides.length === 1) {
    const counts = new Map<string, number>();
    for (const name of tokens.flat()) counts.set(name, (counts.get(name) ?? 0) + 1);
    const once = [...counts].filter(([name, n]) => n === 1 && name !== ELLIPSIS);
    const sorted = once.map(([name]) => name).sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
    return { inputs, output: [...broadcastNames, ...sorted] };
  }
  const outTokens = tokenize(sides[1], isEinops, equation);
  const known = new Set(tokens.flat());
  outTokens.forEach((name, at) => {
    if (name !== ELLIPSIS && !known.has(name)) {
      throw new RangeError(
        `Cannot read equation: output index "${name}" is not in any input of ${
          JSON.stringify(equation)
        }`,
      );
    }
    if (outTokens.indexOf(name) !== at) {
      throw new RangeError(
        `Cannot read equation: output index "${name}" repeats in ${JSON.stringify(equation)}`,
      );
    }
  });
  const output = outTokens.flatMap((name) => name === ELLIPSIS ? broadcastNames : [name]);
  return { inputs, output };
}

function tokenize(term: string, isEinops: boolean, equation: string): string[] {
  let names: string[];
  if (isEinops) {
    names = term.trim().split(/\s+/).filter((name) => name !== "");
    const bad = names.find((name) => name !== ELLIPSIS && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name));
    if (bad !== undefined) {
      throw new RangeError(
        `Cannot read equation: index "${bad}" in ${
          JSON.stringify(equation)
        } is neither a name nor "..."`,
      );
    }
  } else {
    names = term.replace(/\s+/g, "").match(/\.\.\.|./g) ?? [];
    const bad = names.find((name) => name !== ELLIPSIS && !/^[A-Za-z]$/.test(name));
    if (bad !== undefined) {
      throw new RangeError(
        `Cannot read equation: index "${bad}" in ${
          JSON.stringify(equation)
        } is neither a letter nor "..."`,
      );
    }
  }
  if (names.filter((name) => name === ELLIPSIS).length > 1) {
    throw new RangeError(
      `Cannot read equation: term ${JSON.stringify(term.trim())} has more than one "..."`,
    );
  }
  return names;
}

/** The size of every index; broadcast dimensions of size 1 give way to any other size. */
function indexSizes(
  inputs: readonly string[][],
  operands: readonly NdArray[],
): Map<string, number> {
  const sizes = new Map<string, number>();
  inputs.forEach((names, k) =>
    names.forEach((name, d) => {
      const size = operands[k].shape[d];
      const known = sizes.get(name);
      const broadcasts = name.startsWith(ELLIPSIS) && (known === 1 || size === 1);
      if (known === undefined || (broadcasts && known === 1)) sizes.set(name, size);
      else if (known !== size && !broadcasts) {
        const shown = name.startsWith(ELLIPSIS) ? "a dimension of ..." : `index "${name}"`;
        throw new RangeError(
          `Cannot read operand ${k}: ${shown} has size ${size}, elsewhere ${known}`,
        );
      }
    })
  );
  return sizes;
}

function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let step = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = step;
    step *= shape[d];
  }
  return strides;
}
