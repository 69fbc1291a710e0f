import {
  contiguous,
  denseIndexPattern,
  type DType,
  LruCache,
  type NdArray,
} from "@einconv/runtime";
import {
  type PatternHyperparameters,
  registerIndexPattern,
  type TensorNetwork,
} from "@einconv/simplify";

/** What the expression cache keeps per key: the (simplified) symbolic network, its
 * equation and the result shape; no numbers. */
export interface ExpressionRecipe {
  /** The symbolic network, simplified if asked. */
  readonly network: TensorNetwork;
  /** Its einsum equation. */
  readonly equation: string;
  /** The shape the einsum result is reshaped to. */
  readonly shape: readonly number[];
}

const recipes = new LruCache<string, ExpressionRecipe>(512);
const patterns = new LruCache<string, NdArray>(256);

/**
 * The LRU of expression recipes, keyed on the operation, its hyperparameters, the
 * shapes, the dtype and `simplify`. A hit means the call did no symbolic work; a miss
 * means the network was built (and simplified). Assign `capacity` to resize it.
 *
 * @example Counting symbolic work
 * ```ts
 * import assert from "node:assert/strict";
 * import { zeros } from "@einconv/runtime";
 * import { convUnfold, expressionCache } from "@einconv/expressions";
 *
 * expressionCache.clear();
 * convUnfold(zeros([1, 2, 5]), 3);
 * convUnfold(zeros([1, 2, 5]), 3);
 * assert.deepEqual([expressionCache.misses, expressionCache.hits], [1, 1]);
 * ```
 */
export const expressionCache: Pick<
  LruCache<string, ExpressionRecipe>,
  "clear" | "capacity" | "size" | "hits" | "misses"
> = recipes;

/**
 * The LRU of materialised index patterns, keyed on their hyperparameters and dtype.
 * Every use hands out a fresh copy, so nothing returned is shared.
 *
 * @example Resizing
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexPatternCache } from "@einconv/expressions";
 *
 * indexPatternCache.capacity = 16;
 * assert.equal(indexPatternCache.capacity, 16);
 * ```
 */
export const indexPatternCache: Pick<
  LruCache<string, NdArray>,
  "clear" | "capacity" | "size" | "hits" | "misses"
> = patterns;

/** The recipe under `key`, built with `build` (and stored) on a miss. */
export function cachedRecipe(key: string, build: () => ExpressionRecipe): ExpressionRecipe {
  const cached = recipes.get(key);
  if (cached !== undefined) return cached;
  const recipe = build();
  recipes.set(key, recipe);
  return recipe;
}

/** A fresh copy of the dense index pattern, from the pattern cache. */
export function cachedPattern(hyperparameters: PatternHyperparameters, dtype: DType): NdArray {
  const key = `${JSON.stringify(hyperparameters)}|${dtype}`;
  let pattern = patterns.get(key);
  if (pattern === undefined) {
    pattern = denseIndexPattern(hyperparameters, dtype);
    patterns.set(key, pattern);
  }
  return registerIndexPattern(contiguous(pattern), hyperparameters);
}
