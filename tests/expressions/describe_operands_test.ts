// describeOperands: the roles the CLI and toDot show — data named after its inputs,
// index patterns with their hyperparameters, identities, constants, unknown tensors.
import assert from "node:assert/strict";
import { tensor, zeros } from "@einconv/runtime";
import {
  convInputVjp,
  convKfacReduce,
  describeOperands,
  type Expression,
} from "@einconv/expressions";

Deno.test("describeOperands() names data after its inputs and reads index patterns", () => {
  const weight = zeros([4, 3, 3]);
  const v = zeros([2, 4, 5]);
  const operands = describeOperands(
    convInputVjp(weight, v, [10], { stride: 2, padding: 1, simplify: false }),
    { inputs: { weight, v } },
  );
  assert.deepEqual(operands.map((o) => [o.position, o.kind, o.name]), [
    [0, "data", "v"],
    [1, "pattern", "Π0"],
    [2, "data", "weight"],
  ]);
  assert.deepEqual(operands[1].pattern, {
    inputSize: 10,
    kernelSize: 3,
    outputSize: 5,
    stride: 2,
    paddingLeft: 1,
    paddingRight: 1,
    dilation: 1,
  });
  assert.deepEqual(operands[1].shape, [3, 5, 10]);
  assert.equal(operands[1].indices.length, 3);
});

Deno.test("describeOperands() tells identities, constants and unknown tensors apart", () => {
  const expression: Expression = {
    equation: "ab,bc,s->ac",
    operands: [tensor([[1, 0], [0, 1]]), tensor([[0, 1], [1, 0]]), tensor([0.25])],
    shape: [2, 2],
  };
  assert.deepEqual(
    describeOperands(expression).map((o) => [o.kind, o.name, o.value]),
    [["identity", "δ0", undefined], ["data", "T1", undefined], ["scale", "scale", 0.25]],
  );
  assert.deepEqual(
    describeOperands(expression, { names: ["I", undefined, "c"] }).map((o) => o.name),
    ["I", "T1", "c"],
  );
});

Deno.test("describeOperands() reads the scale of KFAC-reduce", () => {
  const x = zeros([2, 1, 4]);
  const operands = describeOperands(convKfacReduce(x, 2), { inputs: { x } });
  const scale = operands.find((o) => o.kind === "scale");
  // 1 / (B · prod(O)²) = 1 / (2 · 3²)
  assert.ok(scale !== undefined && Math.abs(scale.value! - 1 / 18) < 1e-12);
});

Deno.test("describeOperands() rejects what is not an expression and names it", () => {
  assert.throws(() => describeOperands({ equation: 3 } as unknown as Expression), {
    name: "TypeError",
    message: /^Cannot read expression: expected \{ equation, operands, shape \}, got /,
  });
});
