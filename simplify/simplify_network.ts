import { type PatternHyperparameters, SymbolicTensor } from "./symbolic_tensor.ts";
import {
  freshName,
  groupIndices,
  narrowIndex,
  networkSizes,
  renameIndex,
  replaceOperand,
  type TensorNetwork,
  ungroupIndex,
} from "./tensor_network.ts";

/**
 * Applies one rule of this library's, then einconv's simplification rules in einconv's
 * order, each to a fixpoint:
 *
 * 1. (not einconv's) patterns that read only every g-th input (g > 1 divides the stride,
 *    when there are several outputs, and the dilation, when there are several taps; input
 *    index summed) narrow their input index to that lattice, a strided view of the data,
 *    and become patterns over it with stride and dilation divided by g: a stride-2
 *    dilation-2 convolution reads a quarter of its input;
 * 2. down-sampling patterns (stride > kernel, no padding, no dilation, divisible input,
 *    input index summed) split their input index and keep only the kernel's taps;
 * 3. dense patterns (stride = kernel, no padding, no dilation, divisible input) become
 *    two identities over a split input index;
 * 4. identities are pruned: duplicates dropped, self-contained ones become their trace,
 *    ones that connect to another operand are removed by renaming an index;
 * 5. parallel indices (adjacent in the same order wherever either occurs) are merged;
 * 6. size-1 indices are squeezed from every operand with more than one index, except
 *    those an index pattern holds (a 1×1 kernel's, which stay on the weight too), so that
 *    the planner still sees a gather, a scatter or a convolution.
 *
 * The result has the same value and the same row-major element order of its output.
 *
 * @param network A network, typically a convolution's operands and index patterns.
 * @returns An equivalent network, usually with fewer operands and indices.
 *
 * @example A 1×1 convolution loses its index pattern
 * ```ts
 * import assert from "node:assert/strict";
 * import { networkEquation, simplifyNetwork, SymbolicTensor } from "@einconv/simplify";
 *
 * const pattern = {
 *   inputSize: 5, kernelSize: 1, outputSize: 5, stride: 1,
 *   paddingLeft: 0, paddingRight: 0, dilation: 1,
 * };
 * const network = {
 *   operands: [
 *     new SymbolicTensor({ source: { kind: "input", name: "x" }, indices: ["n", "c", "i"], shape: [2, 3, 5] }),
 *     new SymbolicTensor({ source: { kind: "pattern", pattern }, indices: ["k", "o", "i"], shape: [1, 5, 5] }),
 *     new SymbolicTensor({ source: { kind: "input", name: "w" }, indices: ["d", "c", "k"], shape: [4, 3, 1] }),
 *   ],
 *   output: ["n", "d", "o"],
 * };
 * assert.equal(networkEquation(simplifyNetwork(network)), "nci,dc->ndi");
 * ```
 */
export function simplifyNetwork(network: TensorNetwork): TensorNetwork {
  network = rewritePatterns(network, (p) => latticeStep(p) > 1, keepLattice);
  network = rewritePatterns(network, isDownsampling, downsample);
  network = rewritePatterns(network, isDense, densify);
  network = removeDuplicateIdentities(network);
  network = traceSelfContainedIdentities(network);
  network = removeContractingIdentities(network);
  network = mergeParallelIndices(network);
  return squeezeUnitIndices(network);
}

function isDownsampling(p: PatternHyperparameters): boolean {
  return p.stride > p.kernelSize && p.paddingLeft === 0 && p.paddingRight === 0 &&
    p.dilation === 1 && p.inputSize % p.stride === 0 && p.outputSize * p.stride === p.inputSize;
}

function isDense(p: PatternHyperparameters): boolean {
  return p.stride === p.kernelSize && p.paddingLeft === 0 && p.paddingRight === 0 &&
    p.dilation === 1 && p.outputSize * p.kernelSize === p.inputSize;
}

/** Rewrites the first qualifying pattern operand until none qualifies. */
function rewritePatterns(
  network: TensorNetwork,
  qualifies: (pattern: PatternHyperparameters) => boolean,
  rewrite: (network: TensorNetwork, at: number) => TensorNetwork | null,
): TensorNetwork {
  const skip = new Set<number>();
  for (;;) {
    const at = network.operands.findIndex((t, position) =>
      !skip.has(position) && t.pattern !== undefined && qualifies(t.pattern)
    );
    if (at < 0) return network;
    const next = rewrite(network, at);
    if (next === null) skip.add(at);
    else network = next;
  }
}

/** The largest g dividing every step between the inputs a pattern reads: the stride when
 * there are several outputs, the dilation when there are several taps (0: at most one
 * input is read). */
function latticeStep(p: PatternHyperparameters): number {
  return greatestCommonDivisor(
    p.outputSize > 1 ? p.stride : 0,
    p.kernelSize > 1 ? p.dilation : 0,
  );
}

function greatestCommonDivisor(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Pattern (k, o, i) reading only inputs i = g·i′ + r (g = latticeStep, r = −paddingLeft
 * mod g): i is narrowed to those inputs in every operand, and the pattern becomes the one
 * over i′ with stride and dilation divided by g, the same outputs and taps. */
function keepLattice(network: TensorNetwork, at: number): TensorNetwork | null {
  const pattern = network.operands[at];
  const [k, o, i] = pattern.indices;
  if (network.output.includes(i)) return null;
  const p = pattern.pattern!;
  const g = latticeStep(p);
  const r = ((-p.paddingLeft % g) + g) % g;
  const inputSize = Math.ceil((p.inputSize - r) / g);
  if (inputSize <= 0) return null;
  const stride = p.outputSize > 1 ? p.stride / g : 1;
  const dilation = p.kernelSize > 1 ? p.dilation / g : 1;
  const paddingLeft = (p.paddingLeft + r) / g;
  const lastRead = -paddingLeft + (p.kernelSize - 1) * dilation + (p.outputSize - 1) * stride;
  const lattice: PatternHyperparameters = {
    inputSize,
    kernelSize: p.kernelSize,
    outputSize: p.outputSize,
    stride,
    paddingLeft,
    paddingRight: Math.max(0, lastRead - (inputSize - 1)),
    dilation,
  };
  network = narrowIndex(network, i, r, inputSize, g);
  return replaceOperand(network, at, [
    new SymbolicTensor({
      source: { kind: "pattern", pattern: lattice },
      indices: [k, o, i],
      shape: [p.kernelSize, p.outputSize, inputSize],
    }),
  ]);
}

/** Pattern (k, o, i) with stride S > K: input i = (i′, r) with r < S, of which only
 * r < K is ever read; becomes δ(o, i′) δ(k, r) after narrowing r to K. */
function downsample(network: TensorNetwork, at: number): TensorNetwork | null {
  const pattern = network.operands[at];
  const [k, o, i] = pattern.indices;
  if (network.output.includes(i)) return null;
  const p = pattern.pattern!;
  const rest = freshName(network, i);
  network = ungroupIndex(network, i, [p.inputSize / p.stride, p.stride], [i, rest]);
  network = narrowIndex(network, rest, 0, p.kernelSize);
  return replaceOperand(network, at, [
    identity(p.outputSize, [o, i]),
    identity(p.kernelSize, [k, rest]),
  ]);
}

/** Pattern (k, o, i) with stride = K: input i = (i′, r) and the pattern is δ(o, i′) δ(k, r). */
function densify(network: TensorNetwork, at: number): TensorNetwork {
  const pattern = network.operands[at];
  const [k, o, i] = pattern.indices;
  const p = pattern.pattern!;
  const rest = freshName(network, i);
  network = ungroupIndex(network, i, [p.outputSize, p.kernelSize], [i, rest]);
  return replaceOperand(network, at, [
    identity(p.outputSize, [o, i]),
    identity(p.kernelSize, [k, rest]),
  ]);
}

function identity(size: number, indices: readonly string[]): SymbolicTensor {
  return new SymbolicTensor({ source: { kind: "identity", size }, indices, shape: [size, size] });
}

function removeDuplicateIdentities(network: TensorNetwork): TensorNetwork {
  const seen = new Set<string>();
  const operands = network.operands.filter((t) => {
    if (!t.isIdentity) return true;
    const key = [...t.indices].sort().join("\u0000");
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { operands, output: network.output };
}

/** An identity whose two indices occur nowhere else is its trace: a constant. */
function traceSelfContainedIdentities(network: TensorNetwork): TensorNetwork {
  for (let at = 0; at < network.operands.length; at++) {
    const t = network.operands[at];
    if (!t.isIdentity || t.indices.some((name) => usedElsewhere(network, at, name))) continue;
    const constant = new SymbolicTensor({
      source: { kind: "constant", value: t.shape[0] },
      indices: [t.indices[0]],
      shape: [1],
    });
    network = replaceOperand(network, at, [constant]);
  }
  return network;
}

/** An identity δ(a, b) sharing an index with another operand is removed by renaming
 * a to b everywhere (unless that would put both in one operand or in the output). */
function removeContractingIdentities(network: TensorNetwork): TensorNetwork {
  for (;;) {
    const at = network.operands.findIndex((t, position) => {
      if (!t.isIdentity) return false;
      const [a, b] = t.indices;
      const others = network.operands.filter((_, p) => p !== position);
      return others.some((o) => o.indices.includes(a) || o.indices.includes(b)) &&
        !others.some((o) => o.indices.includes(a) && o.indices.includes(b)) &&
        !(network.output.includes(a) && network.output.includes(b));
    });
    if (at < 0) return network;
    const [a, b] = network.operands[at].indices;
    network = renameIndex(replaceOperand(network, at, []), a, b);
  }
}

function usedElsewhere(network: TensorNetwork, at: number, name: string): boolean {
  return network.output.includes(name) ||
    network.operands.some((t, position) => position !== at && t.indices.includes(name));
}

/** Merges two indices that are adjacent, in the same order, wherever either occurs. */
function mergeParallelIndices(network: TensorNetwork): TensorNetwork {
  for (;;) {
    const pair = nextParallelPair(network);
    if (pair === null) return network;
    network = groupIndices(network, pair);
  }
}

function nextParallelPair(network: TensorNetwork): [string, string] | null {
  const lists = [...network.operands.map((t) => t.indices), network.output];
  const adjacentOrAbsent = (list: readonly string[], a: string, b: string) => {
    const i = list.indexOf(a);
    const j = list.indexOf(b);
    return (i < 0 && j < 0) || (i >= 0 && j === i + 1);
  };
  for (const t of network.operands) {
    if (t.isIdentity) continue;
    for (let d = 0; d + 1 < t.indices.length; d++) {
      const a = t.indices[d];
      const b = t.indices[d + 1];
      // Identities and index patterns keep their indices: grouping would make a pattern
      // a dense operand the planner can no longer run as a gather.
      const structured = network.operands.some((o) =>
        (o.isIdentity || o.pattern !== undefined) &&
        (o.indices.includes(a) || o.indices.includes(b))
      );
      if (!structured && lists.every((list) => adjacentOrAbsent(list, a, b))) return [a, b];
    }
  }
  return null;
}

/** Drops size-1 indices from the output and from every operand with more than one
 * index that is not an identity. */
function squeezeUnitIndices(network: TensorNetwork): TensorNetwork {
  const sizes = networkSizes(network);
  // An index pattern keeps its [K, O, I] form, and every operand its indices (a 1×1
  // kernel's K of size 1), so that the planner still sees a gather, a scatter or a
  // convolution, not dense matrices.
  const held = new Set(network.operands.flatMap((t) => t.pattern ? t.indices : []));
  const unit = new Set(
    [...sizes].filter(([name, size]) => size === 1 && !held.has(name)).map(([name]) => name),
  );
  const operands = network.operands.map((t) => {
    if (t.isIdentity) return t;
    let squeezed = t;
    for (const name of t.indices) {
      if (unit.has(name) && squeezed.indices.length > 1) squeezed = squeezed.squeeze(name);
    }
    return squeezed;
  });
  return { operands, output: network.output.filter((name) => !unit.has(name)) };
}
