// simplify(): fewer operands and FLOPs on dense cases, the same numbers on random
// hyperparameters, size-1 indices squeezed, down-sampled inputs narrowed and inputs read
// on a lattice (stride and dilation with a common factor) kept as strided views.
import assert from "node:assert/strict";
import {
  assertAllClose,
  contractPath,
  type DType,
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
  evaluateSync,
  simplify,
} from "@einconv/expressions";
import { mulberry32, randomTensor } from "../_random.ts";

/** What every builder returns. */
type Expression = ReturnType<typeof convForward>;

/** The product of a shape. */
function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** einsum of an equation and operands, reshaped to `shape` (a new tensor). */
function contract(equation: string, operands: NdArray[], shape: readonly number[]): NdArray {
  const out = einsumSync(equation, ...operands);
  assert.equal(out.size, product(shape), `[${out.shape}] does not reshape to [${shape}]`);
  return tensor(out.data, { shape });
}

/** A C-contiguous tensor whose entries are small multiples of 1/64, from a seed. */
function random(shape: number[], seed: number, dtype: DType = "float64"): NdArray {
  return randomTensor(mulberry32(seed), shape, dtype);
}

/** Copies of every operand's buffer and layout, to check later that none changed. */
function snapshot(operands: readonly NdArray[]): unknown[] {
  return operands.map((x) => ({
    data: Array.from(x.data),
    shape: [...x.shape],
    stride: [...x.stride],
    offset: x.offset,
  }));
}

/** Dense cases: kernel = stride, no padding, no dilation, divisible sizes. */
const DENSE_CASES: { label: string; build(simplify?: boolean): Expression }[] = [
  {
    label: "2d forward, kernel 2, stride 2, input 8×6",
    build: (simplify) =>
      convForward(random([2, 3, 8, 6], 1), random([5, 3, 2, 2], 2), { stride: 2, simplify }),
  },
  {
    label: "2d 1×1 forward",
    build: (simplify) =>
      convForward(random([2, 3, 5, 4], 3), random([4, 3, 1, 1], 4), { simplify }),
  },
];

for (const { label, build } of DENSE_CASES) {
  Deno.test(`simplify() needs fewer operands and FLOPs for a ${label}`, () => {
    const dense = build(false);
    const before = snapshot(dense.operands);
    const simplified = simplify(dense.equation, dense.operands);
    assert.deepEqual(snapshot(dense.operands), before, "simplify() changed its operands");
    assert.ok(
      simplified.operands.length < dense.operands.length,
      `${simplified.operands.length} operands (${simplified.equation}), ` +
        `unsimplified ${dense.operands.length} (${dense.equation})`,
    );
    // FLOPs as opt_einsum counts them, patterns as dense tensors: the planner's own
    // pattern-aware cost already runs the unsimplified patterns as an implicit GEMM.
    const options = { patterns: false } as const;
    const flops = contractPath(simplified.equation, ...simplified.operands, options).flops;
    const denseFlops = contractPath(dense.equation, ...dense.operands, options).flops;
    assert.ok(flops < denseFlops, `${flops} FLOPs, unsimplified ${denseFlops}`);
    assert.ok(
      contractPath(simplified.equation, ...simplified.operands).flops <=
        contractPath(dense.equation, ...dense.operands).flops,
    );
    const expected = contract(dense.equation, dense.operands, dense.shape);
    assertAllClose(contract(simplified.equation, simplified.operands, dense.shape), expected);
    // the builder's default is the simplified expression
    const byDefault = build();
    assert.equal(byDefault.operands.length, simplified.operands.length, byDefault.equation);
    assertAllClose(evaluateSync(byDefault), expected);
  });
}

/** Hyperparameters of one random convolution, per spatial dimension. */
interface RandomConv {
  batch: number;
  groups: number;
  /** Input and output channels per group. */
  inPerGroup: number;
  outPerGroup: number;
  inputSize: number[];
  kernelSize: number[];
  stride: number[];
  padding: number[] | "same" | "valid";
  dilation: number[];
}

/** A random integer in `[low, high]`. */
function randomInt(rng: () => number, low: number, high: number): number {
  return low + Math.floor(rng() * (high - low + 1));
}

/** Left and right padding of one dimension. */
function paddings(conv: RandomConv, n: number): [number, number] {
  const { padding } = conv;
  if (padding === "valid") return [0, 0];
  if (padding === "same") {
    const total = conv.dilation[n] * (conv.kernelSize[n] - 1);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  }
  return [padding[n], padding[n]];
}

/** Output sizes of the convolution. */
function outputSize(conv: RandomConv): number[] {
  return conv.inputSize.map((size, n) => {
    const [left, right] = paddings(conv, n);
    const span = conv.dilation[n] * (conv.kernelSize[n] - 1) + 1;
    return Math.floor((size + left + right - span) / conv.stride[n]) + 1;
  });
}

/**
 * A random valid convolution: a quarter dense dimensions (kernel = stride), a fifth
 * down-sampling ones (stride > kernel), the rest general with padding and dilation.
 */
function randomConv(rng: () => number): RandomConv {
  const N = randomInt(rng, 1, 2);
  const kinds = Array.from({ length: N }, () => rng());
  const kernelSize: number[] = [];
  const stride: number[] = [];
  const dilation: number[] = [];
  for (const kind of kinds) {
    const k = randomInt(rng, 1, 3);
    kernelSize.push(k);
    if (kind < 0.25) stride.push(k);
    else if (kind < 0.45) stride.push(k + randomInt(rng, 1, 2));
    else stride.push(randomInt(rng, 1, 3));
    dilation.push(kind < 0.45 ? 1 : randomInt(rng, 1, 2));
  }
  const draw = rng();
  let padding: RandomConv["padding"];
  if (draw < 0.15) padding = "valid";
  else if (draw < 0.3 && stride.every((s) => s === 1)) padding = "same";
  else padding = kinds.map((kind, n) => kind < 0.45 ? 0 : randomInt(rng, 0, kernelSize[n] - 1));
  const conv: RandomConv = {
    batch: randomInt(rng, 1, 2),
    groups: randomInt(rng, 1, 3),
    inPerGroup: randomInt(rng, 1, 2),
    outPerGroup: randomInt(rng, 1, 2),
    inputSize: [],
    kernelSize,
    stride,
    padding,
    dilation,
  };
  conv.inputSize = kernelSize.map((k, n) => {
    if (kinds[n] < 0.45) return stride[n] * randomInt(rng, 1, 3);
    const [left, right] = paddings(conv, n);
    const span = dilation[n] * (k - 1) + 1;
    return Math.max(1, span - left - right) + randomInt(rng, 0, 4);
  });
  return conv;
}

/**
 * A random transpose convolution, hyperparameters of the associated convolution: `x` has
 * the size `O` of the associated convolution's output, output padding is below stride.
 */
function randomTransposeConv(
  rng: () => number,
): Omit<RandomConv, "padding"> & { padding: number[]; outputPadding: number[] } {
  const conv = randomConv(rng);
  return {
    ...conv,
    inputSize: conv.inputSize.map(() => randomInt(rng, 1, 4)),
    padding: conv.kernelSize.map((k) => randomInt(rng, 0, Math.min(1, k - 1))),
    outputPadding: conv.stride.map((s) => randomInt(rng, 0, s - 1)),
  };
}

/** Builds one random expression with `simplify: false`. */
type RandomBuild = (rng: () => number) => { label: string; expression: Expression };

function describeConv(conv: object): string {
  return JSON.stringify(conv);
}

const RANDOM_BUILDS: Record<string, RandomBuild> = {
  convForward: (rng) => {
    const c = randomConv(rng);
    const x = randomTensor(rng, [c.batch, c.groups * c.inPerGroup, ...c.inputSize]);
    const weight = randomTensor(rng, [c.groups * c.outPerGroup, c.inPerGroup, ...c.kernelSize]);
    const { stride, padding, dilation, groups } = c;
    const expression = convForward(x, weight, {
      stride,
      padding,
      dilation,
      groups,
      simplify: false,
    });
    return { label: describeConv(c), expression };
  },
  convInputVjp: (rng) => {
    const c = randomConv(rng);
    const weight = randomTensor(rng, [c.groups * c.outPerGroup, c.inPerGroup, ...c.kernelSize]);
    const v = randomTensor(rng, [c.batch, c.groups * c.outPerGroup, ...outputSize(c)]);
    const { stride, padding, dilation, groups } = c;
    const expression = convInputVjp(weight, v, c.inputSize, {
      stride,
      padding,
      dilation,
      groups,
      simplify: false,
    });
    return { label: describeConv(c), expression };
  },
  convWeightVjp: (rng) => {
    const c = randomConv(rng);
    const x = randomTensor(rng, [c.batch, c.groups * c.inPerGroup, ...c.inputSize]);
    const v = randomTensor(rng, [c.batch, c.groups * c.outPerGroup, ...outputSize(c)]);
    const { stride, padding, dilation, groups } = c;
    const expression = convWeightVjp(x, v, c.kernelSize, {
      stride,
      padding,
      dilation,
      groups,
      simplify: false,
    });
    return { label: describeConv(c), expression };
  },
  convUnfold: (rng) => {
    const c = randomConv(rng);
    const x = randomTensor(rng, [c.batch, c.groups * c.inPerGroup, ...c.inputSize]);
    const { stride, padding, dilation } = c;
    const expression = convUnfold(x, c.kernelSize, { stride, padding, dilation, simplify: false });
    return { label: describeConv(c), expression };
  },
  convKfc: (rng) => {
    const c = randomConv(rng);
    const x = randomTensor(rng, [c.batch, c.groups * c.inPerGroup, ...c.inputSize]);
    const { stride, padding, dilation, groups } = c;
    const expression = convKfc(x, c.kernelSize, {
      stride,
      padding,
      dilation,
      groups,
      simplify: false,
    });
    return { label: describeConv(c), expression };
  },
  convKfacReduce: (rng) => {
    const c = randomConv(rng);
    const x = randomTensor(rng, [c.batch, c.groups * c.inPerGroup, ...c.inputSize]);
    const { stride, padding, dilation, groups } = c;
    const expression = convKfacReduce(x, c.kernelSize, {
      stride,
      padding,
      dilation,
      groups,
      simplify: false,
    });
    return { label: describeConv(c), expression };
  },
  convTransposeUnfold: (rng) => {
    const c = randomTransposeConv(rng);
    const x = randomTensor(rng, [c.batch, c.groups * c.inPerGroup, ...c.inputSize]);
    const { stride, padding, outputPadding, dilation } = c;
    const expression = convTransposeUnfold(x, c.kernelSize, {
      stride,
      padding,
      outputPadding,
      dilation,
      simplify: false,
    });
    return { label: describeConv(c), expression };
  },
  convTransposeKfacReduce: (rng) => {
    const c = randomTransposeConv(rng);
    const x = randomTensor(rng, [c.batch, c.groups * c.inPerGroup, ...c.inputSize]);
    const { stride, padding, outputPadding, dilation, groups } = c;
    const expression = convTransposeKfacReduce(x, c.kernelSize, {
      stride,
      padding,
      outputPadding,
      dilation,
      groups,
      simplify: false,
    });
    return { label: describeConv(c), expression };
  },
};

const DRAWS = 40;

Object.entries(RANDOM_BUILDS).forEach(([builder, draw], seed) => {
  Deno.test(`simplify() keeps the values of ${builder}() on random hyperparameters`, () => {
    const rng = mulberry32(20261125 + seed);
    const failures: string[] = [];
    for (let d = 0; d < DRAWS; d++) {
      let label = `draw ${d}`;
      try {
        const built = draw(rng);
        label += ` ${built.label}`;
        const { equation, operands, shape } = built.expression;
        const expected = contract(equation, operands, shape);
        const before = snapshot(operands);
        const simplified = simplify(equation, operands);
        assert.deepEqual(snapshot(operands), before, "simplify() changed its operands");
        assertAllClose(contract(simplified.equation, simplified.operands, shape), expected, {
          message: `${equation} -> ${simplified.equation}`,
        });
      } catch (error) {
        failures.push(`${label}\n    ${error instanceof Error ? error.message : error}`);
      }
    }
    assert.equal(
      failures.length,
      0,
      `${failures.length} of ${DRAWS} failed:\n${failures.join("\n")}`,
    );
  });
});

/** The data operands (x, weight, v) of an expression, found by their position. */
type DataOperands = (operands: NdArray[]) => NdArray[];

/** First and last operand: x and weight, v and weight, or x and v. */
const FIRST_AND_LAST: DataOperands = (operands) => [operands[0], operands[operands.length - 1]];

/** KFC's two copies of x: first operand and the one before the scale. */
const BOTH_COPIES: DataOperands = (operands) => [operands[0], operands[operands.length - 2]];

/** groups=1 cases with no size-1 dimension in the data: the `g` index must go. */
const GROUPS_ONE_CASES: {
  label: string;
  data: DataOperands;
  build(simplify: boolean): Expression;
}[] = [
  {
    label: "convForward() 2d, kernel 3×2, padding 1",
    data: FIRST_AND_LAST,
    build: (simplify) =>
      convForward(random([2, 3, 7, 6], 11), random([4, 3, 3, 2], 12), { padding: 1, simplify }),
  },
  {
    label: "convInputVjp() 1d, kernel 3, stride 2",
    data: FIRST_AND_LAST,
    build: (simplify) =>
      convInputVjp(random([4, 3, 3], 13), random([2, 4, 4], 14), 9, { stride: 2, simplify }),
  },
  {
    label: "convWeightVjp() 2d, kernel 3, dilation 2",
    data: FIRST_AND_LAST,
    build: (simplify) =>
      convWeightVjp(random([2, 3, 7, 8], 15), random([2, 4, 3, 4], 16), 3, {
        dilation: 2,
        simplify,
      }),
  },
  {
    label: "convKfc() 1d, kernel 3",
    data: BOTH_COPIES,
    build: (simplify) => convKfc(random([2, 3, 9], 17), 3, { simplify }),
  },
];

for (const { label, data, build } of GROUPS_ONE_CASES) {
  Deno.test(`simplify() squeezes the size-1 group index of ${label}`, () => {
    const plain = build(false);
    const simplified = build(true);
    simplified.operands.forEach((operand, k) => {
      if (operand.shape.length < 2) return;
      assert.ok(
        !operand.shape.includes(1),
        `operand ${k} of ${simplified.equation} has shape [${operand.shape}]`,
      );
    });
    const plainData = data(plain.operands);
    data(simplified.operands).forEach((operand, k) => {
      assert.ok(
        operand.shape.length < plainData[k].shape.length,
        `data operand [${operand.shape}] of ${simplified.equation}, ` +
          `unsimplified [${plainData[k].shape}] of ${plain.equation}`,
      );
    });
    assertAllClose(evaluateSync(simplified), evaluateSync(plain));
  });
}

/** Down-sampling: kernel 2, stride 3, input 9, no padding: x[..., 2::3] is never read. */
const DOWNSAMPLING_CASES: { label: string; x: NdArray; build(simplify: boolean): Expression }[] =
  (() => {
    const x = random([2, 3, 9], 21);
    const options = { stride: 3 };
    return [
      {
        label: "convForward()",
        x,
        build: (simplify) => convForward(x, random([5, 3, 2], 22), { ...options, simplify }),
      },
      {
        label: "convWeightVjp()",
        x,
        build: (simplify) => convWeightVjp(x, random([2, 4, 3], 23), 2, { ...options, simplify }),
      },
      {
        label: "convUnfold()",
        x,
        build: (simplify) => convUnfold(x, 2, { ...options, simplify }),
      },
      {
        label: "convKfc()",
        x,
        build: (simplify) => convKfc(x, 2, { ...options, simplify }),
      },
    ];
  })();

for (const { label, x, build } of DOWNSAMPLING_CASES) {
  Deno.test(`simplify() narrows x of a down-sampling ${label}`, () => {
    const before = snapshot([x]);
    const simplified = build(true);
    assert.ok(
      simplified.operands[0].size < x.size,
      `x operand [${simplified.operands[0].shape}] of ${simplified.equation}, x [${x.shape}]`,
    );
    assertAllClose(evaluateSync(simplified), evaluateSync(build(false)));
    assert.deepEqual(snapshot([x]), before, "x changed");
  });
}

/** Lattices: stride 2 and dilation 2 read every other input only (odd ones with padding
 * 1), and a 1×1 stride-2 convolution of an odd-sized input the even ones. */
const LATTICE_CASES: {
  label: string;
  x: NdArray;
  build(simplify: boolean): Expression;
  /** x's operand after simplification: its strides and offset, as a view of x. */
  view: { stride: number[]; offset: number };
  /** The patterns left, as `stride/dilation/I`. */
  patterns: string[];
}[] = (() => {
  const x = random([2, 3, 9, 9], 31);
  const w = random([4, 3, 3, 3], 32);
  const x1 = random([2, 3, 7], 33);
  const lattice = { stride: 2, dilation: 2, padding: 1 };
  return [
    {
      label: "convForward() with stride 2, dilation 2",
      x,
      build: (simplify) => convForward(x, w, { ...lattice, simplify }),
      view: { stride: [243, 81, 18, 2], offset: 10 },
      patterns: ["1/1/4", "1/1/4"],
    },
    {
      label: "convWeightVjp() with stride 2, dilation 2",
      x,
      build: (simplify) => convWeightVjp(x, random([2, 4, 4, 4], 34), 3, { ...lattice, simplify }),
      view: { stride: [243, 81, 18, 2], offset: 10 },
      patterns: ["1/1/4", "1/1/4"],
    },
    {
      label: "convUnfold() with stride 2, dilation 2",
      x,
      build: (simplify) => convUnfold(x, 3, { ...lattice, simplify }),
      view: { stride: [81, 18, 2], offset: 10 }, // batch and channels merged
      patterns: ["1/1/4", "1/1/4"],
    },
    {
      label: "convKfacReduce() with stride 2, dilation 2",
      x,
      build: (simplify) => convKfacReduce(x, 3, { ...lattice, simplify }),
      view: { stride: [243, 81, 18, 2], offset: 10 },
      patterns: ["1/1/4", "1/1/4", "1/1/4", "1/1/4"], // both factors' unfolded inputs
    },
    {
      label: "1×1 convForward() with stride 2 of 7 inputs",
      x: x1,
      build: (simplify) => convForward(x1, random([5, 3, 1], 35), { stride: 2, simplify }),
      view: { stride: [21, 7, 2], offset: 0 },
      patterns: [],
    },
  ];
})();

for (const { label, x, build, view, patterns } of LATTICE_CASES) {
  Deno.test(`simplify() keeps only the inputs a ${label} reads`, () => {
    const before = snapshot([x]);
    const plain = build(false);
    const simplified = build(true);
    const data = simplified.operands[0];
    assert.equal(data.data, x.data, "x's operand is not a view of x");
    assert.deepEqual({ stride: data.stride, offset: data.offset }, view);
    const plan = contractPath(simplified.equation, ...simplified.operands);
    assert.deepEqual(
      plan.patterns.filter((p) => p !== undefined).map((p) =>
        `${p!.stride}/${p!.dilation}/${p!.inputSize}`
      ),
      patterns,
      simplified.equation,
    );
    // A quarter of x's 9×9 planes (rows and columns 1, 3, 5, 7); 4 of the 7 inputs in 1-d.
    assert.equal(data.size, patterns.length === 0 ? 2 * 3 * 4 : 2 * 3 * 4 * 4);
    assertAllClose(evaluateSync(simplified), evaluateSync(plain));
    assertAllClose(
      contract(simplified.equation, simplified.operands, simplified.shape),
      evaluateSync(plain),
    );
    assert.deepEqual(snapshot([x]), before, "x changed");
  });
}

Deno.test("simplify() leaves the lattice of a pattern whose input is the result", () => {
  // The input gradient scatters onto every input, read or not: its pattern keeps stride 2.
  const expression = convInputVjp(random([4, 3, 3, 3], 36), random([2, 4, 4, 4], 37), [9, 9], {
    stride: 2,
    dilation: 2,
    padding: 1,
  });
  const plan = contractPath(expression.equation, ...expression.operands);
  assert.deepEqual(
    plan.patterns.filter((p) => p !== undefined).map((p) => [p!.stride, p!.dilation]),
    [[2, 2], [2, 2]],
  );
});

Deno.test("simplify() keeps a 1×1 kernel's patterns whole, so the planner sees a convolution", () => {
  // The input gradient of a 1×1 stride-2 convolution scatters onto every other input: its
  // patterns [1, 4, 8] and the weight's size-1 kernel indices stay, and the plan is the
  // input-gradient implicit GEMM rather than products with dense 0/1 matrices.
  const w = random([6, 3, 1, 1], 40);
  const v = random([2, 6, 4, 4], 41);
  const plain = convInputVjp(w, v, [8, 8], { stride: 2, simplify: false });
  const simplified = convInputVjp(w, v, [8, 8], { stride: 2 });
  const plan = contractPath(simplified.equation, ...simplified.operands);
  assert.deepEqual(
    plan.patterns.filter((p) => p !== undefined).map((p) => [p!.kernelSize, p!.outputSize]),
    [[1, 4], [1, 4]],
    simplified.equation,
  );
  assert.equal(plan.implicitGemm?.kind, "input");
  assertAllClose(evaluateSync(simplified), evaluateSync(plain));
});

Deno.test("simplify() on concrete operands builds the lattice's pattern tensor", () => {
  const x = random([1, 2, 9], 38);
  const plain = convForward(x, random([3, 2, 3], 39), {
    stride: 2,
    dilation: 2,
    padding: 1,
    simplify: false,
  });
  const simplified = simplify(plain.equation, plain.operands);
  const plan = contractPath(simplified.equation, ...simplified.operands);
  const pattern = plan.patterns.find((p) => p !== undefined);
  assert.equal(pattern?.stride, 1);
  assert.equal(pattern?.inputSize, 4);
  assertAllClose(
    contract(simplified.equation, simplified.operands, plain.shape),
    evaluateSync(plain),
  );
});

Deno.test("simplify() rejects virtual index patterns, which have no numbers", () => {
  const expr = convForward(
    tensor(new Float64Array(2 * 3 * 8 * 6), { shape: [2, 3, 8, 6] }),
    tensor(new Float64Array(5 * 3 * 2 * 2), { shape: [5, 3, 2, 2] }),
    {
      stride: 2,
      simplify: false,
      patternOperands: "virtual",
    },
  );
  assert.throws(() => simplify(expr.equation, expr.operands), {
    name: "RangeError",
    message: /operand 1: it is a virtual index pattern/,
  });
});
