// Every functional against the direct-loop reference on seeded random shapes and
// hyperparameters for N = 1..5 (groups, string paddings, output paddings up to
// max(stride, dilation) − 1), with strided-view inputs about half of the time.
import assert from "node:assert/strict";
import { assertAllClose, dtypeOf, type NdArray } from "@einconv/runtime";
import {
  convNd,
  convNdInputVjp,
  convNdWeightVjp,
  convTransposeNd,
  kfacReduce,
  kfc,
  transposeKfacReduce,
  unfoldNd,
  unfoldTransposeNd,
} from "@einconv/nn";
import { mulberry32, randomTensor, randomView } from "../_random.ts";
import {
  referenceConv,
  referenceConvInputVjp,
  referenceConvTranspose,
  referenceConvWeightVjp,
  referenceKfacReduce,
  referenceKfc,
  referenceTransposeKfacReduce,
  referenceUnfold,
  referenceUnfoldTranspose,
} from "../_reference_conv.ts";
import { checkEvery } from "./_fixture_cases.ts";
import {
  describeProblem,
  groupedOptions,
  randomConvProblem,
  randomTransposeProblem,
} from "./_random_conv.ts";
import { values } from "./_tensor_math.ts";

/** Random problems per functional and number of spatial dimensions. */
const CASES_PER_N = 8;
const DIMENSIONS = [1, 2, 3, 4, 5];

/** One random comparison: the functional's result, the reference's, and the inputs. */
interface Trial {
  label: string;
  inputs: NdArray[];
  actual: () => Promise<NdArray>;
  expected: NdArray;
}

/** Random inputs of the given shapes, as strided views when `view` is set. */
function inputs(rng: () => number, view: boolean, ...shapes: number[][]): NdArray[] {
  return shapes.map((shape) => {
    const t = randomTensor(rng, shape, "float64");
    return view ? randomView(rng, t) : t;
  });
}

/** Registers a test that runs `CASES_PER_N` trials for every N. */
function randomTest(
  functional: string,
  seed: number,
  trial: (rng: () => number, n: number, view: boolean) => Trial,
) {
  Deno.test(`${functional}() matches the direct-loop reference on random hyperparameters`, async () => {
    const rng = mulberry32(seed);
    const trials: Trial[] = [];
    for (const n of DIMENSIONS) {
      for (let i = 0; i < CASES_PER_N; i++) trials.push(trial(rng, n, rng() < 0.5));
    }
    await checkEvery(trials, (t) => t.label, async (t) => {
      const before = t.inputs.map(values);
      const out = await t.actual();
      assert.equal(dtypeOf(out), "float64", "dtype");
      assertAllClose(out, t.expected, { rtol: 1e-10 });
      t.inputs.forEach((x, k) => assert.deepEqual(values(x), before[k], `input ${k} changed`));
    });
  });
}

const label = (p: object, view: boolean) =>
  `${describeProblem(p as never)}${view ? " (views)" : ""}`;

randomTest("convNd", 101, (rng, n, view) => {
  const p = randomConvProblem(rng, n);
  const withBias = rng() < 0.7;
  const [x, weight, bias] = inputs(
    rng,
    view,
    [p.batch, p.inChannels, ...p.inputSize],
    [p.outChannels, p.inChannels / p.groups, ...p.kernelSize],
    [p.outChannels],
  );
  const b = withBias ? bias : null;
  return {
    label: `${label(p, view)} bias ${withBias}`,
    inputs: [x, weight, bias],
    actual: () => convNd(x, weight, b, groupedOptions(p)),
    expected: referenceConv(x, weight, b, groupedOptions(p)),
  };
});

randomTest("convNdInputVjp", 102, (rng, n, view) => {
  const p = randomConvProblem(rng, n);
  const [weight, v] = inputs(
    rng,
    view,
    [p.outChannels, p.inChannels / p.groups, ...p.kernelSize],
    [p.batch, p.outChannels, ...p.outputSize],
  );
  return {
    label: label(p, view),
    inputs: [weight, v],
    actual: () => convNdInputVjp(weight, v, p.inputSize, groupedOptions(p)),
    expected: referenceConvInputVjp(weight, v, p.inputSize, groupedOptions(p)),
  };
});

randomTest("convNdWeightVjp", 103, (rng, n, view) => {
  const p = randomConvProblem(rng, n);
  const [x, v] = inputs(
    rng,
    view,
    [p.batch, p.inChannels, ...p.inputSize],
    [p.batch, p.outChannels, ...p.outputSize],
  );
  return {
    label: label(p, view),
    inputs: [x, v],
    actual: () => convNdWeightVjp(x, v, p.kernelSize, groupedOptions(p)),
    expected: referenceConvWeightVjp(x, v, p.kernelSize, groupedOptions(p)),
  };
});

randomTest("unfoldNd", 104, (rng, n, view) => {
  const p = randomConvProblem(rng, n, { groups: false });
  const [x] = inputs(rng, view, [p.batch, p.inChannels, ...p.inputSize]);
  const options = { stride: p.stride, padding: p.padding, dilation: p.dilation };
  return {
    label: label(p, view),
    inputs: [x],
    actual: () => unfoldNd(x, p.kernelSize, options),
    expected: referenceUnfold(x, p.kernelSize, options),
  };
});

randomTest("kfc", 105, (rng, n, view) => {
  const p = randomConvProblem(rng, n);
  const [x] = inputs(rng, view, [p.batch, p.inChannels, ...p.inputSize]);
  return {
    label: label(p, view),
    inputs: [x],
    actual: () => kfc(x, p.kernelSize, groupedOptions(p)),
    expected: referenceKfc(x, p.kernelSize, groupedOptions(p)),
  };
});

randomTest("kfacReduce", 106, (rng, n, view) => {
  const p = randomConvProblem(rng, n);
  const [x] = inputs(rng, view, [p.batch, p.inChannels, ...p.inputSize]);
  return {
    label: label(p, view),
    inputs: [x],
    actual: () => kfacReduce(x, p.kernelSize, groupedOptions(p)),
    expected: referenceKfacReduce(x, p.kernelSize, groupedOptions(p)),
  };
});

randomTest("unfoldTransposeNd", 107, (rng, n, view) => {
  const p = randomTransposeProblem(rng, n, { groups: false });
  const [x] = inputs(rng, view, [p.batch, p.inChannels, ...p.inputSize]);
  const options = {
    stride: p.stride,
    padding: p.padding,
    outputPadding: p.outputPadding,
    dilation: p.dilation,
  };
  return {
    label: label(p, view),
    inputs: [x],
    actual: () => unfoldTransposeNd(x, p.kernelSize, options),
    expected: referenceUnfoldTranspose(x, p.kernelSize, options),
  };
});

randomTest("transposeKfacReduce", 108, (rng, n, view) => {
  const p = randomTransposeProblem(rng, n);
  const [x] = inputs(rng, view, [p.batch, p.inChannels, ...p.inputSize]);
  // the output size replaces the output padding about half of the time
  const bySize = rng() < 0.5;
  const common = { stride: p.stride, padding: p.padding, dilation: p.dilation, groups: p.groups };
  const options = bySize
    ? { ...common, outputSize: p.outputSize }
    : { ...common, outputPadding: p.outputPadding };
  return {
    label: `${label(p, view)} ${bySize ? "outputSize" : "outputPadding"}`,
    inputs: [x],
    actual: () => transposeKfacReduce(x, p.kernelSize, options),
    expected: referenceTransposeKfacReduce(x, p.kernelSize, options),
  };
});

randomTest("convTransposeNd", 109, (rng, n, view) => {
  const p = randomTransposeProblem(rng, n);
  const withBias = rng() < 0.7;
  const [x, weight, bias] = inputs(
    rng,
    view,
    [p.batch, p.inChannels, ...p.inputSize],
    [p.inChannels, p.outChannels / p.groups, ...p.kernelSize],
    [p.outChannels],
  );
  const b = withBias ? bias : undefined;
  const options = {
    stride: p.stride,
    padding: p.padding,
    outputPadding: p.outputPadding,
    dilation: p.dilation,
    groups: p.groups,
  };
  return {
    label: `${label(p, view)} bias ${withBias}`,
    inputs: [x, weight, bias],
    actual: () => convTransposeNd(x, weight, b, options),
    expected: referenceConvTranspose(x, weight, b, options),
  };
});
