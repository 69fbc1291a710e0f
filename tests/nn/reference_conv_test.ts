// The direct-loop reference of tests/_reference_conv.ts against every fixture family, so
// that the random tests compare the functionals with something known to be right.
import assert from "node:assert/strict";
import { assertAllClose, type NdArray } from "@einconv/runtime";
import { fromFixture, loadCases } from "../_fixtures.ts";
import { mulberry32, randomView } from "../_random.ts";
import {
  referenceConv,
  referenceConvInputVjp,
  referenceConvModuleBackward,
  referenceConvModuleForward,
  referenceConvTranspose,
  referenceConvWeightVjp,
  referenceKfacReduce,
  referenceKfc,
  referencePad,
  referencePadVjp,
  referenceTransposeKfacReduce,
  referenceUnfold,
  referenceUnfoldTranspose,
} from "../_reference_conv.ts";
import {
  checkEvery,
  convOptions,
  type ConvTransposeCase,
  type ForwardCase,
  type InputVjpCase,
  type KfcCase,
  type ModuleCase,
  type TransposeKfacReduceCase,
  transposeOptions,
  type TransposeUnfoldCase,
  type UnfoldCase,
  unfoldOptions,
  type WeightVjpCase,
} from "./_fixture_cases.ts";
import { inner } from "./_tensor_math.ts";

const RTOL = 1e-10;

/** Float64 tensor of a fixture. */
const f64 = (t: Parameters<typeof fromFixture>[0]): NdArray => fromFixture(t, "float64");

const byId = (c: { id: string }) => c.id;

Deno.test("referenceConv() matches conv_forward.json", async () => {
  await checkEvery(loadCases<ForwardCase>("conv_forward"), byId, (c) => {
    const out = referenceConv(f64(c.x), f64(c.weight), f64(c.bias), convOptions(c));
    assertAllClose(out, c.expected, { rtol: RTOL });
  });
});

Deno.test("referenceConvInputVjp() matches conv_input_vjp.json", async () => {
  await checkEvery(loadCases<InputVjpCase>("conv_input_vjp"), byId, (c) => {
    const out = referenceConvInputVjp(f64(c.weight), f64(c.v), c.input_size, convOptions(c));
    assertAllClose(out, c.expected, { rtol: RTOL });
  });
});

Deno.test("referenceConvWeightVjp() matches conv_weight_vjp.json", async () => {
  await checkEvery(loadCases<WeightVjpCase>("conv_weight_vjp"), byId, (c) => {
    const out = referenceConvWeightVjp(f64(c.x), f64(c.v), c.kernel_size, convOptions(c));
    assertAllClose(out, c.expected, { rtol: RTOL });
  });
});

Deno.test("referenceUnfold() matches unfold.json", async () => {
  await checkEvery(loadCases<UnfoldCase>("unfold"), byId, (c) => {
    assertAllClose(referenceUnfold(f64(c.x), c.kernel_size, unfoldOptions(c)), c.expected, {
      rtol: RTOL,
    });
  });
});

Deno.test("referenceKfc() matches kfc.json", async () => {
  await checkEvery(loadCases<KfcCase>("kfc"), byId, (c) => {
    assertAllClose(referenceKfc(f64(c.x), c.kernel_size, convOptions(c)), c.expected, {
      rtol: RTOL,
    });
  });
});

Deno.test("referenceKfacReduce() matches kfac_reduce.json", async () => {
  await checkEvery(loadCases<KfcCase>("kfac_reduce"), byId, (c) => {
    assertAllClose(referenceKfacReduce(f64(c.x), c.kernel_size, convOptions(c)), c.expected, {
      rtol: RTOL,
    });
  });
});

Deno.test("referenceUnfoldTranspose() matches unfold_transpose.json", async () => {
  await checkEvery(loadCases<TransposeUnfoldCase>("unfold_transpose"), byId, (c) => {
    const out = referenceUnfoldTranspose(f64(c.x), c.kernel_size, transposeOptions(c));
    assertAllClose(out, c.expected, { rtol: RTOL });
  });
});

Deno.test("referenceTransposeKfacReduce() matches transpose_kfac_reduce.json", async () => {
  await checkEvery(loadCases<TransposeKfacReduceCase>("transpose_kfac_reduce"), byId, (c) => {
    const out = referenceTransposeKfacReduce(f64(c.x), c.kernel_size, {
      ...transposeOptions(c),
      groups: c.groups,
    });
    assertAllClose(out, c.expected, { rtol: RTOL });
  });
});

Deno.test("referenceConvTranspose() matches conv_transpose.json", async () => {
  await checkEvery(loadCases<ConvTransposeCase>("conv_transpose"), byId, (c) => {
    const out = referenceConvTranspose(f64(c.x), f64(c.weight), f64(c.bias), {
      ...transposeOptions(c),
      groups: c.groups,
    });
    assertAllClose(out, c.expected, { rtol: RTOL });
  });
});

Deno.test("referenceConvModuleForward() and Backward() match conv_module.json", async () => {
  const cases = loadCases<ModuleCase>("conv_module");
  assert.deepEqual(
    new Set(cases.map((c) => c.padding_mode)),
    new Set(["zeros", "reflect", "replicate", "circular"]),
  );
  await checkEvery(cases, (c) => `${c.id} (${c.padding_mode})`, (c) => {
    const options = { ...convOptions(c), paddingMode: c.padding_mode };
    const x = f64(c.x);
    const weight = f64(c.weight);
    assertAllClose(referenceConvModuleForward(x, weight, f64(c.bias), options), c.expected, {
      rtol: RTOL,
      message: "forward",
    });
    const grads = referenceConvModuleBackward(x, weight, f64(c.grad_output), options);
    assertAllClose(grads.input, c.grad_input, { rtol: RTOL, message: "input" });
    assertAllClose(grads.weight, c.grad_weight, { rtol: RTOL, message: "weight" });
    assertAllClose(grads.bias, c.grad_bias, { rtol: RTOL, message: "bias" });
  });
});

Deno.test("referenceConv() reads strided views like contiguous tensors", () => {
  const rng = mulberry32(11);
  for (const c of loadCases<ForwardCase>("conv_forward").slice(0, 12)) {
    const out = referenceConv(
      randomView(rng, f64(c.x)),
      randomView(rng, f64(c.weight)),
      randomView(rng, f64(c.bias)),
      convOptions(c),
    );
    assertAllClose(out, c.expected, { rtol: RTOL, message: c.id });
  }
});

Deno.test("referencePadVjp() is the adjoint of referencePad()", () => {
  const rng = mulberry32(5);
  const x = f64({ shape: [2, 1, 4, 3], data: Array.from({ length: 24 }, () => rng() - 0.5) });
  const paddings = [[3, 1], [2, 2]] as const;
  for (const mode of ["zeros", "reflect", "replicate", "circular"] as const) {
    const padded = referencePad(x, paddings, mode);
    assert.deepEqual(padded.shape, [2, 1, 8, 7]);
    const g = f64({ shape: padded.shape, data: Array.from(padded.data, () => rng() - 0.5) });
    const back = referencePadVjp(g, [4, 3], paddings, mode);
    assert.ok(Math.abs(inner(padded, g) - inner(x, back)) < 1e-12, mode);
  }
});
