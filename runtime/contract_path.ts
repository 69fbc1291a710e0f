import { type ParsedEquation, parseEquation } from "./parse_equation.ts";
import {
  denseStepCost,
  flopCount,
  type IndexSet,
  keptIndices,
  naivePath,
  type Path,
  pathFinders,
  type PathStrategy,
  sizeOf,
  type StepCost,
} from "./_paths.ts";
import { patternAwareStepCost } from "./_pattern_cost.ts";
import { findImplicitGemm, type ImplicitGemm, implicitGemmOrder } from "./_conv_motif.ts";
import { findImplicitKfc, type ImplicitKfc, implicitKfcOrder } from "./_kfc_motif.ts";
import { indexPatternInfo, type PatternHyperparameters } from "./index_pattern_registry.ts";
import type { NdArray } from "./tensor.ts";
import { checkShapeList } from "./_tensor.ts";
import { describeValue as describe } from "./validate.ts";
import { LruCache } from "./lru_cache.ts";
import { planShards, type ShardPlan } from "./plan_shards.ts";

export type { Path, PathStrategy } from "./_paths.ts";
export type { ImplicitGemm } from "./_conv_motif.ts";
export type { ImplicitKfc } from "./_kfc_motif.ts";

/** Options of {@linkcode contractPath}. */
export interface ContractPathOptions {
  /** Planner: `"auto"` (default: optimal up to eight operands, greedy beyond),
   * `"optimal"`, `"greedy"` or `"naive"` (left to right). */
  optimize?: PathStrategy;
  /** Largest number of elements any intermediate may have (default: no limit). */
  memoryLimit?: number;
  /** Plan shards for this many workers too (see {@linkcode planShards}): the plan's
   * `shards` and `toString()` then show how the worker pool would split it into an `out`
   * (a new result of 2²⁰ elements or more gets extra shards on a single worker, see
   * `copiesOverlap`). */
  workers?: number;
  /** Index-pattern hyperparameters per operand (`undefined` for a dense one). By
   * default they are looked up (see `registerIndexPattern`) when operands are ndarrays;
   * `false` plans every operand as dense. A step with a pattern input is a gather or
   * scatter-add costed as the size of what it moves. */
  patterns?: readonly (PatternHyperparameters | undefined)[] | false;
}

/** One step of a plan: a pairwise contraction, or the final reduction/permutation. */
export interface ContractionStep {
  /** Positions in the current operand list (two for a contraction, one for the last
   * single-operand step). */
  readonly operands: readonly number[];
  /** Index names of each operand of the step. */
  readonly inputs: readonly (readonly string[])[];
  /** Index names of the step's result. */
  readonly result: readonly string[];
  /** The step as an einsum equation. */
  readonly equation: string;
  /** opt_einsum's FLOP count of the step. */
  readonly flops: number;
  /** What runs: `"implicit GEMM"`, `"unfold"`, `"gather"`, `"scatter"`, `"GEMM"`, `"batched GEMM"`,
   * `"outer"`, `"elementwise"`, `"reduce"` or `"permute"`. The executor may lay a step's
   * result out in another order than `result` lists; the names are what count. */
  readonly kind: string;
}

/**
 * A contraction plan: the pairwise order chosen for an einsum, with its cost against
 * naive evaluation. Print it with `toString()`.
 */
export class ContractionPlan {
  /** The equation as given. */
  readonly equation: string;
  /** The parsed equation (index names per operand and of the output). */
  readonly parsed: ParsedEquation;
  /** The size of every index (broadcast ellipsis dimensions at their full size). */
  readonly sizes: ReadonlyMap<string, number>;
  /** The operands' shapes. */
  readonly inputShapes: readonly (readonly number[])[];
  /** The result's shape. */
  readonly outputShape: readonly number[];
  /** The pairwise path in opt_einsum's convention. */
  readonly path: Path;
  /** The steps, the pairwise ones in path order, then a final single-operand step if
   * the last tensor still needs a reduction, a diagonal or a permutation. */
  readonly steps: readonly ContractionStep[];
  /** opt_einsum's FLOP count of the plan. */
  readonly flops: number;
  /** opt_einsum's FLOP count of evaluating the whole equation as one loop nest. */
  readonly naiveFlops: number;
  /** Elements of the largest intermediate (including the result) of the plan. */
  readonly largestIntermediate: number;
  /** Elements of the largest tensor naive evaluation builds: the result. */
  readonly naiveLargestIntermediate: number;
  /** The planner that chose the path. */
  readonly strategy: PathStrategy;
  /** The index-pattern hyperparameters of every operand the plan treats as one. */
  readonly patterns: readonly (PatternHyperparameters | undefined)[];
  /** Set when the whole contraction is a convolution run as one implicit GEMM (its
   * `path` is then the equivalent im2col order). */
  readonly implicitGemm: ImplicitGemm | null;
  /** Set when the whole contraction is a Kronecker factor of two unfolded inputs sharing
   * their output positions (KFC), run as one GEMM per image of the unfolded inputs (its
   * `path` is then the equivalent order: each unfold, their product, the scalars). */
  readonly implicitKfc: ImplicitKfc | null;
  /** With the `workers` option: how the worker pool splits the contraction, or `null`
   * if it runs on the calling thread; otherwise `undefined`. */
  readonly shards?: ShardPlan | null;

  /** @internal Built by {@linkcode contractPath}. */
  constructor(fields: Omit<ContractionPlan, "toString" | "speedup">) {
    this.equation = fields.equation;
    this.parsed = fields.parsed;
    this.sizes = fields.sizes;
    this.inputShapes = fields.inputShapes;
    this.outputShape = fields.outputShape;
    this.path = fields.path;
    this.steps = fields.steps;
    this.flops = fields.flops;
    this.naiveFlops = fields.naiveFlops;
    this.largestIntermediate = fields.largestIntermediate;
    this.naiveLargestIntermediate = fields.naiveLargestIntermediate;
    this.strategy = fields.strategy;
    this.patterns = fields.patterns;
    this.implicitGemm = fields.implicitGemm;
    this.implicitKfc = fields.implicitKfc;
    this.shards = fields.shards;
  }

  /** Naive FLOPs over planned FLOPs. */
  get speedup(): number {
    return this.flops === 0 ? 1 : this.naiveFlops / this.flops;
  }

  /** A table in the manner of opt_einsum's PathInfo. */
  toString(): string {
    const rule = "-".repeat(78);
    const lines = [
      `  Complete contraction:  ${this.equation}`,
      `        Operand shapes:  ${this.inputShapes.map((s) => `[${s}]`).join(", ")}`,
      `          Result shape:  [${this.outputShape}]`,
      `              Strategy:  ${this.strategy}`,
      `      Naive FLOP count:  ${formatCount(this.naiveFlops)}`,
      `  Optimized FLOP count:  ${formatCount(this.flops)}`,
      `   Theoretical speedup:  ${formatCount(this.speedup)}`,
      `  Largest intermediate:  ${formatCount(this.largestIntermediate)} elements`,
      rule,
      `${"step".padEnd(6)}${"kind".padEnd(14)}${"FLOPs".padStart(12)}   equation`,
      rule,
      ...this.steps.map((step, at) =>
        `${String(at).padEnd(6)}${step.kind.padEnd(14)}${
          formatCount(step.flops).padStart(12)
        }   ${step.equation}`
      ),
    ];
    if (this.shards !== undefined) {
      lines.splice(8, 0, `                Shards:  ${describeShards(this.shards)}`);
    }
    return lines.join("\n");
  }
}

const planCache = new LruCache<string, ContractionPlan>(256);

/**
 * The plan cache shared by {@linkcode contractPath} and the einsum functions: parsed
 * equations and plans keyed on the equation, the shapes and the options.
 */
export const contractionPlanCache: Pick<
  LruCache<string, ContractionPlan>,
  "clear" | "capacity" | "size" | "hits" | "misses"
> = planCache;

/**
 * Plans an einsum: parses the equation, resolves index sizes and picks a pairwise
 * contraction order. Pure: shapes suffice, and plans are cached on the equation, the
 * shapes and the options.
 *
 * @param equation An einsum equation, numpy or einops style.
 * @param operandsOrShapes The operands (ndarrays) or their shapes, optionally followed
 *   by {@linkcode ContractPathOptions}.
 * @returns The plan, printable with `toString()`.
 *
 * @example A matrix chain is contracted from its cheap end
 * ```ts
 * import assert from "node:assert/strict";
 * import { contractPath } from "@einconv/runtime";
 *
 * const plan = contractPath("ij,jk,kl->il", [100, 100], [100, 100], [100, 2]);
 * assert.deepEqual(plan.path, [[1, 2], [0, 1]]);
 * assert.ok(plan.flops < plan.naiveFlops);
 * console.log(plan.toString());
 * ```
 */
export function contractPath(
  equation: string,
  ...operandsOrShapes: (NdArray | readonly number[] | ContractPathOptions)[]
): ContractionPlan {
  let options: ContractPathOptions = {};
  const last = operandsOrShapes.at(-1);
  if (
    last !== undefined && !Array.isArray(last) && typeof last === "object" && last !== null &&
    !("shape" in last)
  ) {
    options = last as ContractPathOptions;
    operandsOrShapes = operandsOrShapes.slice(0, -1);
  }
  const shapes = operandsOrShapes.map((item, at) => {
    if (Array.isArray(item)) return item as readonly number[];
    if (item !== null && typeof item === "object" && Array.isArray((item as NdArray).shape)) {
      return (item as NdArray).shape;
    }
    throw new TypeError(
      `Cannot read operand ${at}: expected an ndarray or a shape, got ${describe(item)}`,
    );
  });
  if (options.patterns === undefined) {
    const patterns = operandsOrShapes.map((item) =>
      Array.isArray(item) ? undefined : indexPatternInfo(item as NdArray)
    );
    if (patterns.some((p) => p !== undefined)) options = { ...options, patterns };
  }
  return planFor(equation, shapes, options);
}

/** {@linkcode contractPath} for shapes, through the plan cache. */
function planFor(
  equation: string,
  shapes: readonly (readonly number[])[],
  options: ContractPathOptions = {},
): ContractionPlan {
  if (typeof equation !== "string") {
    throw new TypeError(`Cannot parse equation: expected a string, got ${describe(equation)}`);
  }
  const strategy = options.optimize ?? "auto";
  const memoryLimit = options.memoryLimit ?? Infinity;
  if (options.workers !== undefined) {
    const plan = planFor(equation, shapes, { ...options, workers: undefined });
    return new ContractionPlan({ ...plan, shards: planShards(plan, options.workers) });
  }
  if (
    options.patterns !== undefined && options.patterns !== false &&
    !Array.isArray(options.patterns)
  ) {
    throw new TypeError(
      `Cannot read patterns: expected an array (one entry per operand) or false, got ${
        describe(options.patterns)
      }`,
    );
  }
  const given = options.patterns === false ? [] : options.patterns ?? [];
  const key = `${equation}|${shapes.map((s) => s.join("x")).join(",")}|${strategy}|${memoryLimit}|${
    given.some((p) => p !== undefined) ? JSON.stringify(given) : ""
  }`;
  const cached = planCache.get(key);
  if (cached !== undefined) return cached;
  if (!Object.hasOwn(pathFinders, strategy)) {
    throw new RangeError(
      `Cannot read optimize: expected one of ${
        Object.keys(pathFinders).map((name) => JSON.stringify(name)).join(", ")
      }, got ${describe(strategy)}`,
    );
  }
  if (typeof memoryLimit !== "number" || !(memoryLimit > 0)) {
    throw new RangeError(
      `Cannot read memoryLimit: expected a positive number of elements, got ${
        describe(memoryLimit)
      }`,
    );
  }
  checkShapeList(shapes);
  const parsed = parseEquation(equation, shapes.map((shape) => shape.length));
  const sizes = resolveSizes(parsed, shapes);
  const patterns = parsed.inputs.map((names, at) => {
    const p = given[at];
    const fits = p !== undefined && new Set(names).size === 3 && names.length === 3 &&
      shapes[at].join() === [p.kernelSize, p.outputSize, p.inputSize].join();
    return fits ? p : undefined;
  });
  const plan = buildPlan(parsed, shapes, sizes, strategy, memoryLimit, patterns);
  planCache.set(key, plan);
  return plan;
}

function resolveSizes(
  parsed: ParsedEquation,
  shapes: readonly (readonly number[])[],
): Map<string, number> {
  const sizes = new Map<string, number>();
  const seenIn = new Map<string, number>();
  parsed.inputs.forEach((names, at) => {
    names.forEach((name, dim) => {
      const size = shapes[at][dim];
      const known = sizes.get(name);
      if (known === undefined || known === size) {
        sizes.set(name, size);
        seenIn.set(name, at);
        return;
      }
      if (name.startsWith("...") && (known === 1 || size === 1)) {
        sizes.set(name, known === 1 ? size : known);
        return;
      }
      const label = name.startsWith("...")
        ? `ellipsis dimension ${name.slice(3)}`
        : `index ${JSON.stringify(name)}`;
      throw new RangeError(
        `Cannot contract ${
          JSON.stringify(parsed.equation)
        }: ${label} has size ${known} in operand ${
          seenIn.get(name)
        } and size ${size} in operand ${at}`,
      );
    });
  });
  return sizes;
}

function buildPlan(
  parsed: ParsedEquation,
  shapes: readonly (readonly number[])[],
  sizes: Map<string, number>,
  strategy: PathStrategy,
  memoryLimit: number,
  patterns: readonly (PatternHyperparameters | undefined)[],
): ContractionPlan {
  const inputs = parsed.inputs.map((names) => new Set(names));
  const output = new Set(parsed.output);
  const stepCost = patterns.some((p) => p !== undefined)
    ? patternAwareStepCost(sizes, patterns, inputs)
    : denseStepCost(sizes);
  const implicitGemm = strategy === "naive" ? null : findImplicitGemm(parsed, patterns);
  const implicitKfc = strategy === "naive" || implicitGemm !== null
    ? null
    : findImplicitKfc(parsed, patterns);
  let path = implicitGemm !== null
    ? im2colPath(implicitGemm, parsed.inputs.length)
    : implicitKfc !== null
    ? kfcPath(implicitKfc, parsed.inputs.length)
    : pathFinders[strategy](inputs, output, sizes, memoryLimit, stepCost);
  let steps = implicitGemm !== null
    ? implicitGemmSteps(parsed, sizes, implicitGemm)
    : implicitKfc !== null
    ? implicitKfcSteps(parsed, sizes, implicitKfc)
    : pathSteps(parsed, sizes, path, stepCost, patterns);
  const fused = implicitGemm !== null || implicitKfc !== null;
  if (!fused && strategy !== "naive" && strategy !== "optimal") {
    const naive = naivePath(inputs, output, sizes);
    const naiveSteps = pathSteps(parsed, sizes, naive, stepCost, patterns);
    const fits = naiveSteps.every((step, at) =>
      at === naiveSteps.length - 1 || sizeOf(step.result, sizes) <= memoryLimit
    );
    if (fits && totalFlops(naiveSteps) < totalFlops(steps)) {
      path = naive;
      steps = naiveSteps;
    }
  }
  const pairwise = steps.filter((step) => step.operands.length === 2);
  if (pairwise.slice(0, -1).some((step) => sizeOf(step.result, sizes) > memoryLimit)) {
    throw new RangeError(
      `Cannot plan contraction: no order keeps every intermediate within memoryLimit=${memoryLimit} elements`,
    );
  }
  const all = new Set(parsed.inputs.flat());
  const outputSize = sizeOf(parsed.output, sizes);
  const largest = Math.max(
    outputSize,
    ...steps.map((step) => sizeOf(step.result, sizes)),
  );
  return new ContractionPlan({
    equation: parsed.equation,
    parsed,
    sizes,
    inputShapes: shapes.map((shape) => [...shape]),
    outputShape: parsed.output.map((name) => sizes.get(name)!),
    path,
    steps,
    flops: totalFlops(steps),
    naiveFlops: flopCount(all, all.size > output.size, parsed.inputs.length, sizes),
    largestIntermediate: largest,
    naiveLargestIntermediate: outputSize,
    strategy,
    patterns,
    implicitGemm,
    implicitKfc,
  });
}

/** The pairwise order equivalent to an implicit GEMM: the data with every pattern (the
 * unfolded input), then the weight (if any). */
function im2colPath(motif: ImplicitGemm, count: number): Path {
  const { path, merge } = pathRecorder(count);
  const absorbed = motif.weight === null ? motif.patterns : [...motif.patterns, motif.weight];
  absorbed.reduce((held, operand) => merge(held, operand), motif.data);
  return path;
}

/** The pairwise order equivalent to an implicit KFC: each data operand with its patterns
 * (the two unfolded inputs), their product, then each scalar operand. */
function kfcPath(motif: ImplicitKfc, count: number): Path {
  const { path, merge } = pathRecorder(count);
  const unfolded = motif.data.map((data, side) =>
    motif.patterns[side].reduce((held, pattern) => merge(held, pattern), data)
  );
  motif.scalars.reduce((held, scalar) => merge(held, scalar), merge(unfolded[0], unfolded[1]));
  return path;
}

/** A path built by naming what to contract: `merge(a, b)` takes operands (their positions)
 * or earlier results (the negative numbers it returns), records the pair's positions in the
 * current list of `count` operands, and returns the result's name. */
function pathRecorder(count: number): { path: Path; merge: (a: number, b: number) => number } {
  const current = [...Array(count).keys()];
  const path: Path = [];
  const merge = (a: number, b: number) => {
    const [i, j] = [current.indexOf(a), current.indexOf(b)].sort((x, y) => x - y);
    path.push([i, j]);
    current.splice(j, 1);
    current.splice(i, 1);
    current.push(-path.length); // an intermediate: no operand position is negative
    return -path.length;
  };
  return { path, merge };
}

/** The one fused step of an implicit KFC (plus the permutation to the output order). */
function implicitKfcSteps(
  parsed: ParsedEquation,
  sizes: Map<string, number>,
  motif: ImplicitKfc,
): ContractionStep[] {
  const result = implicitKfcOrder(motif);
  const outputs = motif.taps[0].map((tap) => tap[1]);
  const loops = [...motif.batch, ...motif.contracted];
  const side = (s: 0 | 1) => [...motif.rows[s], ...motif.taps[s].map((tap) => tap[0])];
  return fusedSteps(parsed, result, {
    flops: 2 * sizeOf(loops, sizes) * sizeOf(side(0), sizes) * sizeOf(side(1), sizes) *
      sizeOf(outputs, sizes),
    kind: "implicit GEMM",
  });
}

/** A fused step of every operand into `result`, then a permutation to the output order
 * if it differs. */
function fusedSteps(
  parsed: ParsedEquation,
  result: readonly string[],
  { flops, kind }: { flops: number; kind: string },
): ContractionStep[] {
  const letters = letterNames(parsed);
  const steps: ContractionStep[] = [{
    operands: parsed.inputs.map((_, at) => at),
    inputs: parsed.inputs,
    result: [...result],
    equation: stepEquation(parsed.inputs, result, letters),
    flops,
    kind,
  }];
  if (result.join("\u0000") !== parsed.output.join("\u0000")) {
    steps.push({
      operands: [0],
      inputs: [result],
      result: [...parsed.output],
      equation: stepEquation([result], parsed.output, letters),
      flops: 0,
      kind: "permute",
    });
  }
  return steps;
}

/** The one fused step of an implicit GEMM (plus the permutation to the output order). */
function implicitGemmSteps(
  parsed: ParsedEquation,
  sizes: Map<string, number>,
  motif: ImplicitGemm,
): ContractionStep[] {
  const [kernel, outputs] = [motif.taps.map((t) => t[0]), motif.taps.map((t) => t[1])];
  const inputs = motif.taps.map((t) => t[2]);
  const result = implicitGemmOrder(motif, parsed.output);
  // The GEMM's entries (result, or columns × taps for the input gradient) and depth.
  const entries = motif.kind === "input"
    ? [...result.filter((name) => !inputs.includes(name)), ...kernel, ...outputs]
    : result;
  const depth = motif.kind === "forward"
    ? [...motif.contracted, ...kernel]
    : motif.kind === "weight"
    ? [...motif.contracted, ...outputs]
    : motif.contracted;
  return fusedSteps(parsed, result, {
    // An unfold is a gather: it costs the size of its result.
    flops: (motif.weight === null ? 1 : 2) * sizeOf(entries, sizes) * sizeOf(depth, sizes),
    kind: motif.weight === null ? "unfold" : "implicit GEMM",
  });
}

/** The result indices of a pattern step: the pattern's kept indices, then the other
 * operand's. */
function patternResult(
  pattern: readonly string[],
  other: readonly string[],
  kept: ReadonlySet<string>,
): string[] {
  return [
    ...pattern.filter((name) => kept.has(name)),
    ...other.filter((name) => !pattern.includes(name) && kept.has(name)),
  ];
}

function totalFlops(steps: readonly ContractionStep[]): number {
  return steps.reduce((sum, step) => sum + step.flops, 0);
}

function pathSteps(
  parsed: ParsedEquation,
  sizes: Map<string, number>,
  path: Path,
  stepCost: StepCost,
  patterns: readonly (PatternHyperparameters | undefined)[],
): ContractionStep[] {
  const letters = letterNames(parsed);
  const output = new Set(parsed.output);
  const current: string[][] = parsed.inputs.map((names) => [...names]);
  const leaves: number[] = parsed.inputs.map((_, at) => at);
  const steps: ContractionStep[] = [];
  for (const [i, j] of path) {
    const a = current[i];
    const b = current[j];
    const others = current.filter((_, at) => at !== i && at !== j).map((names) => new Set(names));
    const setA: IndexSet = new Set(a);
    const setB: IndexSet = new Set(b);
    const kept = keptIndices(setA, setB, others, output);
    const batch = [...setA].filter((name) => setB.has(name) && kept.has(name));
    const left = [...setA].filter((name) => !setB.has(name) && kept.has(name));
    const right = [...setB].filter((name) => !setA.has(name) && kept.has(name));
    const [pa, pb] = [leaves[i], leaves[j]].map((leaf) => (leaf >= 0 ? patterns[leaf] : undefined));
    const pattern = pa !== undefined ? a : pb !== undefined ? b : null;
    const result = pattern === null
      ? [...batch, ...left, ...right]
      : patternResult(pattern, pattern === a ? b : a, kept);
    const contracted = [...setA].some((name) => setB.has(name) && !kept.has(name));
    steps.push({
      operands: [i, j],
      inputs: [a, b],
      result,
      equation: stepEquation([a, b], result, letters),
      flops: stepCost(setA, setB, new Set(result), leaves[i], leaves[j]),
      kind: pattern !== null
        ? (kept.has(pattern[2]) ? "scatter" : "gather")
        : contracted
        ? (batch.length > 0 ? "batched GEMM" : "GEMM")
        : batch.length > 0
        ? "elementwise"
        : "outer",
    });
    current.splice(j, 1);
    current.splice(i, 1);
    current.push(result);
    leaves.splice(j, 1);
    leaves.splice(i, 1);
    leaves.push(-1);
  }
  const last = current[0];
  const needsFinal = path.length === 0 || last.join("\u0000") !== parsed.output.join("\u0000");
  if (needsFinal) {
    const set = new Set(last);
    steps.push({
      operands: [0],
      inputs: [last],
      result: [...parsed.output],
      equation: stepEquation([last], parsed.output, letters),
      flops: path.length === 0 ? flopCount(set, set.size > parsed.output.length, 1, sizes) : 0,
      kind: set.size > parsed.output.length || last.length > set.size ? "reduce" : "permute",
    });
  }
  return steps;
}

/** Single letters for printing step equations (names as they are if too many). */
function letterNames(parsed: ParsedEquation): Map<string, string> {
  const names = [...new Set(parsed.inputs.flat())];
  const map = new Map<string, string>();
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  if (names.length > alphabet.length) return map;
  const taken = new Set(names.filter((name) => name.length === 1));
  const free = [...alphabet].filter((letter) => !taken.has(letter));
  for (const name of names) map.set(name, name.length === 1 ? name : free.shift()!);
  return map;
}

function stepEquation(
  inputs: readonly (readonly string[])[],
  result: readonly string[],
  letters: Map<string, string>,
): string {
  if (letters.size === 0) {
    return `${inputs.map((names) => names.join(" ")).join(", ")} -> ${result.join(" ")}`;
  }
  const spell = (names: readonly string[]) => names.map((name) => letters.get(name)).join("");
  return `${inputs.map(spell).join(",")}->${spell(result)}`;
}

function describeShards(shards: ShardPlan | null): string {
  if (shards === null) return "none (calling thread)";
  const { index, boundaries, repeatedFlops } = shards;
  const ranges = boundaries.slice(1).map((end, at) => `[${boundaries[at]}, ${end})`);
  return `${ranges.length} along ${JSON.stringify(index)}: ${ranges.join(" ")}, repeated ${
    formatCount(repeatedFlops)
  } FLOPs`;
}

function formatCount(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) < 1e5) return String(Math.round(value * 1000) / 1000);
  return value.toExponential(3);
}
