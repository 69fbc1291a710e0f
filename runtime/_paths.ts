/** A set of index names. */
export type IndexSet = ReadonlySet<string>;

/** The size of every index. */
export type SizeDict = ReadonlyMap<string, number>;

/** Pairs of positions in the current operand list, in opt_einsum's convention: the
 * two operands are removed and their result is appended at the end. */
export type Path = [number, number][];

/**
 * A planner: index sets of the operands, of the output, the index sizes and an
 * optional bound on the elements of any intermediate → a pairwise path.
 */
export type PathFinder = (
  inputs: readonly IndexSet[],
  output: IndexSet,
  sizes: SizeDict,
  memoryLimit?: number,
  stepCost?: StepCost,
) => Path;

/**
 * The cost of contracting two tensors with index sets `a` and `b` into `result`;
 * `aLeaf`/`bLeaf` are the input operand a tensor is (or -1 for an intermediate), so
 * that a cost model can treat structured inputs (index patterns) specially.
 */
export type StepCost = (
  a: IndexSet,
  b: IndexSet,
  result: IndexSet,
  aLeaf: number,
  bLeaf: number,
) => number;

/** opt_einsum's cost of a pairwise step: {@linkcode flopCount} of the index union. */
export function denseStepCost(sizes: SizeDict): StepCost {
  return (a, b, result) => {
    const both = new Set([...a, ...b]);
    return flopCount(both, both.size > result.size, 2, sizes);
  };
}

/** Number of elements of a tensor with these indices. */
export function sizeOf(indices: Iterable<string>, sizes: SizeDict): number {
  let size = 1;
  for (const index of indices) size *= sizes.get(index)!;
  return size;
}

/**
 * opt_einsum's FLOP count of one contraction: the size of the index union, times the
 * number of terms minus one (at least one), plus one more when an index is summed.
 */
export function flopCount(
  indices: Iterable<string>,
  inner: boolean,
  terms: number,
  sizes: SizeDict,
): number {
  return sizeOf(indices, sizes) * (Math.max(1, terms - 1) + (inner ? 1 : 0));
}

/** The indices of `a ∪ b` still needed by the output or by the other operands. */
export function keptIndices(
  a: IndexSet,
  b: IndexSet,
  others: readonly IndexSet[],
  output: IndexSet,
): Set<string> {
  const kept = new Set<string>();
  for (const index of [...a, ...b]) {
    if (output.has(index) || others.some((other) => other.has(index))) kept.add(index);
  }
  return kept;
}

/** Left to right: the first two operands, then the result with the next one. */
export const naivePath: PathFinder = (inputs) => {
  const path: Path = [];
  for (let left = inputs.length; left > 1; left--) {
    path.push(path.length === 0 ? [0, 1] : [0, left - 1]);
  }
  return path;
};

/**
 * Optimal order by dynamic programming over subsets of operands: the cheapest way to
 * build every subset's intermediate is the cheapest split into two smaller subsets.
 * Cost is opt_einsum's FLOP count; splits whose result exceeds `memoryLimit` elements
 * are not allowed.
 */
export const optimalPath: PathFinder = (
  inputs,
  output,
  sizes,
  memoryLimit = Infinity,
  stepCost = denseStepCost(sizes),
) => {
  const n = inputs.length;
  if (n < 2) return [];
  if (n > 16) throw new RangeError(`Cannot plan optimally: ${n} operands, at most 16 allowed`);
  const full = (1 << n) - 1;
  const union: Set<string>[] = new Array(1 << n);
  union[0] = new Set();
  for (let subset = 1; subset <= full; subset++) {
    const low = 31 - Math.clz32(subset & -subset);
    union[subset] = new Set([...union[subset & (subset - 1)], ...inputs[low]]);
  }
  const kept: Set<string>[] = new Array(1 << n);
  for (let subset = 1; subset <= full; subset++) {
    if ((subset & (subset - 1)) === 0) {
      kept[subset] = new Set(inputs[31 - Math.clz32(subset)]);
      continue;
    }
    const outside = union[full ^ subset];
    kept[subset] = new Set([...union[subset]].filter((i) => output.has(i) || outside.has(i)));
  }
  const cost = new Float64Array(1 << n).fill(Infinity);
  const split = new Int32Array(1 << n);
  for (let i = 0; i < n; i++) cost[1 << i] = 0;
  for (let subset = 1; subset <= full; subset++) {
    if ((subset & (subset - 1)) === 0) continue;
    if (subset !== full && sizeOf(kept[subset], sizes) > memoryLimit) continue;
    const result = kept[subset];
    const low = subset & -subset;
    // Enumerate splits {a, subset^a} once each: a always holds the lowest operand.
    for (let a = (subset - 1) & subset; a > 0; a = (a - 1) & subset) {
      if ((a & low) === 0) continue;
      const b = subset ^ a;
      const before = cost[a] + cost[b];
      if (before === Infinity) continue;
      const flops = stepCost(kept[a], kept[b], result, leafOf(a), leafOf(b));
      if (before + flops < cost[subset]) {
        cost[subset] = before + flops;
        split[subset] = a;
      }
    }
  }
  if (cost[full] === Infinity) {
    throw new RangeError(
      `Cannot plan contraction: no order keeps every intermediate within memoryLimit=${memoryLimit} elements`,
    );
  }
  return treeToPath(full, split, n);
};

/** The operand a one-element subset holds, or -1. */
function leafOf(subset: number): number {
  return (subset & (subset - 1)) === 0 ? 31 - Math.clz32(subset) : -1;
}

function treeToPath(full: number, split: Int32Array, n: number): Path {
  // Current operand list, each entry the subset it holds.
  const current: number[] = Array.from({ length: n }, (_, i) => 1 << i);
  const path: Path = [];
  const build = (subset: number): void => {
    if ((subset & (subset - 1)) === 0) return;
    const a = split[subset];
    build(a);
    build(subset ^ a);
    const i = current.indexOf(a);
    const j = current.indexOf(subset ^ a);
    const [lo, hi] = i < j ? [i, j] : [j, i];
    path.push([lo, hi]);
    current.splice(hi, 1);
    current.splice(lo, 1);
    current.push(subset);
  };
  build(full);
  return path;
}

/**
 * opt_einsum's greedy heuristic: repeatedly contract the pair sharing an index whose
 * result removes the most elements (result size minus both inputs' sizes), breaking
 * ties by FLOPs; when no pair shares an index, take the outer product of the two
 * smallest operands.
 */
export const greedyPath: PathFinder = (
  inputs,
  output,
  sizes,
  memoryLimit = Infinity,
  stepCost = denseStepCost(sizes),
) => {
  const current: Set<string>[] = inputs.map((input) => new Set(input));
  const leaves: number[] = inputs.map((_, at) => at);
  const count = new Map<string, number>();
  const tally = (indices: Iterable<string>, by: number) => {
    for (const index of indices) count.set(index, (count.get(index) ?? 0) + by);
  };
  for (const input of current) tally(input, 1);
  const path: Path = [];
  while (current.length > 1) {
    let best: { i: number; j: number; result: Set<string>; key: number; flops: number } | null =
      null;
    for (let i = 0; i < current.length; i++) {
      for (let j = i + 1; j < current.length; j++) {
        const a = current[i];
        const b = current[j];
        let shares = false;
        for (const index of a) if (b.has(index)) shares = true;
        if (!shares) continue;
        const result = new Set<string>();
        const both = new Set([...a, ...b]);
        for (const index of both) {
          const elsewhere = count.get(index)! - (a.has(index) ? 1 : 0) - (b.has(index) ? 1 : 0);
          if (output.has(index) || elsewhere > 0) result.add(index);
        }
        const resultSize = sizeOf(result, sizes);
        if (resultSize > memoryLimit && current.length > 2) continue;
        const key = resultSize - sizeOf(a, sizes) - sizeOf(b, sizes);
        const flops = stepCost(a, b, result, leaves[i], leaves[j]);
        if (best === null || key < best.key || (key === best.key && flops < best.flops)) {
          best = { i, j, result, key, flops };
        }
      }
    }
    if (best === null) {
      const order = current.map((set, at) => ({ at, size: sizeOf(set, sizes) }))
        .sort((x, y) => x.size - y.size || x.at - y.at);
      const [i, j] = [order[0].at, order[1].at].sort((x, y) => x - y);
      const result = keptIndices(
        current[i],
        current[j],
        current.filter((_, at) => at !== i && at !== j),
        output,
      );
      best = { i, j, result, key: 0, flops: 0 };
    }
    const { i, j, result } = best;
    tally(current[i], -1);
    tally(current[j], -1);
    tally(result, 1);
    path.push([i, j]);
    current.splice(j, 1);
    current.splice(i, 1);
    current.push(result);
    leaves.splice(j, 1);
    leaves.splice(i, 1);
    leaves.push(-1);
  }
  return path;
};

/** The planners by name; `"auto"` picks optimal up to eight operands, greedy beyond. */
export const pathFinders: Readonly<Record<PathStrategy, PathFinder>> = {
  auto: (inputs, output, sizes, memoryLimit, stepCost) =>
    (inputs.length <= 8 ? optimalPath : greedyPath)(inputs, output, sizes, memoryLimit, stepCost),
  optimal: optimalPath,
  greedy: greedyPath,
  naive: naivePath,
};

/** Names of the planners. */
export type PathStrategy = "auto" | "optimal" | "greedy" | "naive";
