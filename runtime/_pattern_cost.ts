import { type PatternHyperparameters, patternInput } from "./index_pattern_registry.ts";
import { denseStepCost, type IndexSet, type SizeDict, sizeOf, type StepCost } from "./_paths.ts";

/** The number of ones of an index pattern: kernel taps that land inside the input. */
function patternNonzeros(p: PatternHyperparameters): number {
  let count = 0;
  for (let k = 0; k < p.kernelSize; k++) {
    for (let o = 0; o < p.outputSize; o++) {
      const i = patternInput(p, k, o);
      if (i >= 0 && i < p.inputSize) count++;
    }
  }
  return count;
}

/**
 * The cost of a step between an index pattern `[k, o, i]` and a tensor `t`: a gather
 * or scatter-add that moves one slice of `t` per one of the pattern, so its cost is the
 * pattern's number of ones times the size of that slice (plus summing `t` over indices
 * nobody needs first), never a dense product with `[K, O, I]`.
 */
function patternStep(
  pattern: PatternHyperparameters,
  patternIndices: IndexSet,
  t: IndexSet,
  result: IndexSet,
  sizes: SizeDict,
): number {
  const slice = [...t].filter((name) => !patternIndices.has(name) && result.has(name));
  const reduces = [...t].some((name) => !patternIndices.has(name) && !result.has(name));
  return patternNonzeros(pattern) * sizeOf(slice, sizes) + (reduces ? sizeOf(t, sizes) : 0);
}

/** opt_einsum's dense cost, except for steps with an index-pattern input. */
export function patternAwareStepCost(
  sizes: SizeDict,
  patterns: readonly (PatternHyperparameters | undefined)[],
  leafIndices: readonly IndexSet[],
): StepCost {
  const dense = denseStepCost(sizes);
  return (a, b, result, aLeaf, bLeaf) => {
    const pa = aLeaf >= 0 ? patterns[aLeaf] : undefined;
    const pb = bLeaf >= 0 ? patterns[bLeaf] : undefined;
    if (pa !== undefined) return patternStep(pa, leafIndices[aLeaf], b, result, sizes);
    if (pb !== undefined) return patternStep(pb, leafIndices[bLeaf], a, result, sizes);
    return dense(a, b, result, aLeaf, bLeaf);
  };
}
