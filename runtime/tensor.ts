// @ts-types="@types/ndarray"
import ndarray from "ndarray";
import { allocate, copyStrided, copyToStrided, isRowMajor, shapeSize } from "./_tensor.ts";
import { checkTensor, describeValue as describe } from "./validate.ts";
import { checkOut } from "./_check_out.ts";

/**
 * A float tensor: a scijs ndarray over a `Float32Array` or a `Float64Array`. Element
 * `(i, j, …)` is `data[offset + i·stride[0] + j·stride[1] + …]`; `lo`, `hi`, `step`,
 * `transpose` and `pick` return views over the same data. Any object built by the
 * `ndarray` package over these arrays is one.
 */
export interface NdArray {
  /** The flat storage. */
  data: Float32Array | Float64Array;
  /** Size of every dimension. */
  shape: number[];
  /** Step in `data` of every dimension. */
  stride: number[];
  /** Position in `data` of the first element. */
  offset: number;
  /** `"float32"` or `"float64"`. */
  readonly dtype: string;
  /** Number of elements. */
  readonly size: number;
  /** Number of dimensions. */
  readonly dimension: number;
  /** Dimensions by increasing stride. */
  readonly order: number[];
  /** The element at a multi-index. */
  get(...index: number[]): number;
  /** Writes the last argument at the multi-index given by the others. */
  set(...indexAndValue: number[]): number;
  /** The position in `data` of a multi-index. */
  index(...index: number[]): number;
  /** A view starting at a multi-index. */
  lo(...index: number[]): NdArray;
  /** A view ending before a multi-index. */
  hi(...index: number[]): NdArray;
  /** A view with steps per dimension (negative steps reverse). */
  step(...steps: number[]): NdArray;
  /** A view with permuted dimensions. */
  transpose(...axes: number[]): NdArray;
  /** A view with some dimensions fixed (`null` keeps a dimension). */
  pick(...index: (number | null)[]): NdArray;
}

/** The floating-point element types a tensor may have. */
export type DType = "float32" | "float64";

/** Nested JavaScript arrays of numbers, as accepted by {@linkcode tensor}. */
export type NestedArray = number | readonly NestedArray[];

/** Options of {@linkcode tensor}. */
export interface TensorOptions {
  /** Element type of the new tensor; default `"float64"` for nested arrays and
   * the typed array's own type otherwise. */
  dtype?: DType;
  /** Shape of the new tensor; required for flat typed arrays of rank other than 1. */
  shape?: readonly number[];
}

/**
 * Builds a new C-contiguous tensor from nested arrays, a flat array or a typed array.
 *
 * The data are always copied, so the tensor shares nothing with its source.
 *
 * @param data Nested arrays of numbers (the shape is read from the nesting), or a flat
 *   array / typed array in row-major order together with `options.shape`.
 * @param options Element type and shape.
 * @returns A new C-contiguous ndarray.
 *
 * @example Nested arrays and a typed array with a shape
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 *
 * const a = tensor([[1, 2, 3], [4, 5, 6]]);
 * assert.deepEqual(a.shape, [2, 3]);
 * assert.equal(a.get(1, 0), 4);
 * const b = tensor(new Float32Array([1, 2, 3, 4]), { shape: [2, 2] });
 * assert.equal(b.dtype, "float32");
 * assert.equal(b.get(1, 1), 4);
 * ```
 */
export function tensor(
  data: NestedArray | ArrayLike<number>,
  options: TensorOptions = {},
): NdArray {
  const isTyped = data instanceof Float32Array || data instanceof Float64Array;
  const dtype = options.dtype ?? (data instanceof Float32Array ? "float32" : "float64");
  checkDType(dtype, "options.dtype");
  if (isTyped || (options.shape !== undefined && typeof data !== "number")) {
    const flat = data as ArrayLike<number>;
    const shape = options.shape ?? [flat.length];
    checkShape(shape, "options.shape");
    const size = shapeSize(shape);
    if (size !== flat.length) {
      throw new RangeError(
        `Cannot build tensor: data has ${flat.length} elements, shape [${shape}] needs ${size}`,
      );
    }
    const out = allocate(dtype, size);
    for (let i = 0; i < size; i++) out[i] = Number(flat[i]);
    return ndarray(out, [...shape]);
  }
  const shape = nestedShape(data as NestedArray);
  if (options.shape !== undefined && options.shape.join() !== shape.join()) {
    throw new RangeError(
      `Cannot build tensor: nested data have shape [${shape}], options.shape is [${options.shape}]`,
    );
  }
  const out = allocate(dtype, shapeSize(shape));
  let at = 0;
  const walk = (value: NestedArray): void => {
    if (typeof value === "number") out[at++] = value;
    else for (const item of value) walk(item);
  };
  walk(data as NestedArray);
  return ndarray(out, shape);
}

/**
 * Builds a new C-contiguous tensor of zeros.
 *
 * @param shape The shape.
 * @param dtype Element type, default `"float64"`.
 * @returns A new ndarray of zeros.
 *
 * @example A 2×3 float32 zero tensor
 * ```ts
 * import assert from "node:assert/strict";
 * import { zeros } from "@einconv/runtime";
 *
 * const z = zeros([2, 3], "float32");
 * assert.deepEqual(z.shape, [2, 3]);
 * assert.equal(z.data.length, 6);
 * ```
 */
export function zeros(shape: readonly number[], dtype: DType = "float64"): NdArray {
  checkShape(shape, "shape");
  checkDType(dtype, "dtype");
  return ndarray(allocate(dtype, shapeSize(shape)), [...shape]);
}

/**
 * Reads a tensor into nested JavaScript arrays (a 0-d tensor gives a number).
 *
 * @param x The tensor (any strides).
 * @returns Nested arrays of numbers in the tensor's logical order.
 *
 * @example A transposed view
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor, toNested } from "@einconv/runtime";
 *
 * const a = tensor([[1, 2], [3, 4]]);
 * assert.deepEqual(toNested(a.transpose(1, 0)), [[1, 3], [2, 4]]);
 * ```
 */
export function toNested(x: NdArray): NestedArray {
  checkTensor(x, "x");
  const build = (dim: number, offset: number): NestedArray => {
    if (dim === x.shape.length) return x.data[offset];
    const items: NestedArray[] = [];
    for (let i = 0; i < x.shape[dim]; i++) items.push(build(dim + 1, offset + i * x.stride[dim]));
    return items;
  };
  return build(0, x.offset);
}

/**
 * Copies a tensor (any strides) into a new C-contiguous tensor of the given dtype.
 *
 * @param x The tensor to copy; it is not changed.
 * @param dtype Element type of the copy, default that of `x`.
 * @returns A new C-contiguous ndarray with the same values.
 *
 * @example Copying a transposed view to float32
 * ```ts
 * import assert from "node:assert/strict";
 * import { contiguous, tensor } from "@einconv/runtime";
 *
 * const a = contiguous(tensor([[1, 2], [3, 4]]).transpose(1, 0), "float32");
 * assert.deepEqual(Array.from(a.data), [1, 3, 2, 4]);
 * assert.deepEqual(a.stride, [2, 1]);
 * ```
 */
export function contiguous(x: NdArray, dtype: DType = dtypeOf(x)): NdArray {
  checkTensor(x, "x");
  checkDType(dtype, "dtype");
  const shape = [...x.shape];
  const size = shapeSize(shape);
  const out = allocate(dtype, size);
  copyStrided(x.data, x.offset, shape, [...x.stride], out);
  return ndarray(out, shape);
}

/**
 * Copies the entries of `source` into `out`, both of the same shape and any strides,
 * converting them to `out`'s float type; `source` may share memory with `out`. An `out`
 * that reaches outside its data or repeats elements (stride 0) is a RangeError.
 *
 * @param out The destination; it is written.
 * @param source The tensor to copy; it is not changed.
 * @returns `out`.
 *
 * @example Into a transposed view
 * ```ts
 * import assert from "node:assert/strict";
 * import { assign, tensor, zeros } from "@einconv/runtime";
 *
 * const out = zeros([2, 2], "float32");
 * assign(out.transpose(1, 0), tensor([[1, 2], [3, 4]]));
 * assert.deepEqual(Array.from(out.data), [1, 3, 2, 4]);
 * ```
 */
export function assign(out: NdArray, source: NdArray): NdArray {
  checkOut(out);
  checkTensor(source, "source");
  if (out.shape.join() !== source.shape.join()) {
    throw new RangeError(`Cannot read out: expected shape [${source.shape}], got [${out.shape}]`);
  }
  const flat = isRowMajor(source.shape, source.stride) && source.data.buffer !== out.data.buffer
    ? source.data.subarray(source.offset, source.offset + shapeSize(source.shape))
    : contiguous(source).data;
  copyToStrided(flat, out.data, out.offset, out.shape, out.stride);
  return out;
}

/**
 * The element type of a result computed from these tensors: float32 when every one is
 * float32, float64 otherwise (also for none).
 *
 * @param tensors The operands.
 * @returns `"float32"` or `"float64"`.
 *
 * @example Mixed dtypes give float64
 * ```ts
 * import assert from "node:assert/strict";
 * import { resultDType, zeros } from "@einconv/runtime";
 *
 * assert.equal(resultDType([zeros([1], "float32"), zeros([1], "float32")]), "float32");
 * assert.equal(resultDType([zeros([1], "float32"), zeros([1])]), "float64");
 * ```
 */
export function resultDType(tensors: readonly NdArray[]): DType {
  return tensors.length > 0 && tensors.every((x) => dtypeOf(x) === "float32")
    ? "float32"
    : "float64";
}

/**
 * Returns the element type of a tensor.
 *
 * @param x A tensor.
 * @returns `"float32"` or `"float64"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dtypeOf, zeros } from "@einconv/runtime";
 *
 * assert.equal(dtypeOf(zeros([2], "float32")), "float32");
 * ```
 */
export function dtypeOf(x: NdArray): DType {
  return x.data instanceof Float32Array ? "float32" : "float64";
}

/**
 * Whether two ndarrays are the same view of the same storage: the same typed array, offset,
 * shape and strides (so they read the same numbers), whether or not they are one object.
 *
 * @param a A tensor.
 * @param b Another.
 * @returns True when every element of `a` is the element of `b` at the same index.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sameView, zeros } from "@einconv/runtime";
 *
 * const x = zeros([2, 3]);
 * assert.ok(sameView(x, x.lo(0, 0)));
 * assert.ok(!sameView(x, x.transpose(1, 0)));
 * assert.ok(!sameView(x, zeros([2, 3])));
 * ```
 */
export function sameView(a: NdArray, b: NdArray): boolean {
  const same = (x: readonly number[], y: readonly number[]) =>
    x.length === y.length && x.every((value, at) => value === y[at]);
  return a.data === b.data && a.offset === b.offset && same(a.shape, b.shape) &&
    same(a.stride, b.stride);
}

function checkDType(dtype: unknown, name: string): asserts dtype is DType {
  if (dtype !== "float32" && dtype !== "float64") {
    throw new TypeError(
      `Cannot read ${name}: expected "float32" or "float64", got ${JSON.stringify(dtype)}`,
    );
  }
}

function checkShape(shape: unknown, name: string): asserts shape is number[] {
  if (
    !Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)
  ) {
    throw new TypeError(
      `Cannot read ${name}: expected an array of non-negative integers, got ${describe(shape)}`,
    );
  }
}

function nestedShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (typeof level !== "number") {
    if (!Array.isArray(level)) throw new TypeError(`Cannot read data: got ${describe(level)}`);
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  const check = (value: NestedArray, dim: number): void => {
    if (dim === shape.length) {
      if (typeof value !== "number") {
        throw new RangeError(`Cannot read data: ragged nesting at depth ${dim}`);
      }
      return;
    }
    if (!Array.isArray(value) || value.length !== shape[dim]) {
      throw new RangeError(
        `Cannot read data: ragged nesting at depth ${dim}, expected length ${shape[dim]}`,
      );
    }
    for (const item of value) check(item, dim + 1);
  };
  check(data, 0);
  return shape;
}
