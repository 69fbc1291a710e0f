import assert from "node:assert/strict";
import { readHyperparameter, readPadding } from "../../expressions/hyperparameters.ts";

Deno.test("readHyperparameter() expands an integer and copies a tuple", () => {
  assert.deepEqual(readHyperparameter("stride", 3, 1), [3]);
  assert.deepEqual(readHyperparameter("stride", 3, 4), [3, 3, 3, 3]);
  const tuple = [1, 2, 3];
  const read = readHyperparameter("dilation", tuple, 3);
  assert.deepEqual(read, tuple);
  assert.notEqual(read, tuple);
  assert.deepEqual(readHyperparameter("outputPadding", 0, 2, { min: 0 }), [0, 0]);
});

Deno.test("readPadding() expands integers and keeps strings", () => {
  assert.deepEqual(readPadding(0, 2), [0, 0]);
  assert.deepEqual(readPadding([2, 0, 1], 3), [2, 0, 1]);
  assert.equal(readPadding("same", 2), "same");
  assert.equal(readPadding("valid", 5), "valid");
});

/** Calls that must throw: class and exact message. */
const ERROR_CASES: { call: () => unknown; name: string; message: string }[] = [
  {
    call: () => readHyperparameter("stride", 0, 2),
    name: "RangeError",
    message: "Cannot read stride: expected a positive integer or 2 positive integers, got 0",
  },
  {
    call: () => readHyperparameter("stride", [1, 0], 2),
    name: "RangeError",
    message: "Cannot read stride: expected a positive integer or 2 positive integers, got [1,0]",
  },
  {
    call: () => readHyperparameter("kernelSize", [3, 3, 3], 2),
    name: "RangeError",
    message:
      "Cannot read kernelSize: expected a positive integer or 2 positive integers, got [3,3,3]",
  },
  {
    call: () => readHyperparameter("dilation", 1.5, 1),
    name: "TypeError",
    message: "Cannot read dilation: expected a positive integer or 1 positive integer, got 1.5",
  },
  {
    call: () => readHyperparameter("dilation", "2" as unknown as number, 1),
    name: "TypeError",
    message: 'Cannot read dilation: expected a positive integer or 1 positive integer, got "2"',
  },
  {
    call: () => readHyperparameter("outputPadding", -1, 2, { min: 0 }),
    name: "RangeError",
    message:
      "Cannot read outputPadding: expected a non-negative integer or 2 non-negative integers, got -1",
  },
  {
    call: () => readHyperparameter("stride", 1, 0),
    name: "RangeError",
    message: "Cannot read n: expected a positive integer, got 0",
  },
  {
    call: () => readHyperparameter("stride", 1, 2, { min: 2 as 1 }),
    name: "RangeError",
    message: "Cannot read options.min: expected 0 or 1, got 2",
  },
  {
    call: () => readPadding("full" as "same", 2),
    name: "TypeError",
    message:
      'Cannot read padding: expected a non-negative integer, 2 non-negative integers, "same" or "valid", got "full"',
  },
  {
    call: () => readPadding([1, -1], 2),
    name: "RangeError",
    message:
      'Cannot read padding: expected a non-negative integer, 2 non-negative integers, "same" or "valid", got [1,-1]',
  },
  {
    call: () => readPadding([1], 2),
    name: "RangeError",
    message:
      'Cannot read padding: expected a non-negative integer, 2 non-negative integers, "same" or "valid", got [1]',
  },
];

Deno.test("readHyperparameter() and readPadding() reject invalid values and name them", () => {
  for (const { call, name, message } of ERROR_CASES) {
    assert.throws(call, { name, message }, message);
  }
});
