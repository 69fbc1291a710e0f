import type { SymbolicTensor } from "./symbolic_tensor.ts";

/** A tensor network: symbolic operands and the index names of the result. */
export interface TensorNetwork {
  /** The operands, in einsum order. */
  readonly operands: readonly SymbolicTensor[];
  /** Index names of the result, in order. */
  readonly output: readonly string[];
}

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/**
 * Writes a network as a single-letter einsum equation. Names that are one letter keep
 * it; the others get the first free letters in order of first appearance (a–z, then
 * A–Z), as einconv translates its einops equations.
 *
 * @param network The network.
 * @returns The equation, e.g. `"nabc,deb,fhc,iadf->nieh"`.
 *
 * @example Readable names become letters
 * ```ts
 * import assert from "node:assert/strict";
 * import { networkEquation, SymbolicTensor } from "@einconv/simplify";
 *
 * const x = new SymbolicTensor({
 *   source: { kind: "input", name: "x" },
 *   indices: ["n", "c_in"],
 *   shape: [2, 3],
 * });
 * const w = new SymbolicTensor({
 *   source: { kind: "input", name: "w" },
 *   indices: ["c_out", "c_in"],
 *   shape: [4, 3],
 * });
 * assert.equal(networkEquation({ operands: [x, w], output: ["n", "c_out"] }), "na,ba->nb");
 * ```
 */
export function networkEquation(network: TensorNetwork): string {
  const names: string[] = [];
  for (const name of [...network.operands.flatMap((t) => t.indices), ...network.output]) {
    if (!names.includes(name)) names.push(name);
  }
  const letter = new Map<string, string>();
  for (const name of names) {
    if (name.length === 1 && LETTERS.includes(name)) letter.set(name, name);
  }
  const taken = new Set(letter.values());
  const free = [...LETTERS].filter((l) => !taken.has(l));
  for (const name of names) {
    if (letter.has(name)) continue;
    const next = free.shift();
    if (next === undefined) {
      throw new RangeError(
        `Cannot write the network as an einsum: it has ${names.length} indices, at most 52 letters exist`,
      );
    }
    letter.set(name, next);
  }
  const spell = (indices: readonly string[]) => indices.map((name) => letter.get(name)).join("");
  return `${network.operands.map((t) => spell(t.indices)).join(",")}->${spell(network.output)}`;
}

/** The size of every index of the network. */
export function networkSizes(network: TensorNetwork): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const t of network.operands) t.indices.forEach((name, d) => sizes.set(name, t.shape[d]));
  return sizes;
}

/** A name not used in the network, derived from `base`. */
export function freshName(network: TensorNetwork, base: string): string {
  const used = new Set([...network.operands.flatMap((t) => t.indices), ...network.output]);
  let at = 1;
  while (used.has(`${base}_${at}`)) at++;
  return `${base}_${at}`;
}

/** Splits index `name` into `into` (row-major, sizes `sizes`) in every operand and the output. */
export function ungroupIndex(
  network: TensorNetwork,
  name: string,
  sizes: readonly number[],
  into: readonly string[],
): TensorNetwork {
  return {
    operands: network.operands.map((t) =>
      t.indices.includes(name) ? t.ungroup(name, sizes, into) : t
    ),
    output: network.output.flatMap((index) => (index === name ? [...into] : [index])),
  };
}

/** Narrows index `name` in every operand to `length` entries `step` apart from `start`
 * (it must not be in the output). */
export function narrowIndex(
  network: TensorNetwork,
  name: string,
  start: number,
  length: number,
  step: number = 1,
): TensorNetwork {
  return {
    operands: network.operands.map((t) =>
      t.indices.includes(name) ? t.narrow(name, start, length, step) : t
    ),
    output: network.output,
  };
}

/** Merges consecutive indices `names` into `names[0]` in every operand and the output. */
export function groupIndices(network: TensorNetwork, names: readonly string[]): TensorNetwork {
  const [first] = names;
  const output = [...network.output];
  const at = output.indexOf(first);
  if (at >= 0) output.splice(at, names.length, first);
  return {
    operands: network.operands.map((t) => t.indices.includes(first) ? t.group(names, first) : t),
    output,
  };
}

/** Renames index `from` to `to` in every operand and the output. */
export function renameIndex(network: TensorNetwork, from: string, to: string): TensorNetwork {
  return {
    operands: network.operands.map((t) => (t.indices.includes(from) ? t.rename(from, to) : t)),
    output: network.output.map((index) => (index === from ? to : index)),
  };
}

/** The network with operand `at` replaced by `replacement` (any number of operands). */
export function replaceOperand(
  network: TensorNetwork,
  at: number,
  replacement: readonly SymbolicTensor[],
): TensorNetwork {
  const operands = [...network.operands];
  operands.splice(at, 1, ...replacement);
  return { operands, output: network.output };
}
