// Bad input to the expression builders: the error class, a message naming the argument
// and the value, and inputs left unchanged.
import assert from "node:assert/strict";
import type { NdArray } from "@einconv/runtime";
import {
  convForward,
  convInputVjp,
  convKfacReduce,
  convKfc,
  convTransposeKfacReduce,
  convTransposeUnfold,
  convUnfold,
  convWeightVjp,
} from "@einconv/expressions";
import { mulberry32, randomTensor } from "../_random.ts";

/** A call that must throw. */
interface ErrorCase {
  /** The builder and what is wrong, for the test name. */
  label: string;
  /** The tensors passed to `call`; they must not change. */
  inputs: number[][];
  call(...inputs: NdArray[]): unknown;
  name: "TypeError" | "RangeError";
  /** Every one must match the message. */
  message: RegExp[];
}

/** Keeps a value's type out of the compiler's way, to pass what TypeScript would refuse. */
function untyped<T>(value: unknown): T {
  return value as T;
}

const X1 = [2, 3, 8];
const W1 = [4, 3, 3];
const X2 = [2, 3, 7, 6];
const W2 = [4, 3, 3, 3];

const ERROR_CASES: ErrorCase[] = [
  {
    label: "convForward() rejects a misspelt option instead of ignoring it",
    inputs: [X2, W2],
    call: (x, w) => convForward(x, w, untyped({ strides: 2 })),
    name: "TypeError",
    message: [/unknown option "strides"/, /expected stride, padding, dilation, groups/],
  },
  {
    label: "convUnfold() rejects outputPadding, which only transpose builders take",
    inputs: [X2],
    call: (x) => convUnfold(x, 3, untyped({ outputPadding: 1 })),
    name: "TypeError",
    message: [/unknown option "outputPadding"/],
  },
  {
    label: "convTransposeUnfold() rejects outputSize, which only convTransposeKfacReduce takes",
    inputs: [X2],
    call: (x) => convTransposeUnfold(x, 3, untyped({ stride: 2, outputSize: 13 })),
    name: "TypeError",
    message: [/unknown option "outputSize"/, /outputPadding/],
  },
  // kernel size
  {
    label: "convUnfold() rejects a non-integer kernelSize",
    inputs: [X1],
    call: (x) => convUnfold(x, 2.5),
    name: "TypeError",
    message: [/kernelSize/, /2\.5/],
  },
  {
    label: "convUnfold() rejects kernelSize 0",
    inputs: [X1],
    call: (x) => convUnfold(x, 0),
    name: "RangeError",
    message: [/kernelSize/, /0/],
  },
  {
    label: "convKfc() rejects a negative kernelSize entry",
    inputs: [X2],
    call: (x) => convKfc(x, [3, -1]),
    name: "RangeError",
    message: [/kernelSize/, /-1/],
  },
  {
    label: "convWeightVjp() rejects a string kernelSize",
    inputs: [X1, [2, 4, 6]],
    call: (x, v) => convWeightVjp(x, v, untyped<number>("3")),
    name: "TypeError",
    message: [/kernelSize/, /"3"/],
  },
  {
    label: "convTransposeUnfold() rejects kernelSize 0",
    inputs: [[1, 2, 4]],
    call: (x) => convTransposeUnfold(x, 0),
    name: "RangeError",
    message: [/kernelSize/, /0/],
  },
  // stride
  {
    label: "convForward() rejects a non-integer stride",
    inputs: [X1, W1],
    call: (x, w) => convForward(x, w, { stride: 1.5 }),
    name: "TypeError",
    message: [/stride/, /1\.5/],
  },
  {
    label: "convForward() rejects stride 0",
    inputs: [X1, W1],
    call: (x, w) => convForward(x, w, { stride: 0 }),
    name: "RangeError",
    message: [/stride/, /0/],
  },
  {
    label: "convWeightVjp() rejects a negative stride",
    inputs: [X1, [2, 4, 6]],
    call: (x, v) => convWeightVjp(x, v, 3, { stride: -2 }),
    name: "RangeError",
    message: [/stride/, /-2/],
  },
  {
    label: "convTransposeKfacReduce() rejects a stride entry 0",
    inputs: [[1, 2, 3, 3]],
    call: (x) => convTransposeKfacReduce(x, 2, { stride: [2, 0] }),
    name: "RangeError",
    message: [/stride/, /0/],
  },
  // dilation
  {
    label: "convKfacReduce() rejects a non-integer dilation",
    inputs: [X1],
    call: (x) => convKfacReduce(x, 3, { dilation: 1.5 }),
    name: "TypeError",
    message: [/dilation/, /1\.5/],
  },
  {
    label: "convInputVjp() rejects dilation 0",
    inputs: [W1, [2, 4, 6]],
    call: (w, v) => convInputVjp(w, v, 8, { dilation: 0 }),
    name: "RangeError",
    message: [/dilation/, /0/],
  },
  // groups
  {
    label: "convForward() rejects groups 0",
    inputs: [X1, W1],
    call: (x, w) => convForward(x, w, { groups: 0 }),
    name: "RangeError",
    message: [/groups/, /0/],
  },
  {
    label: "convKfc() rejects a non-integer groups",
    inputs: [X1],
    call: (x) => convKfc(x, 3, { groups: 1.5 }),
    name: "TypeError",
    message: [/groups/, /1\.5/],
  },
  {
    label: "convWeightVjp() rejects negative groups",
    inputs: [X1, [2, 4, 6]],
    call: (x, v) => convWeightVjp(x, v, 3, { groups: -1 }),
    name: "RangeError",
    message: [/groups/, /-1/],
  },
  // padding
  {
    label: "convForward() rejects a negative padding",
    inputs: [X1, W1],
    call: (x, w) => convForward(x, w, { padding: -1 }),
    name: "RangeError",
    message: [/padding/, /-1/],
  },
  {
    label: "convUnfold() rejects a negative padding entry",
    inputs: [X2],
    call: (x) => convUnfold(x, 3, { padding: [1, -1] }),
    name: "RangeError",
    message: [/padding/, /-1/],
  },
  {
    label: "convTransposeUnfold() rejects a negative padding",
    inputs: [[1, 2, 4]],
    call: (x) => convTransposeUnfold(x, 3, { padding: -1 }),
    name: "RangeError",
    message: [/padding/, /-1/],
  },
  {
    label: "convKfc() rejects an unknown padding string",
    inputs: [X1],
    call: (x) => convKfc(x, 3, { padding: untyped<"same">("full") }),
    name: "TypeError",
    message: [/padding/, /full/],
  },
  {
    label: "convForward() rejects a non-integer padding",
    inputs: [X1, W1],
    call: (x, w) => convForward(x, w, { padding: 0.5 }),
    name: "TypeError",
    message: [/padding/, /0\.5/],
  },
  {
    label: 'convForward() rejects padding "same" with stride 2',
    inputs: [X1, W1],
    call: (x, w) => convForward(x, w, { padding: "same", stride: 2 }),
    name: "RangeError",
    message: [/same/, /stride/, /2/],
  },
  {
    label: 'convWeightVjp() rejects padding "same" with a stride entry 2',
    inputs: [X2, [2, 4, 7, 3]],
    call: (x, v) => convWeightVjp(x, v, 3, { padding: "same", stride: [1, 2] }),
    name: "RangeError",
    message: [/same/, /stride/, /2/],
  },
  // groups not dividing the channels: the message gives the channel count
  {
    label: "convKfc() rejects groups that do not divide the input channels",
    inputs: [[2, 4, 8]],
    call: (x) => convKfc(x, 3, { groups: 3 }),
    name: "RangeError",
    message: [/groups/, /3/, /4/],
  },
  {
    label: "convForward() rejects groups that do not divide the input channels",
    inputs: [[2, 4, 8], [6, 1, 3]],
    call: (x, w) => convForward(x, w, { groups: 3 }),
    name: "RangeError",
    message: [/groups/, /3/, /4/],
  },
  {
    label: "convWeightVjp() rejects groups that do not divide the input channels",
    inputs: [[2, 4, 8], [2, 6, 6]],
    call: (x, v) => convWeightVjp(x, v, 3, { groups: 3 }),
    name: "RangeError",
    message: [/groups/, /3/, /4/],
  },
  {
    label: "convTransposeKfacReduce() rejects groups that do not divide the channels",
    inputs: [[1, 4, 6]],
    call: (x) => convTransposeKfacReduce(x, 2, { stride: 2, groups: 3 }),
    name: "RangeError",
    message: [/groups/, /3/, /4/],
  },
  {
    label: "convForward() rejects groups that do not divide the output channels",
    inputs: [[2, 6, 8], [5, 2, 3]],
    call: (x, w) => convForward(x, w, { groups: 3 }),
    name: "RangeError",
    message: [/groups/, /3/, /5/],
  },
  {
    label: "convWeightVjp() rejects groups that do not divide the output channels",
    inputs: [[2, 6, 8], [2, 5, 6]],
    call: (x, v) => convWeightVjp(x, v, 3, { groups: 3 }),
    name: "RangeError",
    message: [/groups/, /3/, /5/],
  },
  {
    label: "convInputVjp() rejects groups that do not divide the output channels",
    inputs: [[5, 2, 3], [2, 5, 6]],
    call: (w, v) => convInputVjp(w, v, 8, { groups: 3 }),
    name: "RangeError",
    message: [/groups/, /3/, /5/],
  },
  // channel mismatch
  {
    label: "convForward() rejects a weight whose input channels differ from x's",
    inputs: [X1, [4, 2, 3]],
    call: (x, w) => convForward(x, w),
    name: "RangeError",
    message: [/weight/, /\b2\b/, /\b3\b/],
  },
  {
    label: "convForward() rejects a weight whose input channels times groups differ from x's",
    inputs: [[2, 4, 8], [4, 1, 3]],
    call: (x, w) => convForward(x, w, { groups: 2 }),
    name: "RangeError",
    message: [/weight/, /\b1\b/],
  },
  {
    label: "convInputVjp() rejects v with channels other than the weight's outputs",
    inputs: [W1, [2, 5, 6]],
    call: (w, v) => convInputVjp(w, v, 8),
    name: "RangeError",
    message: [/\bv\b/, /5/],
  },
  // tuple lengths
  {
    label: "convForward() rejects a stride tuple of the wrong length",
    inputs: [X1, W1],
    call: (x, w) => convForward(x, w, { stride: [1, 1] }),
    name: "RangeError",
    message: [/stride/, /\[1, ?1\]/],
  },
  {
    label: "convUnfold() rejects a kernelSize tuple of the wrong length",
    inputs: [X2],
    call: (x) => convUnfold(x, [3, 3, 3]),
    name: "RangeError",
    message: [/kernelSize/, /\[3, ?3, ?3\]/],
  },
  {
    label: "convKfacReduce() rejects a padding tuple of the wrong length",
    inputs: [X2],
    call: (x) => convKfacReduce(x, 3, { padding: [1] }),
    name: "RangeError",
    message: [/padding/, /\[1\]/],
  },
  {
    label: "convWeightVjp() rejects a dilation tuple of the wrong length",
    inputs: [X2, [2, 4, 5, 4]],
    call: (x, v) => convWeightVjp(x, v, 3, { dilation: [1, 1, 1] }),
    name: "RangeError",
    message: [/dilation/, /\[1, ?1, ?1\]/],
  },
  {
    label: "convInputVjp() rejects an inputSize tuple of the wrong length",
    inputs: [W1, [2, 4, 6]],
    call: (w, v) => convInputVjp(w, v, [8, 8]),
    name: "RangeError",
    message: [/inputSize/, /\[8, ?8\]/],
  },
  {
    label: "convTransposeUnfold() rejects an outputPadding tuple of the wrong length",
    inputs: [[1, 2, 4]],
    call: (x) => convTransposeUnfold(x, 3, { stride: 2, outputPadding: [0, 0] }),
    name: "RangeError",
    message: [/outputPadding/, /\[0, ?0\]/],
  },
  {
    label: "convTransposeKfacReduce() rejects an outputSize tuple of the wrong length",
    inputs: [[1, 2, 4]],
    call: (x) => convTransposeKfacReduce(x, 3, { stride: 2, outputSize: [9, 9] }),
    name: "RangeError",
    message: [/outputSize/, /\[9, ?9\]/],
  },
  // input smaller than the dilated kernel after padding
  {
    label: "convForward() rejects an input smaller than the dilated kernel",
    inputs: [[1, 1, 4], [1, 1, 3]],
    call: (x, w) => convForward(x, w, { dilation: 2 }),
    name: "RangeError",
    message: [/\b4\b/],
  },
  {
    label: "convUnfold() rejects an input smaller than the kernel",
    inputs: [[1, 1, 2, 5]],
    call: (x) => convUnfold(x, 3),
    name: "RangeError",
    message: [/\b2\b/],
  },
  {
    label: "convWeightVjp() rejects a kernelSize larger than the input",
    inputs: [[1, 1, 4], [1, 1, 1]],
    call: (x, v) => convWeightVjp(x, v, 5),
    name: "RangeError",
    message: [/\b4\b/],
  },
  {
    label: "convKfc() rejects an input smaller than the dilated kernel after padding",
    inputs: [[1, 1, 3]],
    call: (x) => convKfc(x, 3, { dilation: 3, padding: 1 }),
    name: "RangeError",
    message: [/\b3\b/],
  },
  {
    label: "convInputVjp() rejects an inputSize smaller than the kernel",
    inputs: [W1, [2, 4, 1]],
    call: (w, v) => convInputVjp(w, v, 2),
    name: "RangeError",
    message: [/\b2\b/],
  },
  {
    label: "convInputVjp() rejects inputSize 0",
    inputs: [W1, [2, 4, 1]],
    call: (w, v) => convInputVjp(w, v, 0),
    name: "RangeError",
    message: [/inputSize/, /0/],
  },
  // output padding and output size of transpose convolutions
  {
    label: "convTransposeUnfold() rejects outputPadding equal to stride",
    inputs: [[1, 2, 4]],
    call: (x) => convTransposeUnfold(x, 3, { stride: 2, outputPadding: 2 }),
    name: "RangeError",
    message: [/outputPadding/, /2/],
  },
  {
    label: "convTransposeUnfold() rejects a negative outputPadding",
    inputs: [[1, 2, 4]],
    call: (x) => convTransposeUnfold(x, 3, { stride: 2, outputPadding: -1 }),
    name: "RangeError",
    message: [/outputPadding/, /-1/],
  },
  {
    label: "convTransposeUnfold() rejects a non-integer outputPadding",
    inputs: [[1, 2, 4]],
    call: (x) => convTransposeUnfold(x, 3, { stride: 2, outputPadding: 0.5 }),
    name: "TypeError",
    message: [/outputPadding/, /0\.5/],
  },
  {
    label: "convTransposeUnfold() rejects outputPadding equal to max(stride, dilation)",
    inputs: [[1, 2, 4]],
    call: (x) => convTransposeUnfold(x, 3, { dilation: 2, outputPadding: 2 }),
    name: "RangeError",
    message: [/outputPadding=2/, /max\(stride, dilation\)=2/],
  },
  {
    label: "convTransposeKfacReduce() rejects outputPadding above stride and dilation",
    inputs: [[1, 2, 4, 4]],
    call: (x) => convTransposeKfacReduce(x, 3, { stride: 2, outputPadding: [1, 3] }),
    name: "RangeError",
    message: [/outputPadding/, /3/],
  },
  {
    label: "convTransposeKfacReduce() rejects an outputSize too large",
    inputs: [[1, 2, 4]],
    call: (x) => convTransposeKfacReduce(x, 3, { stride: 2, outputSize: 11 }),
    name: "RangeError",
    message: [/outputSize/, /11/],
  },
  {
    label: "convTransposeKfacReduce() rejects an outputSize too small",
    inputs: [[1, 2, 4]],
    call: (x) => convTransposeKfacReduce(x, 3, { stride: 2, outputSize: 8 }),
    name: "RangeError",
    message: [/outputSize/, /8/],
  },
  // ranks
  {
    label: "convForward() rejects an x without spatial dimensions",
    inputs: [[2, 3], [4, 3]],
    call: (x, w) => convForward(x, w),
    name: "RangeError",
    message: [/\bx\b/],
  },
  {
    label: "convForward() rejects a weight of another rank than x",
    inputs: [X1, W2],
    call: (x, w) => convForward(x, w),
    name: "RangeError",
    message: [/weight/],
  },
  {
    label: "convUnfold() rejects an x of rank 2",
    inputs: [[3, 8]],
    call: (x) => convUnfold(x, 3),
    name: "RangeError",
    message: [/\bx\b/],
  },
  {
    label: "convTransposeUnfold() rejects an x of rank 1",
    inputs: [[4]],
    call: (x) => convTransposeUnfold(x, 2),
    name: "RangeError",
    message: [/\bx\b/],
  },
  {
    label: "convInputVjp() rejects a weight without spatial dimensions",
    inputs: [[4, 3], [2, 4]],
    call: (w, v) => convInputVjp(w, v, untyped<number[]>([])),
    name: "RangeError",
    message: [/weight/],
  },
  {
    label: "convInputVjp() rejects a v of another rank than the weight",
    inputs: [W1, [2, 4, 6, 1]],
    call: (w, v) => convInputVjp(w, v, 8),
    name: "RangeError",
    message: [/\bv\b/],
  },
  {
    label: "convWeightVjp() rejects a v of another rank than x",
    inputs: [X1, [2, 4, 6, 1]],
    call: (x, v) => convWeightVjp(x, v, 3),
    name: "RangeError",
    message: [/\bv\b/],
  },
  // v's shape is not the output's
  {
    label: "convWeightVjp() rejects a v whose spatial size is not the output's",
    inputs: [X1, [2, 4, 5]],
    call: (x, v) => convWeightVjp(x, v, 3),
    name: "RangeError",
    message: [/\bv\b/, /5/],
  },
  {
    label: "convWeightVjp() rejects a v whose batch size is not x's",
    inputs: [X1, [3, 4, 6]],
    call: (x, v) => convWeightVjp(x, v, 3),
    name: "RangeError",
    message: [/\bv\b/, /3/],
  },
  {
    label: "convInputVjp() rejects a v whose spatial size is not the output's",
    inputs: [W1, [2, 4, 5]],
    call: (w, v) => convInputVjp(w, v, 9),
    name: "RangeError",
    message: [/\bv\b/, /5/],
  },
  {
    label: "convInputVjp() rejects a 2d v whose second spatial size is not the output's",
    inputs: [W2, [2, 4, 5, 3]],
    call: (w, v) => convInputVjp(w, v, [7, 6], { padding: [0, 1] }),
    name: "RangeError",
    message: [/\bv\b/, /3/],
  },
];

/** Calls with arguments that are not tensors. */
const TYPE_CASES: { label: string; call(): unknown; message: RegExp[] }[] = [
  {
    label: "convForward() rejects nested arrays as x",
    call: () => convForward(untyped<NdArray>([[[1, 2, 3]]]), randomTensor(mulberry32(1), W1)),
    message: [/\bx\b/],
  },
  {
    label: "convUnfold() rejects null as x",
    call: () => convUnfold(untyped<NdArray>(null), 3),
    message: [/\bx\b/, /null/],
  },
  {
    label: "convInputVjp() rejects a number as v",
    call: () => convInputVjp(randomTensor(mulberry32(2), W1), untyped<NdArray>(3), 8),
    message: [/\bv\b/],
  },
  {
    label: "convKfc() rejects an options value that is not an object",
    call: () => convKfc(randomTensor(mulberry32(3), X1), 3, untyped<object>("same")),
    message: [/options/],
  },
];

/** A tensor's buffer and layout, to check later that nothing changed. */
function snapshot(x: NdArray): unknown {
  return { data: Array.from(x.data), shape: [...x.shape], stride: [...x.stride], offset: x.offset };
}

ERROR_CASES.forEach(({ label, inputs, call, name, message }, seed) => {
  Deno.test(`${label} (${name})`, () => {
    const rng = mulberry32(seed);
    const tensors = inputs.map((shape) => randomTensor(rng, shape));
    const before = tensors.map(snapshot);
    let thrown: unknown;
    assert.throws(() => call(...tensors), (error) => {
      thrown = error;
      return true;
    });
    assert.ok(thrown instanceof Error, `threw ${String(thrown)}`);
    assert.equal(thrown.name, name, `${thrown.name}: ${thrown.message}`);
    for (const pattern of message) {
      assert.match(thrown.message, pattern, `${thrown.name}: ${thrown.message}`);
    }
    assert.deepEqual(tensors.map(snapshot), before, "an input changed");
  });
});

for (const { label, call, message } of TYPE_CASES) {
  Deno.test(`${label} (TypeError)`, () => {
    let thrown: unknown;
    assert.throws(call, (error) => {
      thrown = error;
      return true;
    });
    assert.ok(thrown instanceof TypeError, `threw ${String(thrown)}`);
    for (const pattern of message) assert.match(thrown.message, pattern, thrown.message);
  });
}
