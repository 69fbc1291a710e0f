// ConvNd.forward/backward and UnfoldNd.forward writing into given outputs: the same
// numbers as new arrays, any strides, every padding mode, and bad outputs rejected before
// anything is written.
import assert from "node:assert/strict";
import { type NdArray, zeros } from "@einconv/runtime";
import { ConvNd, UnfoldNd } from "@einconv/nn";
import { mulberry32, randomTensor } from "../_random.ts";

/** A zeroed view with reversed last dimension and transposed first two: not row-major. */
function stridedZeros(shape: readonly number[]): NdArray {
  const [a, b, ...rest] = shape;
  return zeros([b, a, ...rest], "float64").transpose(1, 0).step(
    ...shape.map((_, d) => d === shape.length - 1 ? -1 : 1),
  );
}

/** The entries of a view in row-major order. */
function entries(x: NdArray): number[] {
  const out: number[] = [];
  const walk = (index: number[]) => {
    if (index.length === x.shape.length) out.push(x.get(...index));
    else for (let i = 0; i < x.shape[index.length]; i++) walk([...index, i]);
  };
  walk([]);
  return out;
}

for (const paddingMode of ["zeros", "reflect"] as const) {
  Deno.test(`ConvNd writes forward and backward into given outputs (paddingMode ${paddingMode})`, async () => {
    const rng = mulberry32(3);
    const conv = new ConvNd({
      inChannels: 4,
      outChannels: 6,
      kernelSize: [3, 2],
      padding: 1,
      stride: [2, 1],
      groups: 2,
      paddingMode,
      dtype: "float64",
      seed: 1,
    });
    const x = randomTensor(rng, [2, 4, 7, 5], "float64");
    const y = await conv.forward(x);
    const out = stridedZeros(y.shape);
    assert.equal(await conv.forward(x, { out }), out);
    assert.deepEqual(entries(out), entries(y));

    const dy = randomTensor(rng, y.shape, "float64");
    const fresh = await conv.backward(x, dy);
    const outputs = {
      input: stridedZeros(x.shape),
      weight: stridedZeros(conv.weight.shape),
      bias: zeros([6], "float32"),
    };
    const written = await conv.backward(x, dy, outputs);
    assert.equal(written.input, outputs.input);
    assert.equal(written.weight, outputs.weight);
    assert.equal(written.bias, outputs.bias);
    assert.deepEqual(entries(outputs.input), entries(fresh.input));
    assert.deepEqual(entries(outputs.weight), entries(fresh.weight));
    assert.deepEqual(entries(outputs.bias), entries(fresh.bias!).map(Math.fround));
    // Only some outputs given: the others are new arrays.
    const some = await conv.backward(x, dy, { weight: outputs.weight });
    assert.equal(some.weight, outputs.weight);
    assert.deepEqual(entries(some.input), entries(fresh.input));
  });
}

Deno.test("ConvNd rejects bad outputs before writing any", async () => {
  const conv = new ConvNd({ inChannels: 2, outChannels: 3, kernelSize: 3, padding: 1, seed: 0 });
  const x = randomTensor(mulberry32(8), [1, 2, 5, 5], "float32");
  const dy = randomTensor(mulberry32(9), [1, 3, 5, 5], "float32");
  await assert.rejects(conv.forward(x, { output: zeros([1, 3, 5, 5]) } as never), {
    name: "TypeError",
    message: 'Cannot read options: unknown option "output" (expected out)',
  });
  const input = zeros([1, 2, 5, 5]);
  await assert.rejects(conv.backward(x, dy, { input, weight: zeros([3, 2, 3, 2]) }), {
    name: "RangeError",
    message: "Cannot read outputs.weight: expected shape [3,2,3,3], got [3,2,3,2]",
  });
  await assert.rejects(conv.backward(x, dy, { input, grad: zeros([3]) } as never), {
    name: "TypeError",
    message: 'Cannot read outputs: unknown option "grad" (expected input, weight, bias)',
  });
  await assert.rejects(conv.backward(x, dy, { input, weight: "w" } as never), {
    name: "TypeError",
    message: 'Cannot read outputs.weight: expected an ndarray, got "w"',
  });
  assert.ok(input.data.every((v) => v === 0));
  const plain = new ConvNd({
    inChannels: 2,
    outChannels: 3,
    kernelSize: 3,
    padding: 1,
    bias: false,
  });
  await assert.rejects(plain.backward(x, dy, { bias: zeros([3]) }), {
    name: "TypeError",
    message: "Cannot read outputs.bias: the layer has no bias",
  });
});

Deno.test("UnfoldNd writes into a given output", async () => {
  const unfold = new UnfoldNd({ kernelSize: [2, 3], padding: 1, stride: 2 });
  const x = randomTensor(mulberry32(4), [2, 3, 6, 5], "float64");
  const columns = await unfold.forward(x);
  const out = stridedZeros(columns.shape);
  assert.equal(await unfold.forward(x, { out }), out);
  assert.deepEqual(entries(out), entries(columns));
  await assert.rejects(unfold.forward(x, { into: out } as never), {
    name: "TypeError",
    message: 'Cannot read options: unknown option "into" (expected out)',
  });
});

Deno.test("ConvNd.backward rejects a gradOutput of the wrong shape before writing any output", async () => {
  const conv = new ConvNd({ inChannels: 2, outChannels: 3, kernelSize: 3, padding: 1, seed: 0 });
  const x = randomTensor(mulberry32(10), [2, 2, 5, 5], "float32");
  const bias = zeros([3]);
  await assert.rejects(conv.backward(x, zeros([3, 3, 5, 5], "float32"), { bias }), {
    name: "RangeError",
    message: "Cannot read gradOutput: expected the output's shape [2,3,5,5], got [3,3,5,5]",
  });
  assert.deepEqual(Array.from(bias.data), [0, 0, 0]);
});

Deno.test("ConvNd.backward into outputs that share memory with x or gradOutput", async () => {
  // C_in = C_out and 'same' padding: x, gradOutput and both gradients have one shape, so
  // a caller may reuse gradOutput's (or x's) memory for the input gradient.
  const conv = new ConvNd({ inChannels: 3, outChannels: 3, kernelSize: 3, padding: 1, seed: 2 });
  const rng = mulberry32(11);
  const x = randomTensor(rng, [2, 3, 6, 6], "float64");
  const dy = randomTensor(rng, [2, 3, 6, 6], "float64");
  const want = await conv.backward(x, dy);
  for (const shared of ["gradOutput", "x"] as const) {
    const [xCopy, dyCopy] = [x, dy].map((t) => randomTensor(rng, t.shape, "float64"));
    xCopy.data.set(x.data);
    dyCopy.data.set(dy.data);
    const input = shared === "x" ? xCopy : dyCopy;
    const weight = zeros([3, 3, 3, 3]);
    const got = await conv.backward(xCopy, dyCopy, { input, weight });
    assert.equal(got.input, input);
    assert.deepEqual(Array.from(got.input.data), Array.from(want.input.data), shared);
    assert.deepEqual(Array.from(weight.data), Array.from(want.weight.data), shared);
    assert.deepEqual(Array.from(got.bias!.data), Array.from(want.bias!.data), shared);
  }
});
