import assert from "node:assert/strict";
import { contractPath, einsumSync, registerIndexPattern, tensor, zeros } from "@einconv/runtime";
import { convUnfold, evaluateSync, simplify } from "@einconv/expressions";
import { UnfoldNd, unfoldNd } from "@einconv/nn";

Deno.test("a 1-d unfold keeps its index pattern virtual and runs it as one unfold step", async () => {
  const x = zeros([2, 3, 1000], "float32");
  const expr = convUnfold(x, 3, { patternOperands: "virtual" });
  // the pattern stays one [K, O, I] operand over a single number
  assert.equal(expr.operands.length, 2);
  assert.deepEqual(expr.operands[1].shape, [3, 998, 1000]);
  assert.equal(expr.operands[1].data.length, 1);
  const kinds = contractPath(expr.equation, ...expr.operands).steps.map((s) => s.kind);
  assert.deepEqual(kinds.filter((kind) => kind !== "permute"), ["unfold"]);
  const y = tensor(Float32Array.from({ length: 3000 }, (_, i) => i % 7), { shape: [1, 3, 1000] });
  const columns = await unfoldNd(y, 3);
  assert.deepEqual(columns.shape, [1, 9, 998]);
  assert.equal(columns.get(0, 4, 10), y.get(0, 1, 11));
});

Deno.test("simplify() leaves a registered pattern whose output is cut short alone", () => {
  // stride 3 over 6 inputs with one output kept: not the dense pattern of a reshape
  const pattern = registerIndexPattern(tensor([[[1, 0, 0, 0, 0, 0]]]), {
    inputSize: 6,
    kernelSize: 1,
    outputSize: 1,
    stride: 3,
    paddingLeft: 0,
    paddingRight: 0,
    dilation: 1,
  });
  const x = tensor([[1, 2, 3, 4, 5, 6]]);
  const simplified = simplify("ni,koi->nko", [x, pattern]);
  const expected = einsumSync("ni,koi->nko", x, pattern);
  const got = einsumSync(simplified.equation, ...simplified.operands);
  assert.deepEqual(Array.from(got.data), Array.from(expected.data));
  assert.deepEqual(Array.from(expected.data), [1]);
});

Deno.test("UnfoldNd checks its hyperparameters when it is built", () => {
  assert.throws(() => new UnfoldNd({ kernelSize: 0 }), {
    name: "RangeError",
    message: /Cannot read kernelSize/,
  });
  assert.throws(() => new UnfoldNd({ kernelSize: 2, stride: -1 }), {
    name: "RangeError",
    message: /Cannot read stride/,
  });
  assert.deepEqual(evaluateSync(convUnfold(tensor([[[1, 2, 3]]]), 2)).shape, [1, 2, 2]);
});
