// Reads the reference fixtures in tests/fixtures (copied from the shared fixtures).
import { type DType, type NdArray, tensor } from "@einconv/runtime";

/** A tensor as the fixture files store it. */
export interface FixtureTensor {
  shape: number[];
  data: number[];
}

/** Reads `tests/fixtures/<name>.json` and returns its cases. */
export function loadCases<T>(name: string): T[] {
  const url = new URL(`./fixtures/${name}.json`, import.meta.url);
  return JSON.parse(Deno.readTextFileSync(url)).cases as T[];
}

/** A fixture tensor as a new ndarray of the given dtype. */
export function fromFixture(t: FixtureTensor, dtype: DType): NdArray {
  return tensor(t.data, { shape: t.shape, dtype });
}
