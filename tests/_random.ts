// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import type { DType, NdArray } from "@einconv/runtime";

/** A random einsum problem: a numpy-style equation and one shape per operand. */
export interface EinsumProblem {
  /** The equation, e.g. `"iij,...j->i..."`, or implicit like `"ij,jk"`. */
  equation: string;
  /** The shape of each operand, in the order of the equation's terms. */
  shapes: number[][];
}

/** Options of {@linkcode randomEinsumProblem}. */
export interface RandomEinsumProblemOptions {
  /** Largest number of operands, default 3. */
  maxOperands?: number;
  /** Largest number of distinct letters, default 5. */
  maxIndices?: number;
  /** Largest number of letters in one term (besides `...`), default 4. */
  maxRank?: number;
  /** Largest size of an index, default 4. */
  maxSize?: number;
}

/**
 * Mulberry32, a small seeded pseudo-random number generator.
 *
 * @param seed Any integer; equal seeds give equal sequences.
 * @returns A function returning the next number in `[0, 1)`.
 *
 * @example Reproducible draws
 * ```ts
 * import assert from "node:assert/strict";
 * import { mulberry32 } from "./_random.ts";
 *
 * const a = mulberry32(7);
 * const b = mulberry32(7);
 * const x = a();
 * assert.equal(x, b());
 * assert.ok(x >= 0 && x < 1);
 * ```
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Builds a C-contiguous tensor of random multiples of 1/64 in `[-2, 2]`, exact in float32.
 *
 * @param rng A generator from {@linkcode mulberry32}.
 * @param shape The shape.
 * @param dtype Element type, default `"float64"`.
 * @returns A new ndarray.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mulberry32, randomTensor } from "./_random.ts";
 *
 * const t = randomTensor(mulberry32(1), [2, 3], "float32");
 * assert.deepEqual(t.shape, [2, 3]);
 * assert.ok(Array.from(t.data).every((v) => Math.abs(v) <= 2 && Number.isInteger(v * 64)));
 * ```
 */
export function randomTensor(
  rng: () => number,
  shape: readonly number[],
  dtype: DType = "float64",
): NdArray {
  return filledTensor(shape, dtype, () => (randomInt(rng, 257) - 128) / 64);
}

/** A C-contiguous tensor whose entries are `draw()`, in row-major order. */
function filledTensor(shape: readonly number[], dtype: DType, draw: () => number): NdArray {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = dtype === "float32" ? new Float32Array(size) : new Float64Array(size);
  for (let i = 0; i < size; i++) data[i] = draw();
  return ndarray(data, [...shape]);
}

/**
 * A C-contiguous tensor of uniform values in [-1, 1) with full mantissas: unlike
 * {@linkcode randomTensor}'s, their float sums depend on the order of the terms, so a
 * test that results are equal bit for bit also tests that they sum in one order.
 *
 * @param rng A generator from {@linkcode mulberry32}.
 * @param shape The shape.
 * @param dtype float64 (default) or float32.
 * @returns A new ndarray.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mulberry32, randomFloatTensor } from "./_random.ts";
 *
 * const t = randomFloatTensor(mulberry32(1), [3], "float32");
 * assert.ok(Array.from(t.data).every((v) => v >= -1 && v < 1));
 * ```
 */
export function randomFloatTensor(
  rng: () => number,
  shape: readonly number[],
  dtype: DType = "float64",
): NdArray {
  return filledTensor(shape, dtype, () => 2 * rng() - 1 + rng() * 2 ** -20);
}

/**
 * Draws a random valid numpy-style einsum problem: 1 to `maxOperands` terms of random
 * letters (upper and lower case) with repeated letters (diagonals), sizes 1 to
 * `maxSize` (rarely 0), 0-d terms, an explicit output that is a random subset in random
 * order or (a quarter of the time) an implicit one, and sometimes `...` with dimensions
 * of size 1 that broadcast.
 *
 * @param rng A generator from {@linkcode mulberry32}.
 * @param options Bounds on the number of operands, letters, ranks and sizes.
 * @returns The equation and the operand shapes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mulberry32, randomEinsumProblem } from "./_random.ts";
 *
 * const { equation, shapes } = randomEinsumProblem(mulberry32(3), { maxOperands: 2 });
 * assert.equal(equation.split("->")[0].split(",").length, shapes.length);
 * assert.ok(shapes.length >= 1 && shapes.length <= 2);
 * ```
 */
export function randomEinsumProblem(
  rng: () => number,
  options: RandomEinsumProblemOptions = {},
): EinsumProblem {
  const { maxOperands = 3, maxIndices = 5, maxRank = 4, maxSize = 4 } = options;
  const drawSize = () => rng() < 0.03 ? 0 : 1 + randomInt(rng, maxSize);
  const letters = shuffle(rng, [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"])
    .slice(0, 1 + randomInt(rng, maxIndices));
  const sizes = new Map(letters.map((letter) => [letter, drawSize()]));
  const operandCount = 1 + randomInt(rng, maxOperands);
  const terms = Array.from({ length: operandCount }, () => {
    const term: string[] = [];
    const rank = randomInt(rng, maxRank + 1);
    for (let d = 0; d < rank; d++) {
      const fresh = letters.filter((letter) => !term.includes(letter));
      const repeat = term.length > 0 && (fresh.length === 0 || rng() < 0.15);
      term.push(pick(rng, repeat ? term : fresh));
    }
    return term;
  });
  const shapes = terms.map((term) => term.map((letter) => sizes.get(letter)!));
  if (rng() < 0.25) {
    const broadcastSizes = Array.from({ length: 1 + randomInt(rng, 2) }, drawSize);
    const users = terms.map(() => rng() < 0.6);
    users[randomInt(rng, operandCount)] = true;
    terms.forEach((term, k) => {
      if (!users[k]) return;
      const own = broadcastSizes.slice(randomInt(rng, broadcastSizes.length + 1));
      const at = randomInt(rng, term.length + 1);
      term.splice(at, 0, "...");
      shapes[k].splice(at, 0, ...own.map((size) => rng() < 0.25 ? 1 : size));
    });
  }
  const lhs = terms.map((term) => term.join("")).join(",");
  if (rng() < 0.25) return { equation: lhs, shapes };
  const used = [...new Set(terms.flat())];
  const output = shuffle(rng, used.filter((name) => name === "..." || rng() < 0.5));
  return { equation: `${lhs}->${output.join("")}`, shapes };
}

/**
 * Returns the same logical tensor as a strided view into a new, larger buffer: a
 * leading offset, axes stored in a random order, random steps (negative ones
 * included) and padding around, all filled with NaN outside the view.
 *
 * @param rng A generator from {@linkcode mulberry32}.
 * @param t The tensor to copy (any strides); it is not changed.
 * @returns A non-contiguous ndarray of the same dtype, shape and values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor, toNested } from "@einconv/runtime";
 * import { mulberry32, randomView } from "./_random.ts";
 *
 * const t = tensor([[1, 2, 3], [4, 5, 6]]);
 * const view = randomView(mulberry32(5), t);
 * assert.deepEqual(toNested(view), toNested(t));
 * ```
 */
export function randomView(rng: () => number, t: NdArray): NdArray {
  const rank = t.shape.length;
  const order = shuffle(rng, Array.from({ length: rank }, (_, d) => d));
  const steps = order.map((axis) =>
    (t.shape[axis] > 0 && rng() < 0.3 ? -1 : 1) * (1 + randomInt(rng, 2))
  );
  const lengths = order.map((axis, k) => t.shape[axis] * Math.abs(steps[k]));
  const before = order.map(() => randomInt(rng, 3));
  const baseShape = lengths.map((length, k) => before[k] + length + randomInt(rng, 3));
  const lead = randomInt(rng, 4);
  const size = lead + baseShape.reduce((a, b) => a * b, 1) + randomInt(rng, 4);
  const data = t.data instanceof Float32Array ? new Float32Array(size) : new Float64Array(size);
  data.fill(NaN);
  const inverse = order.map((_, d) => order.indexOf(d));
  const view = ndarray(data, baseShape, undefined, lead)
    .lo(...before).hi(...lengths).step(...steps).transpose(...inverse);
  const count = t.shape.reduce((a, b) => a * b, 1);
  const index = new Array<number>(rank).fill(0);
  for (let n = 0; n < count; n++) {
    let from = t.offset;
    let to = view.offset;
    index.forEach((i, d) => {
      from += i * t.stride[d];
      to += i * view.stride[d];
    });
    data[to] = t.data[from];
    for (let d = rank - 1; d >= 0; d--) {
      if (++index[d] < t.shape[d]) break;
      index[d] = 0;
    }
  }
  return view;
}

function randomInt(rng: () => number, n: number): number {
  return Math.floor(rng() * n);
}

function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[randomInt(rng, items.length)];
}

function shuffle<T>(rng: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
