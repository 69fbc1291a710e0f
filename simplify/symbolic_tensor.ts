// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import {
  contiguous,
  type DType,
  type NdArray,
  type PatternHyperparameters,
  tensor,
} from "@einconv/runtime";

export type { PatternHyperparameters } from "@einconv/runtime";

/** Where a symbolic tensor's numbers come from when it is materialised. */
export type TensorSource =
  /** A tensor supplied at materialisation under this name. */
  | { readonly kind: "input"; readonly name: string }
  /** An index pattern with these hyperparameters, built at materialisation. */
  | { readonly kind: "pattern"; readonly pattern: PatternHyperparameters }
  /** A `size × size` identity matrix (a Kronecker delta). */
  | { readonly kind: "identity"; readonly size: number }
  /** A one-element tensor holding `value`. */
  | { readonly kind: "constant"; readonly value: number };

/** One recorded edit of a symbolic tensor. */
export type Transform =
  | { readonly op: "rename"; readonly from: string; readonly to: string }
  | { readonly op: "group"; readonly names: readonly string[]; readonly into: string }
  | {
    readonly op: "ungroup";
    readonly name: string;
    readonly sizes: readonly number[];
    readonly into: readonly string[];
  }
  | {
    readonly op: "narrow";
    readonly name: string;
    readonly start: number;
    readonly length: number;
    /** Entries kept are `start + j·step` (default 1: consecutive). */
    readonly step?: number;
  }
  | { readonly op: "squeeze"; readonly name: string };

/** What {@linkcode SymbolicTensor.materialize} needs. */
export interface MaterializeOptions {
  /** Tensors for `"input"` sources, by name. */
  inputs?: Readonly<Record<string, NdArray>>;
  /** Builds the dense index pattern of a `"pattern"` source. */
  pattern?: (hyperparameters: PatternHyperparameters, dtype: DType) => NdArray;
  /** Element type of identities, constants and patterns (default float64). */
  dtype?: DType;
}

/** Fields of a new {@linkcode SymbolicTensor}. */
export interface SymbolicTensorInit {
  /** Where the numbers come from. */
  source: TensorSource;
  /** Index names, one per dimension, all different. */
  indices: readonly string[];
  /** Size of every dimension. */
  shape: readonly number[];
  /** Hyperparameters when the tensor is an index pattern (patterns from a
   * `"pattern"` source have them already). */
  pattern?: PatternHyperparameters;
}

/**
 * A tensor without numbers: index names and sizes, where its numbers come from, and
 * the history of renames, groupings, ungroupings, narrowings and squeezes applied to it,
 * so that it can be materialised later. Immutable: every edit returns a new tensor.
 *
 * @example Ungroup channels, narrow, then materialise as a view
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { SymbolicTensor } from "@einconv/simplify";
 *
 * const x = new SymbolicTensor({
 *   source: { kind: "input", name: "x" },
 *   indices: ["n", "(g c)"],
 *   shape: [1, 4],
 * });
 * const split = x.ungroup("(g c)", [2, 2], ["g", "c"]).narrow("c", 1, 1);
 * assert.deepEqual(split.indices, ["n", "g", "c"]);
 * assert.deepEqual(split.shape, [1, 2, 1]);
 * const value = split.materialize({ inputs: { x: tensor([[1, 2, 3, 4]]) } });
 * assert.deepEqual([value.get(0, 0, 0), value.get(0, 1, 0)], [2, 4]);
 * ```
 */
export class SymbolicTensor {
  /** Where the numbers come from. */
  readonly source: TensorSource;
  /** Index names before any edit. */
  readonly initialIndices: readonly string[];
  /** Shape before any edit. */
  readonly initialShape: readonly number[];
  /** Current index names. */
  readonly indices: readonly string[];
  /** Current shape. */
  readonly shape: readonly number[];
  /** The edits, oldest first. */
  readonly history: readonly Transform[];
  readonly #pattern: PatternHyperparameters | undefined;

  /**
   * Creates a symbolic tensor with an empty history.
   *
   * @param init Source, index names, shape and pattern hyperparameters.
   */
  constructor(init: SymbolicTensorInit) {
    const derived = SymbolicTensor.#derived;
    SymbolicTensor.#derived = undefined;
    checkIndices(init.indices, init.shape);
    this.source = init.source;
    this.initialIndices = [...init.indices];
    this.initialShape = [...init.shape];
    this.indices = derived?.indices ?? this.initialIndices;
    this.shape = derived?.shape ?? this.initialShape;
    this.history = derived?.history ?? [];
    this.#pattern = init.pattern ??
      (init.source.kind === "pattern" ? init.source.pattern : undefined);
  }

  /** Current indices, shape and history of the tensor being derived by an edit. */
  static #derived:
    | { indices: readonly string[]; shape: readonly number[]; history: readonly Transform[] }
    | undefined;

  /** The pattern hyperparameters while the tensor is an unedited index pattern
   * (renames aside), else `undefined`. */
  get pattern(): PatternHyperparameters | undefined {
    return this.#pristine() ? this.#pattern : undefined;
  }

  /** Whether the tensor is an unedited identity matrix (renames aside). */
  get isIdentity(): boolean {
    return this.source.kind === "identity" && this.#pristine();
  }

  /** The size of index `name`. */
  size(name: string): number {
    return this.shape[this.#position(name)];
  }

  /** Renames index `from` to `to` (a name not yet used). */
  rename(from: string, to: string): SymbolicTensor {
    const at = this.#position(from);
    const indices = [...this.indices];
    indices[at] = to;
    return this.#edit({ op: "rename", from, to }, indices, this.shape);
  }

  /** Merges consecutive indices `names` (in this order) into one index `into`. */
  group(names: readonly string[], into: string): SymbolicTensor {
    const at = this.#position(names[0]);
    names.forEach((name, offset) => {
      if (this.indices[at + offset] !== name) {
        throw new RangeError(
          `Cannot group [${names}] of [${this.indices}]: they are not consecutive in this order`,
        );
      }
    });
    const size = names.reduce((product, name) => product * this.size(name), 1);
    const indices = [...this.indices];
    const shape = [...this.shape];
    indices.splice(at, names.length, into);
    shape.splice(at, names.length, size);
    return this.#edit({ op: "group", names: [...names], into }, indices, shape);
  }

  /** Splits index `name` into indices `into` of sizes `sizes` (row-major). */
  ungroup(name: string, sizes: readonly number[], into: readonly string[]): SymbolicTensor {
    const at = this.#position(name);
    const product = sizes.reduce((a, b) => a * b, 1);
    if (product !== this.shape[at] || sizes.length !== into.length) {
      throw new RangeError(
        `Cannot ungroup ${JSON.stringify(name)} of size ${this.shape[at]} into sizes [${sizes}]`,
      );
    }
    const indices = [...this.indices];
    const shape = [...this.shape];
    indices.splice(at, 1, ...into);
    shape.splice(at, 1, ...sizes);
    return this.#edit({ op: "ungroup", name, sizes: [...sizes], into: [...into] }, indices, shape);
  }

  /** Keeps `length` entries of index `name`, `step` apart from `start`: `start`,
   * `start + step`, … (`step` 1, the default: `start … start + length − 1`). */
  narrow(name: string, start: number, length: number, step: number = 1): SymbolicTensor {
    const at = this.#position(name);
    if (
      !(Number.isInteger(start) && Number.isInteger(length) && Number.isInteger(step) &&
        start >= 0 && length > 0 && step > 0) ||
      start + (length - 1) * step >= this.shape[at]
    ) {
      throw new RangeError(
        `Cannot narrow ${JSON.stringify(name)} of size ${
          this.shape[at]
        } to start=${start}, length=${length}, step=${step}`,
      );
    }
    const shape = [...this.shape];
    shape[at] = length;
    const edit: Transform = step === 1
      ? { op: "narrow", name, start, length }
      : { op: "narrow", name, start, length, step };
    return this.#edit(edit, this.indices, shape);
  }

  /** Drops index `name`, which must have size 1. */
  squeeze(name: string): SymbolicTensor {
    const at = this.#position(name);
    if (this.shape[at] !== 1) {
      throw new RangeError(`Cannot squeeze ${JSON.stringify(name)} of size ${this.shape[at]}`);
    }
    const indices = this.indices.filter((_, d) => d !== at);
    const shape = this.shape.filter((_, d) => d !== at);
    return this.#edit({ op: "squeeze", name }, indices, shape);
  }

  /**
   * Builds the numbers: the source tensor, then every edit as a view (a copy only when a
   * grouping cannot be a view). Inputs are never changed.
   *
   * @param options Input tensors by name, a pattern builder and the dtype.
   * @returns An ndarray of the current shape.
   */
  materialize(options: MaterializeOptions = {}): NdArray {
    let x = this.#base(options);
    if (x.shape.join() !== this.initialShape.join()) {
      throw new RangeError(
        `Cannot materialize ${
          describeSource(this.source)
        }: expected shape [${this.initialShape}], got [${x.shape}]`,
      );
    }
    let names = [...this.initialIndices];
    for (const step of this.history) {
      switch (step.op) {
        case "rename":
          names[names.indexOf(step.from)] = step.to;
          break;
        case "narrow": {
          const d = names.indexOf(step.name);
          const shape = [...x.shape];
          const stride = [...x.stride];
          shape[d] = step.length;
          stride[d] *= step.step ?? 1;
          x = ndarray(x.data, shape, stride, x.offset + step.start * x.stride[d]);
          break;
        }
        case "squeeze": {
          const d = names.indexOf(step.name);
          x = ndarray(
            x.data,
            x.shape.filter((_, e) => e !== d),
            x.stride.filter((_, e) => e !== d),
            x.offset,
          );
          names = names.filter((_, e) => e !== d);
          break;
        }
        case "ungroup": {
          const d = names.indexOf(step.name);
          const strides: number[] = [];
          let step_ = x.stride[d];
          for (let e = step.sizes.length - 1; e >= 0; e--) {
            strides.unshift(step_);
            step_ *= step.sizes[e];
          }
          const shape = [...x.shape];
          const stride = [...x.stride];
          shape.splice(d, 1, ...step.sizes);
          stride.splice(d, 1, ...strides);
          x = ndarray(x.data, shape, stride, x.offset);
          names.splice(d, 1, ...step.into);
          break;
        }
        case "group": {
          const d = names.indexOf(step.names[0]);
          const count = step.names.length;
          let stride = mergedStride(x, d, count);
          if (stride === null) {
            x = contiguous(x);
            stride = mergedStride(x, d, count)!;
          }
          const size = x.shape.slice(d, d + count).reduce((a, b) => a * b, 1);
          const shape = [...x.shape];
          const strides = [...x.stride];
          shape.splice(d, count, size);
          strides.splice(d, count, stride);
          x = ndarray(x.data, shape, strides, x.offset);
          names.splice(d, count, step.into);
          break;
        }
      }
    }
    return x;
  }

  #base(options: MaterializeOptions): NdArray {
    const dtype = options.dtype ?? "float64";
    const source = this.source;
    switch (source.kind) {
      case "input": {
        const x = options.inputs?.[source.name];
        if (x === undefined) {
          throw new TypeError(`Cannot materialize input ${JSON.stringify(source.name)}: not given`);
        }
        return x;
      }
      case "pattern": {
        if (options.pattern === undefined) {
          throw new TypeError("Cannot materialize an index pattern: no pattern builder given");
        }
        return options.pattern(source.pattern, dtype);
      }
      case "identity": {
        const eye = tensor(new Float64Array(source.size * source.size), {
          shape: [source.size, source.size],
          dtype,
        });
        for (let i = 0; i < source.size; i++) eye.data[i * (source.size + 1)] = 1;
        return eye;
      }
      case "constant":
        return tensor([source.value], { dtype });
    }
  }

  #pristine(): boolean {
    return this.history.every((step) => step.op === "rename");
  }

  #position(name: string): number {
    const at = this.indices.indexOf(name);
    if (at < 0) {
      throw new RangeError(
        `Cannot find index ${JSON.stringify(name)} among [${this.indices.join(", ")}]`,
      );
    }
    return at;
  }

  #edit(step: Transform, indices: readonly string[], shape: readonly number[]): SymbolicTensor {
    checkIndices(indices, shape);
    SymbolicTensor.#derived = {
      indices: [...indices],
      shape: [...shape],
      history: [...this.history, step],
    };
    return new SymbolicTensor({
      source: this.source,
      indices: this.initialIndices,
      shape: this.initialShape,
      pattern: this.#pattern,
    });
  }
}

/** The one stride that walks axes `from … from + count − 1` as a single axis, or null
 * if their strides do not chain (axes of size 1 are skipped). */
function mergedStride(x: NdArray, from: number, count: number): number | null {
  let stride: number | null = null;
  let span = 1;
  for (let d = from + count - 1; d >= from; d--) {
    if (x.shape[d] === 1) continue;
    if (stride === null) stride = x.stride[d];
    else if (x.stride[d] !== stride * span) return null;
    span *= x.shape[d];
  }
  return stride ?? 1;
}

function checkIndices(indices: readonly string[], shape: readonly number[]): void {
  if (new Set(indices).size !== indices.length) {
    throw new RangeError(`Cannot build symbolic tensor: indices [${indices}] are not unique`);
  }
  if (indices.length !== shape.length) {
    throw new RangeError(
      `Cannot build symbolic tensor: ${indices.length} indices for shape [${shape}]`,
    );
  }
}

function describeSource(source: TensorSource): string {
  return source.kind === "input" ? `input ${JSON.stringify(source.name)}` : source.kind;
}
