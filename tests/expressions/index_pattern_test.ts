import assert from "node:assert/strict";
import { indexPattern, type PatternDType } from "../../expressions/index_pattern.ts";

interface PatternCase {
  id: string;
  input_size: number;
  kernel_size: number;
  stride: number;
  padding: number | "same" | "valid";
  dilation: number;
  output_size: number;
  padding_left: number;
  padding_right: number;
  expected: { shape: number[]; data: number[] };
}

const CASES: PatternCase[] = JSON.parse(
  Deno.readTextFileSync(new URL("../fixtures/index_pattern.json", import.meta.url)),
).cases;

const ARRAY_TYPES = {
  float32: Float32Array,
  float64: Float64Array,
  uint8: Uint8Array,
} as const;

/**
 * einconv's construction, independent of the formula in the library: pad the input
 * indices 1..I with zeros, slide the dilated kernel over them, and mark the index that
 * each tap lands on (0 marks padding).
 */
function referencePattern(
  inputSize: number,
  kernelSize: number,
  stride: number,
  left: number,
  right: number,
  dilation: number,
): { shape: number[]; data: number[] } {
  const padded = [
    ...new Array(left).fill(0),
    ...Array.from({ length: inputSize }, (_, i) => i + 1),
    ...new Array(right).fill(0),
  ];
  const starts: number[] = [];
  for (let start = 0; start + (kernelSize - 1) * dilation < padded.length; start += stride) {
    starts.push(start);
  }
  const outputSize = starts.length;
  const data = new Array(kernelSize * outputSize * inputSize).fill(0);
  starts.forEach((start, o) => {
    for (let k = 0; k < kernelSize; k++) {
      const index = padded[start + k * dilation];
      if (index > 0) data[(k * outputSize + o) * inputSize + index - 1] = 1;
    }
  });
  return { shape: [kernelSize, outputSize, inputSize], data };
}

Deno.test("indexPattern() matches every fixture in every dtype", () => {
  for (const c of CASES) {
    for (const dtype of ["float32", "float64", "uint8"] as const) {
      const pattern = indexPattern(c.input_size, c.kernel_size, {
        stride: c.stride,
        padding: c.padding,
        dilation: c.dilation,
        dtype,
      });
      assert.deepEqual(pattern.shape, c.expected.shape, c.id);
      assert.equal(pattern.shape[1], c.output_size, c.id);
      assert.ok(pattern.data instanceof ARRAY_TYPES[dtype], `${c.id} ${dtype}`);
      assert.deepEqual(Array.from(pattern.data), c.expected.data, `${c.id} ${dtype}`);
    }
  }
});

Deno.test("indexPattern() matches a sliding-window reference on a grid of hyperparameters", () => {
  for (let inputSize = 1; inputSize <= 7; inputSize++) {
    for (let kernelSize = 1; kernelSize <= 4; kernelSize++) {
      for (let stride = 1; stride <= 3; stride++) {
        for (let dilation = 1; dilation <= 3; dilation++) {
          const paddings: (number | "same" | "valid")[] = [0, 1, 3, "valid"];
          if (stride === 1) paddings.push("same");
          for (const padding of paddings) {
            const total = dilation * (kernelSize - 1);
            const [left, right] = padding === "same"
              ? [Math.floor(total / 2), total - Math.floor(total / 2)]
              : padding === "valid"
              ? [0, 0]
              : [padding, padding];
            if (inputSize + left + right < total + 1) continue;
            const expected = referencePattern(inputSize, kernelSize, stride, left, right, dilation);
            const pattern = indexPattern(inputSize, kernelSize, {
              stride,
              padding,
              dilation,
              dtype: "float64",
            });
            const label = JSON.stringify({ inputSize, kernelSize, stride, padding, dilation });
            assert.deepEqual(pattern.shape, expected.shape, label);
            assert.deepEqual(Array.from(pattern.data), expected.data, label);
          }
        }
      }
    }
  }
});

Deno.test("indexPattern() returns a new C-contiguous float32 tensor by default", () => {
  const first = indexPattern(5, 3, { stride: 2, padding: 1 });
  const second = indexPattern(5, 3, { stride: 2, padding: 1 });
  assert.equal(first.dtype, "float32");
  assert.deepEqual(first.shape, [3, 3, 5]);
  assert.deepEqual(first.stride, [15, 5, 1]);
  assert.equal(first.offset, 0);
  assert.equal(first.data.length, 45);
  assert.notEqual(first.data, second.data);
});

Deno.test("indexPattern() uses einconv's defaults", () => {
  const pattern = indexPattern(4, 2);
  assert.deepEqual(pattern.shape, [2, 3, 4]);
  for (let k = 0; k < 2; k++) {
    for (let o = 0; o < 3; o++) {
      for (let i = 0; i < 4; i++) assert.equal(pattern.get(k, o, i), i === k + o ? 1 : 0);
    }
  }
});

Deno.test("indexPattern() rejects stride 0 and names it", () => {
  assert.throws(() => indexPattern(5, 3, { stride: 0 }), {
    name: "RangeError",
    message: /^Cannot read stride: .*got 0$/,
  });
});

/** Calls that must throw: class and exact message. */
const ERROR_CASES: { call: () => unknown; name: string; message: string }[] = [
  {
    call: () => indexPattern(5, 3, { dtype: "int8" as PatternDType }),
    name: "TypeError",
    message: 'Cannot read options.dtype: expected "float32", "float64" or "uint8", got "int8"',
  },
  {
    call: () => indexPattern(5, 3, { stride: 2, padding: "same" }),
    name: "RangeError",
    message: 'Cannot read padding: "same" requires stride 1, got stride=2',
  },
  {
    call: () => indexPattern(5, 0),
    name: "RangeError",
    message: "Cannot read kernelSize: expected a positive integer, got 0",
  },
  {
    call: () => indexPattern(2.5, 1),
    name: "TypeError",
    message: "Cannot read inputSize: expected a positive integer, got 2.5",
  },
  {
    call: () => indexPattern(5, 3, { padding: -2 }),
    name: "RangeError",
    message: "Cannot read padding: expected a non-negative integer, got -2",
  },
  {
    call: () => indexPattern(5, 3, { dilation: 0 }),
    name: "RangeError",
    message: "Cannot read dilation: expected a positive integer, got 0",
  },
  {
    call: () => indexPattern(3, 3, { dilation: 2 }),
    name: "RangeError",
    message: "Cannot compute output size: inputSize=3 with padding 0+0 is smaller than the " +
      "dilated kernel size 5 (kernelSize=3, dilation=2)",
  },
  {
    call: () => indexPattern(5, 3, null as unknown as undefined),
    name: "TypeError",
    message: "Cannot read options: expected an object, got null",
  },
];

Deno.test("indexPattern() rejects invalid arguments and names them", () => {
  for (const { call, name, message } of ERROR_CASES) {
    assert.throws(call, { name, message }, message);
  }
});
