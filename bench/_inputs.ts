// Deterministic benchmark inputs: every runner computes on the same values, so results
// can be compared element by element.
import { type NdArray, tensor } from "../mod.ts";
import { type BenchCase, convShapes, product } from "./_cases.ts";

/**
 * `length` values in [-0.5, 0.5), each a hash (murmur3's 32-bit finaliser) of its index
 * plus `seed`, with 24 significant bits so that float32 holds them exactly.
 */
export function hashedValues(length: number, seed: number): Float32Array {
  const values = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    let h = (i + seed) | 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    values[i] = (h >>> 8) / 16777216 - 0.5;
  }
  return values;
}

/** A float32 tensor of `shape` holding {@linkcode hashedValues} from `seed`. */
export function hashedTensor(shape: number[], seed: number): NdArray {
  return tensor(hashedValues(product(shape), seed), { shape });
}

/** Flat row-major operands of a case with their shapes: `x, w, dy` or `a, b`. */
export type CaseInputs = Record<string, { data: Float32Array; shape: number[] }>;

/** The operands of a case (float32; float64 runners widen them exactly). */
export function caseInputs(c: BenchCase): CaseInputs {
  const shapes = c.kind === "gemm" ? { a: [c.n, c.n], b: [c.n, c.n] } : convShapes(c);
  const inputs: CaseInputs = {};
  Object.entries(shapes).forEach(([name, shape], at) => {
    inputs[name] = { data: hashedValues(product(shape), 100_003 * at + 1), shape };
  });
  return inputs;
}
