// Every fixture family through the functionals, and conv_module.json through ConvNd with
// every padding mode, in float64 (rtol 1e-10) and float32 (rtol 1e-4).
import assert from "node:assert/strict";
import { assertAllClose, type DType, dtypeOf, type NdArray } from "@einconv/runtime";
import {
  ConvNd,
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
import { type FixtureTensor, fromFixture, loadCases } from "../_fixtures.ts";
import {
  type BaseCase,
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

const TOLERANCES = [["float64", 1e-10], ["float32", 1e-4]] as const;

/** One fixture file and the functional call that must reproduce its `expected`. */
interface Family<C extends BaseCase & { expected: FixtureTensor }> {
  functional: string;
  file: string;
  run(c: C, dtype: DType): Promise<NdArray>;
}

/** Registers one test per dtype that runs every case of the family. */
function fixtureTests<C extends BaseCase & { expected: FixtureTensor }>(family: Family<C>): void {
  const cases = loadCases<C>(family.file);
  for (const [dtype, rtol] of TOLERANCES) {
    Deno.test(`${family.functional}() matches ${family.file}.json in ${dtype}`, async () => {
      await checkEvery(cases, (c) => `${c.id} (${dtype})`, async (c) => {
        const out = await family.run(c, dtype);
        assert.equal(dtypeOf(out), dtype, "dtype");
        assertAllClose(out, c.expected, { rtol });
      });
    });
  }
}

fixtureTests<ForwardCase>({
  functional: "convNd",
  file: "conv_forward",
  run: (c, dtype) =>
    convNd(
      fromFixture(c.x, dtype),
      fromFixture(c.weight, dtype),
      fromFixture(c.bias, dtype),
      convOptions(c),
    ),
});

fixtureTests<InputVjpCase>({
  functional: "convNdInputVjp",
  file: "conv_input_vjp",
  run: (c, dtype) =>
    convNdInputVjp(
      fromFixture(c.weight, dtype),
      fromFixture(c.v, dtype),
      c.input_size,
      convOptions(c),
    ),
});

fixtureTests<WeightVjpCase>({
  functional: "convNdWeightVjp",
  file: "conv_weight_vjp",
  run: (c, dtype) =>
    convNdWeightVjp(
      fromFixture(c.x, dtype),
      fromFixture(c.v, dtype),
      c.kernel_size,
      convOptions(c),
    ),
});

fixtureTests<UnfoldCase>({
  functional: "unfoldNd",
  file: "unfold",
  run: (c, dtype) => unfoldNd(fromFixture(c.x, dtype), c.kernel_size, unfoldOptions(c)),
});

fixtureTests<KfcCase>({
  functional: "kfc",
  file: "kfc",
  run: (c, dtype) => kfc(fromFixture(c.x, dtype), c.kernel_size, convOptions(c)),
});

fixtureTests<KfcCase>({
  functional: "kfacReduce",
  file: "kfac_reduce",
  run: (c, dtype) => kfacReduce(fromFixture(c.x, dtype), c.kernel_size, convOptions(c)),
});

fixtureTests<TransposeUnfoldCase>({
  functional: "unfoldTransposeNd",
  file: "unfold_transpose",
  run: (c, dtype) => unfoldTransposeNd(fromFixture(c.x, dtype), c.kernel_size, transposeOptions(c)),
});

fixtureTests<TransposeKfacReduceCase>({
  functional: "transposeKfacReduce",
  file: "transpose_kfac_reduce",
  run: (c, dtype) =>
    transposeKfacReduce(fromFixture(c.x, dtype), c.kernel_size, {
      ...transposeOptions(c),
      groups: c.groups,
    }),
});

fixtureTests<ConvTransposeCase>({
  functional: "convTransposeNd",
  file: "conv_transpose",
  run: (c, dtype) =>
    convTransposeNd(
      fromFixture(c.x, dtype),
      fromFixture(c.weight, dtype),
      fromFixture(c.bias, dtype),
      {
        ...transposeOptions(c),
        groups: c.groups,
      },
    ),
});

const moduleCases = loadCases<ModuleCase>("conv_module");

for (const [dtype, rtol] of TOLERANCES) {
  Deno.test(`ConvNd matches conv_module.json with every paddingMode in ${dtype}`, async () => {
    assert.deepEqual(
      new Set(moduleCases.map((c) => c.padding_mode)),
      new Set(["zeros", "reflect", "replicate", "circular"]),
    );
    await checkEvery(moduleCases, (c) => `${c.id} (${c.padding_mode}, ${dtype})`, async (c) => {
      const module = new ConvNd({
        inChannels: c.in_channels,
        outChannels: c.out_channels,
        kernelSize: c.kernel_size,
        stride: c.stride,
        padding: c.padding,
        dilation: c.dilation,
        groups: c.groups,
        paddingMode: c.padding_mode,
        dtype,
      });
      module.weight = fromFixture(c.weight, dtype);
      module.bias = fromFixture(c.bias, dtype);
      const x = fromFixture(c.x, dtype);
      const out = await module.forward(x);
      assert.equal(dtypeOf(out), dtype, "forward dtype");
      assertAllClose(out, c.expected, { rtol, message: "forward" });
      const grads = await module.backward(x, fromFixture(c.grad_output, dtype));
      assert.ok(grads.bias !== null, "backward bias is null");
      for (const [name, grad] of [["input", grads.input], ["weight", grads.weight]] as const) {
        assert.equal(dtypeOf(grad), dtype, `${name} dtype`);
      }
      assertAllClose(grads.input, c.grad_input, { rtol, message: "grad input" });
      assertAllClose(grads.weight, c.grad_weight, { rtol, message: "grad weight" });
      assertAllClose(grads.bias, c.grad_bias, { rtol, message: "grad bias" });
    });
  });
}
