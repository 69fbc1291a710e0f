// Every case of the eight expression fixture families, simplified or not, in float64
// and float32: build the expression, evaluate it and compare with the reference.
import assert from "node:assert/strict";
import {
  assertAllClose,
  type DType,
  dtypeOf,
  einsumSync,
  type NdArray,
  tensor,
} from "@einconv/runtime";
import {
  convForward,
  convInputVjp,
  convKfacReduce,
  convKfc,
  convTransposeKfacReduce,
  convTransposeUnfold,
  convUnfold,
  convWeightVjp,
  evaluate,
  evaluateSync,
} from "@einconv/expressions";
import { type FixtureTensor, fromFixture, loadCases } from "../_fixtures.ts";
import { withWorkers } from "../workers/_with_workers.ts";

/** What every builder returns. */
type Expression = ReturnType<typeof convForward>;

type IntOrTuple = number | number[];
type Padding = IntOrTuple | "same" | "valid";

/** Fields every fixture case has. */
interface BaseCase {
  id: string;
  N: number;
  stride: IntOrTuple;
  padding: Padding;
  dilation: IntOrTuple;
  expected: FixtureTensor;
}

interface ForwardCase extends BaseCase {
  groups: number;
  x: FixtureTensor;
  weight: FixtureTensor;
  bias: FixtureTensor;
}

interface InputVjpCase extends BaseCase {
  groups: number;
  weight: FixtureTensor;
  v: FixtureTensor;
  input_size: number[];
}

interface WeightVjpCase extends BaseCase {
  groups: number;
  x: FixtureTensor;
  v: FixtureTensor;
  kernel_size: number[];
}

interface UnfoldCase extends BaseCase {
  x: FixtureTensor;
  kernel_size: number[];
}

interface KfcCase extends UnfoldCase {
  groups: number;
}

interface TransposeUnfoldCase extends UnfoldCase {
  padding: IntOrTuple;
  output_padding: IntOrTuple;
}

interface TransposeKfacReduceCase extends TransposeUnfoldCase {
  groups: number;
}

/** One fixture file and how to turn its cases into expressions. */
interface Family<C extends BaseCase> {
  /** The builder's name, for test names. */
  builder: string;
  /** The file in tests/fixtures, without `.json`. */
  file: string;
  /** The expression of a case. */
  build(c: C, dtype: DType, simplify: boolean): Expression;
  /** What the fixture's expected holds, from the evaluated expression (default: itself). */
  finish?(out: NdArray, c: C, dtype: DType): NdArray;
}

const TOLERANCES = [["float64", 1e-10], ["float32", 1e-4]] as const;

/** The product of a shape. */
function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** `out[b, c, ...] + bias[c]` as a new tensor of `out`'s shape and dtype. */
function addBias(out: NdArray, bias: NdArray, dtype: DType): NdArray {
  const channels = out.shape[1];
  const inner = product(out.shape.slice(2));
  const data = flatten(out).map((value, i) => value + bias.get(Math.floor(i / inner) % channels));
  return tensor(data, { shape: out.shape, dtype });
}

/** The elements of a tensor in row-major order. */
function flatten(x: NdArray): number[] {
  const values: number[] = [];
  const index = new Array(x.shape.length).fill(0);
  const walk = (d: number): void => {
    if (d === x.shape.length) {
      values.push(x.get(...index));
      return;
    }
    for (let i = 0; i < x.shape[d]; i++) {
      index[d] = i;
      walk(d + 1);
    }
  };
  walk(0);
  return values;
}

/** Number of terms on the left of `->`. */
function termCount(equation: string): number {
  return equation.split("->")[0].split(",").length;
}

/** Checks one expression of one case against its reference. */
function checkCase<C extends BaseCase>(
  family: Family<C>,
  c: C,
  dtype: DType,
  rtol: number,
  simplify: boolean,
): void {
  const expression = family.build(c, dtype, simplify);
  const { equation, operands, shape } = expression;
  assert.deepEqual(shape, c.expected.shape, "shape");
  assert.equal(termCount(equation), operands.length, `operands of ${JSON.stringify(equation)}`);
  const raw = einsumSync(equation, ...operands);
  assert.equal(
    raw.size,
    product(shape),
    `einsum of ${JSON.stringify(equation)} gives [${raw.shape}], not reshapable to [${shape}]`,
  );
  const out = evaluateSync(expression);
  assert.deepEqual(out.shape, shape, "evaluateSync() shape");
  assert.equal(dtypeOf(out), dtype, "evaluateSync() dtype");
  assert.deepEqual(flatten(out), Array.from(raw.data), "evaluateSync() differs from einsumSync()");
  assertAllClose(family.finish?.(out, c, dtype) ?? out, c.expected, { rtol });
}

/** Registers one test per dtype that runs every case of the family, simplified or not. */
function fixtureTests<C extends BaseCase>(family: Family<C>): void {
  const cases = loadCases<C>(family.file);
  for (const [dtype, rtol] of TOLERANCES) {
    Deno.test(`${family.builder}() matches the fixtures in ${dtype}`, () => {
      const failures: string[] = [];
      for (const c of cases) {
        for (const simplify of [true, false]) {
          try {
            checkCase(family, c, dtype, rtol, simplify);
          } catch (error) {
            const message = error instanceof Error ? `${error.name}: ${error.message}` : error;
            failures.push(`${c.id} (${dtype}, simplify ${simplify}): ${message}`);
          }
        }
      }
      assert.equal(
        failures.length,
        0,
        `${failures.length} of ${2 * cases.length} failed:\n${failures.join("\n")}`,
      );
    });
  }
}

const convForwardFamily: Family<ForwardCase> = {
  builder: "convForward",
  file: "conv_forward",
  build: (c, dtype, simplify) =>
    convForward(fromFixture(c.x, dtype), fromFixture(c.weight, dtype), {
      stride: c.stride,
      padding: c.padding,
      dilation: c.dilation,
      groups: c.groups,
      simplify,
    }),
  finish: (out, c, dtype) => addBias(out, fromFixture(c.bias, dtype), dtype),
};

const convInputVjpFamily: Family<InputVjpCase> = {
  builder: "convInputVjp",
  file: "conv_input_vjp",
  build: (c, dtype, simplify) =>
    convInputVjp(fromFixture(c.weight, dtype), fromFixture(c.v, dtype), c.input_size, {
      stride: c.stride,
      padding: c.padding,
      dilation: c.dilation,
      groups: c.groups,
      simplify,
    }),
};

const convWeightVjpFamily: Family<WeightVjpCase> = {
  builder: "convWeightVjp",
  file: "conv_weight_vjp",
  build: (c, dtype, simplify) =>
    convWeightVjp(fromFixture(c.x, dtype), fromFixture(c.v, dtype), c.kernel_size, {
      stride: c.stride,
      padding: c.padding,
      dilation: c.dilation,
      groups: c.groups,
      simplify,
    }),
};

const convUnfoldFamily: Family<UnfoldCase> = {
  builder: "convUnfold",
  file: "unfold",
  build: (c, dtype, simplify) =>
    convUnfold(fromFixture(c.x, dtype), c.kernel_size, {
      stride: c.stride,
      padding: c.padding,
      dilation: c.dilation,
      simplify,
    }),
};

const convKfcFamily: Family<KfcCase> = {
  builder: "convKfc",
  file: "kfc",
  build: (c, dtype, simplify) =>
    convKfc(fromFixture(c.x, dtype), c.kernel_size, {
      stride: c.stride,
      padding: c.padding,
      dilation: c.dilation,
      groups: c.groups,
      simplify,
    }),
};

const convKfacReduceFamily: Family<KfcCase> = {
  builder: "convKfacReduce",
  file: "kfac_reduce",
  build: (c, dtype, simplify) =>
    convKfacReduce(fromFixture(c.x, dtype), c.kernel_size, {
      stride: c.stride,
      padding: c.padding,
      dilation: c.dilation,
      groups: c.groups,
      simplify,
    }),
};

const convTransposeUnfoldFamily: Family<TransposeUnfoldCase> = {
  builder: "convTransposeUnfold",
  file: "unfold_transpose",
  build: (c, dtype, simplify) =>
    convTransposeUnfold(fromFixture(c.x, dtype), c.kernel_size, {
      stride: c.stride,
      padding: c.padding,
      outputPadding: c.output_padding,
      dilation: c.dilation,
      simplify,
    }),
};

const convTransposeKfacReduceFamily: Family<TransposeKfacReduceCase> = {
  builder: "convTransposeKfacReduce",
  file: "transpose_kfac_reduce",
  build: (c, dtype, simplify) =>
    convTransposeKfacReduce(fromFixture(c.x, dtype), c.kernel_size, {
      stride: c.stride,
      padding: c.padding,
      outputPadding: c.output_padding,
      dilation: c.dilation,
      groups: c.groups,
      simplify,
    }),
};

fixtureTests(convForwardFamily);
fixtureTests(convInputVjpFamily);
fixtureTests(convWeightVjpFamily);
fixtureTests(convUnfoldFamily);
fixtureTests(convKfcFamily);
fixtureTests(convKfacReduceFamily);
fixtureTests(convTransposeUnfoldFamily);
fixtureTests(convTransposeKfacReduceFamily);

/** A few cases of several families for the asynchronous path. */
const ASYNC_CASES: { family: Family<BaseCase>; ids: string[] }[] = [
  // 1d with groups, 2d, and a 5d case
  { family: convForwardFamily as Family<BaseCase>, ids: ["conv1d-1", "conv2d-6", "conv5d-16"] },
  // KFC carries a scale operand and the same pattern twice
  { family: convKfcFamily as Family<BaseCase>, ids: ["conv1d-0", "conv3d-12"] },
  // transpose convolution with output padding
  { family: convTransposeUnfoldFamily as Family<BaseCase>, ids: ["convT1d-0", "convT2d-2"] },
];

Deno.test("evaluate() agrees with evaluateSync() and the fixtures", async () => {
  await withWorkers(2, async () => {
    for (const { family, ids } of ASYNC_CASES) {
      const cases = loadCases<BaseCase>(family.file).filter((c) => ids.includes(c.id));
      assert.equal(cases.length, ids.length, `${family.file}: cases ${ids}`);
      for (const c of cases) {
        for (const [dtype, rtol] of TOLERANCES) {
          for (const simplify of [true, false]) {
            const label = `${family.builder}() ${c.id} (${dtype}, simplify ${simplify})`;
            const expression = family.build(c, dtype, simplify);
            const pending = evaluate(expression);
            assert.ok(pending instanceof Promise, `${label}: evaluate() returns a Promise`);
            const out = await pending;
            assert.deepEqual(out.shape, expression.shape, `${label}: shape`);
            assert.equal(dtypeOf(out), dtype, `${label}: dtype`);
            assert.deepEqual(flatten(out), flatten(evaluateSync(expression)), label);
            assertAllClose(family.finish?.(out, c, dtype) ?? out, c.expected, {
              rtol,
              message: label,
            });
          }
        }
      }
    }
  });
});
