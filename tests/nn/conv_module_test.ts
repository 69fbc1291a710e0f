// ConvNd and UnfoldNd: backward against central differences in float64 for every padding
// mode, seeded PyTorch initialisation, the parameter setters, inputs left unchanged, and
// bad input to the modules and functionals.
import assert from "node:assert/strict";
import { assertAllClose, dtypeOf, type NdArray, tensor, zeros } from "@einconv/runtime";
import { ConvNd, convNd, UnfoldNd, unfoldNd } from "@einconv/nn";
import { mulberry32, randomTensor, randomView } from "../_random.ts";
import type { PaddingMode } from "../_reference_conv.ts";
import { inner, product, values } from "./_tensor_math.ts";

const PADDING_MODES: PaddingMode[] = ["zeros", "reflect", "replicate", "circular"];

/** Module configurations of the finite-difference check: N = 1 with groups and stride,
 * N = 2 with per-dimension hyperparameters; paddings small enough for "reflect". */
const FD_CONFIGS = [
  {
    N: 1,
    inputShape: [2, 2, 7],
    module: {
      inChannels: 2,
      outChannels: 4,
      kernelSize: [3],
      stride: 2,
      padding: 2,
      dilation: 1,
      groups: 2,
    },
  },
  {
    N: 2,
    inputShape: [2, 3, 5, 6],
    module: {
      inChannels: 3,
      outChannels: 2,
      kernelSize: [2, 3],
      stride: [1, 2],
      padding: [1, 2],
      dilation: [2, 1],
      groups: 1,
    },
  },
];

/** Entries checked per tensor. */
const FD_ENTRIES = 4;
/** Step of the central differences; the loss is affine in each parameter, so any step works
 * up to rounding, and a power of two keeps the perturbed inputs exact. */
const STEP = 1 / 64;

/** A copy of `t` with `delta` added to its row-major entry `index`. */
function perturbed(t: NdArray, index: number, delta: number): NdArray {
  const data = values(t);
  data[index] += delta;
  return tensor(data, { shape: t.shape, dtype: dtypeOf(t) });
}

/** Checks one analytic gradient entry against central differences of `loss`. */
async function checkEntry(
  label: string,
  analytic: number,
  loss: (delta: number) => Promise<number>,
): Promise<void> {
  const numeric = (await loss(STEP) - await loss(-STEP)) / (2 * STEP);
  assert.ok(
    Math.abs(numeric - analytic) <= 1e-8 * Math.max(1, Math.abs(analytic)),
    `${label}: backward gives ${analytic}, central differences ${numeric}`,
  );
}

for (const mode of PADDING_MODES) {
  for (const config of FD_CONFIGS) {
    Deno.test(`ConvNd.backward() matches central differences with paddingMode "${mode}" for N=${config.N}`, async () => {
      const rng = mulberry32(17 + config.N);
      const module = new ConvNd({ ...config.module, paddingMode: mode, dtype: "float64", seed: 3 });
      const x = randomTensor(rng, config.inputShape);
      const out = await module.forward(x);
      const g = randomTensor(rng, out.shape);
      const grads = await module.backward(x, g);
      assert.ok(grads.bias !== null, "bias gradient");
      const weight = module.weight;
      const bias = module.bias!;
      const loss = async (input: NdArray) => inner(await module.forward(input), g);
      const entries = (size: number) =>
        Array.from({ length: FD_ENTRIES }, () => Math.floor(rng() * size));
      for (const i of entries(x.size)) {
        await checkEntry(`input[${i}]`, values(grads.input)[i], (d) => loss(perturbed(x, i, d)));
      }
      for (const i of entries(weight.size)) {
        await checkEntry(`weight[${i}]`, values(grads.weight)[i], (d) => {
          module.weight = perturbed(weight, i, d);
          return loss(x);
        });
      }
      module.weight = weight;
      for (const i of entries(bias.size)) {
        await checkEntry(`bias[${i}]`, values(grads.bias)[i], (d) => {
          module.bias = perturbed(bias, i, d);
          return loss(x);
        });
      }
    });
  }
}

Deno.test("ConvNd gives the same parameters for the same seed and others for another", () => {
  const options = { inChannels: 3, outChannels: 4, kernelSize: [3, 2], groups: 1 };
  const a = new ConvNd({ ...options, seed: 7 });
  const b = new ConvNd({ ...options, seed: 7 });
  const c = new ConvNd({ ...options, seed: 8 });
  assert.deepEqual(values(a.weight), values(b.weight));
  assert.deepEqual(values(a.bias!), values(b.bias!));
  assert.notDeepEqual(values(a.weight), values(c.weight));
  assert.notDeepEqual(values(a.bias!), values(c.bias!));
});

Deno.test("ConvNd initialises weight and bias uniformly within ±1/sqrt(fan_in)", () => {
  const configs = [
    { inChannels: 4, outChannels: 6, kernelSize: [3, 2], groups: 2, seed: 1 },
    { inChannels: 3, outChannels: 8, kernelSize: [5], groups: 1, seed: 2 },
    { inChannels: 2, outChannels: 4, kernelSize: [2, 1, 2], groups: 1, seed: 3, dtype: "float64" },
  ] as const;
  for (const config of configs) {
    const module = new ConvNd(config);
    const fanIn = (config.inChannels / config.groups) * product(config.kernelSize);
    const bound = 1 / Math.sqrt(fanIn);
    const label = JSON.stringify(config);
    const dtype = "dtype" in config ? config.dtype : "float32";
    assert.deepEqual(module.weight.shape, [
      config.outChannels,
      config.inChannels / config.groups,
      ...config.kernelSize,
    ], label);
    assert.deepEqual(module.bias!.shape, [config.outChannels], label);
    assert.equal(dtypeOf(module.weight), dtype, label);
    assert.equal(dtypeOf(module.bias!), dtype, label);
    const w = values(module.weight);
    assert.ok(w.every((v) => Math.abs(v) <= bound), `${label}: weight outside ±${bound}`);
    assert.ok(values(module.bias!).every((v) => Math.abs(v) <= bound), `${label}: bias`);
    // spread over the interval, both signs
    assert.ok(w.some((v) => v > bound / 2) && w.some((v) => v < -bound / 2), `${label}: spread`);
    assert.ok(Math.max(...w.map(Math.abs)) > 0.75 * bound, `${label}: largest weight`);
  }
});

Deno.test("ConvNd reads N from a number kernelSize and the N option", () => {
  const module = new ConvNd({ inChannels: 2, outChannels: 3, kernelSize: 2, N: 3, seed: 1 });
  assert.deepEqual(module.weight.shape, [3, 2, 2, 2, 2]);
});

Deno.test("ConvNd weight and bias setters reject a wrong shape or dtype and keep the old value", () => {
  const module = new ConvNd({ inChannels: 2, outChannels: 3, kernelSize: [3], seed: 1 });
  const weight = module.weight;
  const bias = module.bias;
  const rejected: [string, () => void, RegExp][] = [
    ["weight shape", () => (module.weight = zeros([3, 2, 2], "float32")), /weight/],
    ["weight rank", () => (module.weight = zeros([3, 2], "float32")), /weight/],
    ["weight dtype", () => (module.weight = zeros([3, 2, 3], "float64")), /weight/],
    ["bias length", () => (module.bias = zeros([2], "float32")), /bias/],
    ["bias dtype", () => (module.bias = zeros([3], "float64")), /bias/],
  ];
  for (const [label, assign, message] of rejected) {
    assert.throws(assign, (error: Error) => {
      assert.ok(error instanceof TypeError || error instanceof RangeError, `${label}: ${error}`);
      assert.match(error.message, message, label);
      return true;
    }, label);
    assert.equal(module.weight, weight, `${label}: weight replaced`);
    assert.equal(module.bias, bias, `${label}: bias replaced`);
  }
  const next = zeros([3, 2, 3], "float32");
  module.weight = next;
  assert.deepEqual(values(module.weight), values(next));
});

Deno.test("ConvNd with bias=false has bias null and backward returns bias null", async () => {
  const rng = mulberry32(4);
  const module = new ConvNd({
    inChannels: 2,
    outChannels: 2,
    kernelSize: [2, 2],
    padding: 1,
    bias: false,
    dtype: "float64",
    seed: 5,
  });
  assert.equal(module.bias, null);
  const x = randomTensor(rng, [2, 2, 4, 3]);
  const out = await module.forward(x);
  assertAllClose(out, await convNd(x, module.weight, null, { padding: 1 }));
  const grads = await module.backward(x, randomTensor(rng, out.shape));
  assert.equal(grads.bias, null);
  assert.deepEqual(grads.weight.shape, module.weight.shape);
  assert.deepEqual(grads.input.shape, x.shape);
});

Deno.test("ConvNd.forward() and backward() leave x and gradOutput unchanged", async () => {
  const rng = mulberry32(6);
  for (const mode of PADDING_MODES) {
    const module = new ConvNd({
      inChannels: 2,
      outChannels: 3,
      kernelSize: [3, 2],
      padding: 1,
      paddingMode: mode,
      dtype: "float64",
      seed: 2,
    });
    for (const view of [false, true]) {
      const base = randomTensor(rng, [2, 2, 5, 4]);
      const x = view ? randomView(rng, base) : base;
      const before = values(x);
      const data = Float64Array.from(x.data);
      const out = await module.forward(x);
      const g = randomTensor(rng, out.shape);
      const gBefore = values(g);
      await module.backward(x, g);
      const label = `${mode}, view ${view}`;
      assert.deepEqual(values(x), before, label);
      assert.ok(
        x.data.every((v, i) => Object.is(v, data[i])),
        `${label}: x's buffer changed`,
      );
      assert.deepEqual(values(g), gBefore, `${label}: gradOutput changed`);
    }
  }
});

Deno.test("UnfoldNd.forward() matches unfoldNd()", async () => {
  const rng = mulberry32(8);
  const options = { kernelSize: [2, 3], dilation: [1, 2], padding: 1, stride: [2, 1] };
  const x = randomTensor(rng, [2, 3, 6, 7]);
  const { kernelSize, ...rest } = options;
  assertAllClose(await new UnfoldNd(options).forward(x), await unfoldNd(x, kernelSize, rest));
});

/** Passes a value TypeScript would refuse. */
function untyped<T>(value: unknown): T {
  return value as T;
}

/** Calls that must throw or reject: error class and message. */
const ERROR_CASES: {
  label: string;
  call: () => unknown;
  names: string[];
  message: RegExp[];
}[] = [
  {
    label: "ConvNd rejects an unknown paddingMode",
    call: () =>
      new ConvNd({
        inChannels: 2,
        outChannels: 2,
        kernelSize: [3],
        paddingMode: untyped<PaddingMode>("mirror"),
      }),
    names: ["TypeError", "RangeError"],
    message: [/paddingMode/, /mirror/],
  },
  {
    label: "ConvNd rejects groups not dividing inChannels",
    call: () => new ConvNd({ inChannels: 4, outChannels: 6, kernelSize: [3], groups: 3 }),
    names: ["RangeError"],
    message: [/groups=3/, /inChannels=4/],
  },
  {
    label: "ConvNd rejects groups not dividing outChannels",
    call: () => new ConvNd({ inChannels: 6, outChannels: 4, kernelSize: [3], groups: 3 }),
    names: ["RangeError"],
    message: [/groups=3/, /outChannels=4/],
  },
  {
    label: 'ConvNd rejects padding "same" with stride 2',
    call: () =>
      new ConvNd({ inChannels: 2, outChannels: 2, kernelSize: [3], padding: "same", stride: 2 }),
    names: ["RangeError"],
    message: [/same/, /stride/],
  },
  {
    label: "ConvNd.forward() rejects x of the wrong rank",
    call: () =>
      new ConvNd({ inChannels: 3, outChannels: 2, kernelSize: [3, 3] }).forward(
        zeros([2, 3, 5], "float32"),
      ),
    names: ["RangeError"],
    message: [/\bx\b/, /2,\s*3,\s*5/],
  },
  {
    label: "convNd() rejects a bias of the wrong length",
    call: () => convNd(zeros([1, 2, 5]), zeros([4, 2, 3]), zeros([3])),
    names: ["RangeError"],
    message: [/bias/, /\[3\]/],
  },
  {
    label: "convNd() rejects groups not dividing the input channels",
    call: () => convNd(zeros([1, 4, 5]), zeros([6, 1, 3]), null, { groups: 3 }),
    names: ["RangeError"],
    message: [/groups=3/],
  },
  {
    label: 'convNd() rejects padding "same" with stride 2',
    call: () => convNd(zeros([1, 2, 5]), zeros([2, 2, 3]), null, { padding: "same", stride: 2 }),
    names: ["RangeError"],
    message: [/same/, /stride/],
  },
  {
    label: "convNd() rejects x of rank 2",
    call: () => convNd(zeros([2, 5]), zeros([2, 2, 3])),
    names: ["RangeError"],
    message: [/\bx\b/, /2,\s*5/],
  },
];

for (const c of ERROR_CASES) {
  Deno.test(`${c.label}, naming the argument and value`, async () => {
    let error: unknown;
    try {
      await c.call();
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof Error, "no error thrown");
    assert.ok(c.names.includes(error.name), `${error.name}: ${error.message}`);
    for (const pattern of c.message) assert.match(error.message, pattern);
  });
}
