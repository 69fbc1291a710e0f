import assert from "node:assert/strict";
import { convInputSize, convOutputSize, convPaddings } from "../../expressions/conv_sizes.ts";

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
}

interface TransposeCase {
  id: string;
  N: number;
  x: { shape: number[] };
  weight: { shape: number[] };
  stride: number[];
  padding: number[];
  output_padding: number[];
  dilation: number[];
  expected: { shape: number[] };
}

function readFixture<T>(name: string): T[] {
  return JSON.parse(Deno.readTextFileSync(new URL(`../fixtures/${name}`, import.meta.url))).cases;
}

const PATTERN_CASES = readFixture<PatternCase>("index_pattern.json");
const TRANSPOSE_CASES = readFixture<TransposeCase>("conv_transpose.json");

/** einconv's cases (test/utils_cases.py, checked there against torch), then edge cases. */
const OUTPUT_SIZE_CASES: { args: Parameters<typeof convOutputSize>; expected: number }[] = [
  { args: [10, 3, 1, 1, 1], expected: 10 }, // default hyperparameters
  { args: [31, 3, 2, 10, 2], expected: 24 }, // nontrivial hyperparameters
  { args: [51, 4, 2, 10, 15], expected: 13 }, // non-overlapping patches
  { args: [7, 7, 1, 0, 1], expected: 1 }, // kernel as large as the input
  { args: [1, 3, 1, 2, 2], expected: 1 }, // the padding alone fits the dilated kernel
];

const INPUT_SIZE_CASES: { args: Parameters<typeof convInputSize>; expected: number }[] = [
  { args: [10, 3, 1, 1, 0, 1], expected: 10 }, // default hyperparameters (einconv)
  { args: [11, 3, 2, 10, 1, 2], expected: 6 }, // nontrivial hyperparameters
  { args: [11, 4, 2, 10, 0, 5], expected: 16 }, // non-overlapping patches
  { args: [4, 3, 1, 0, 1, 2], expected: 9 }, // outputPadding ≥ stride, allowed by the dilation (PyTorch)
];

Deno.test("convPaddings() matches every index_pattern fixture", () => {
  for (const c of PATTERN_CASES) {
    assert.deepEqual(
      convPaddings(c.kernel_size, c.stride, c.padding, c.dilation),
      [c.padding_left, c.padding_right],
      c.id,
    );
  }
});

Deno.test("convPaddings() puts the smaller half of 'same' padding on the left", () => {
  assert.deepEqual(convPaddings(2, 1, "same", 1), [0, 1]);
  assert.deepEqual(convPaddings(4, 1, "same", 3), [4, 5]);
  assert.deepEqual(convPaddings(5, 1, "same", 2), [4, 4]);
  assert.deepEqual(convPaddings(1, 1, "same", 7), [0, 0]);
  assert.deepEqual(convPaddings(5, 3, "valid", 2), [0, 0]);
  assert.deepEqual(convPaddings(5, 3, 0, 2), [0, 0]);
});

Deno.test("convOutputSize() matches every index_pattern fixture", () => {
  for (const c of PATTERN_CASES) {
    assert.equal(
      convOutputSize(c.input_size, c.kernel_size, c.stride, c.padding, c.dilation),
      c.output_size,
      c.id,
    );
  }
});

Deno.test("convOutputSize() matches einconv's cases", () => {
  for (const { args, expected } of OUTPUT_SIZE_CASES) {
    assert.equal(convOutputSize(...args), expected, JSON.stringify(args));
  }
});

Deno.test("convOutputSize() keeps the size with 'same' padding", () => {
  for (let inputSize = 1; inputSize <= 6; inputSize++) {
    for (let kernelSize = 1; kernelSize <= 4; kernelSize++) {
      for (let dilation = 1; dilation <= 3; dilation++) {
        assert.equal(convOutputSize(inputSize, kernelSize, 1, "same", dilation), inputSize);
      }
    }
  }
});

Deno.test("convInputSize() matches einconv's cases", () => {
  for (const { args, expected } of INPUT_SIZE_CASES) {
    assert.equal(convInputSize(...args), expected, JSON.stringify(args));
  }
});

Deno.test("convInputSize() matches the output shapes of every conv_transpose fixture", () => {
  for (const c of TRANSPOSE_CASES) {
    const sizes = c.x.shape.slice(2).map((outputSize, n) =>
      convInputSize(
        outputSize,
        c.weight.shape[2 + n],
        c.stride[n],
        c.padding[n],
        c.output_padding[n],
        c.dilation[n],
      )
    );
    assert.deepEqual(sizes, c.expected.shape.slice(2), c.id);
  }
});

Deno.test("convInputSize() inverts convOutputSize() when outputPadding < stride", () => {
  for (let outputSize = 1; outputSize <= 5; outputSize++) {
    for (let kernelSize = 1; kernelSize <= 4; kernelSize++) {
      for (let stride = 1; stride <= 3; stride++) {
        for (let dilation = 1; dilation <= 3; dilation++) {
          for (let padding = 0; padding <= 2; padding++) {
            for (let outputPadding = 0; outputPadding < stride; outputPadding++) {
              const args = [outputSize, kernelSize, stride, padding, outputPadding, dilation];
              let inputSize: number;
              try {
                inputSize = convInputSize(
                  outputSize,
                  kernelSize,
                  stride,
                  padding,
                  outputPadding,
                  dilation,
                );
              } catch (error) {
                assert.ok(error instanceof RangeError, JSON.stringify(args));
                continue;
              }
              const back = convOutputSize(inputSize, kernelSize, stride, padding, dilation);
              assert.equal(back, outputSize, JSON.stringify(args));
            }
          }
        }
      }
    }
  }
});

/** Calls that must throw: class and exact message. */
const ERROR_CASES: { call: () => unknown; name: string; message: string }[] = [
  {
    call: () => convPaddings(3, 2, "same", 1),
    name: "RangeError",
    message: 'Cannot read padding: "same" requires stride 1, got stride=2',
  },
  {
    call: () => convPaddings(3, 1, "full" as "same", 1),
    name: "TypeError",
    message: 'Cannot read padding: expected a non-negative integer, "same" or "valid", got "full"',
  },
  {
    call: () => convPaddings(3, 1, -1, 1),
    name: "RangeError",
    message: "Cannot read padding: expected a non-negative integer, got -1",
  },
  {
    call: () => convPaddings(0, 1, 0, 1),
    name: "RangeError",
    message: "Cannot read kernelSize: expected a positive integer, got 0",
  },
  {
    call: () => convPaddings(1.5, 1, 0, 1),
    name: "TypeError",
    message: "Cannot read kernelSize: expected a positive integer, got 1.5",
  },
  {
    call: () => convOutputSize(5, 3, 0, 0, 1),
    name: "RangeError",
    message: "Cannot read stride: expected a positive integer, got 0",
  },
  {
    call: () => convOutputSize(5, 3, 1, 0, Number.NaN),
    name: "TypeError",
    message: "Cannot read dilation: expected a positive integer, got NaN",
  },
  {
    call: () => convOutputSize(0, 3, 1, 0, 1),
    name: "RangeError",
    message: "Cannot read inputSize: expected a positive integer, got 0",
  },
  {
    call: () => convOutputSize("5" as unknown as number, 3, 1, 0, 1),
    name: "TypeError",
    message: 'Cannot read inputSize: expected a positive integer, got "5"',
  },
  {
    call: () => convOutputSize(2, 3, 1, 0, 2),
    name: "RangeError",
    message: "Cannot compute output size: inputSize=2 with padding 0+0 is smaller than the " +
      "dilated kernel size 5 (kernelSize=3, dilation=2)",
  },
  {
    call: () => convOutputSize(2, 4, 1, "valid", 1),
    name: "RangeError",
    message: "Cannot compute output size: inputSize=2 with padding 0+0 is smaller than the " +
      "dilated kernel size 4 (kernelSize=4, dilation=1)",
  },
  {
    call: () => convInputSize(5, 3, 2, 1, 2, 1),
    name: "RangeError",
    message: "Cannot read outputPadding: expected an integer smaller than stride=2 or " +
      "dilation=1, got 2",
  },
  {
    call: () => convInputSize(5, 3, 2, 1, -1, 1),
    name: "RangeError",
    message: "Cannot read outputPadding: expected a non-negative integer, got -1",
  },
  {
    call: () => convInputSize(5, 3, 2, "same" as unknown as number, 0, 1),
    name: "TypeError",
    message: 'Cannot read padding: expected a non-negative integer, got "same"',
  },
  {
    call: () => convInputSize(0, 3, 1, 0, 0, 1),
    name: "RangeError",
    message: "Cannot read outputSize: expected a positive integer, got 0",
  },
  {
    call: () => convInputSize(1, 1, 1, 1, 0, 1),
    name: "RangeError",
    message: "Cannot compute input size: outputSize=1, kernelSize=1, stride=1, padding=1, " +
      "outputPadding=0 and dilation=1 give -1, expected a positive size",
  },
];

Deno.test("conv size functions reject invalid arguments and name them", () => {
  for (const { call, name, message } of ERROR_CASES) {
    assert.throws(call, { name, message }, message);
  }
});
