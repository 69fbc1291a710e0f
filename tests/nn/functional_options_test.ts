// The functionals read only the options they know: a misspelt hyperparameter is an
// error, not a silent default (TensorFlow's `strides` is a likely slip).
import assert from "node:assert/strict";
import { tensor } from "@einconv/runtime";
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

const x = tensor([[[1, 2, 3, 4]]]);
const w = tensor([[[1, -1]]]);
const typo = { strides: 2 } as unknown as Record<string, never>;

Deno.test("every functional rejects an unknown option with a TypeError naming it", async () => {
  const calls: [string, () => Promise<unknown>][] = [
    ["convNd", () => convNd(x, w, null, typo)],
    ["convNdInputVjp", () => convNdInputVjp(w, tensor([[[1, 1, 1]]]), [4], typo)],
    ["convNdWeightVjp", () => convNdWeightVjp(x, tensor([[[1, 1, 1]]]), [2], typo)],
    ["convTransposeNd", () => convTransposeNd(x, w, null, typo)],
    ["unfoldNd", () => unfoldNd(x, 2, typo)],
    ["unfoldTransposeNd", () => unfoldTransposeNd(x, 2, typo)],
    ["kfc", () => kfc(x, 2, typo)],
    ["kfacReduce", () => kfacReduce(x, 2, typo)],
    ["transposeKfacReduce", () => transposeKfacReduce(x, 2, typo)],
  ];
  for (const [name, call] of calls) {
    await assert.rejects(call, {
      name: "TypeError",
      message: /^Cannot read options: unknown option "strides"/,
    }, name);
  }
  // The known ones still work, out included.
  assert.deepEqual(Array.from((await convNd(x, w, null, { stride: 2 })).data), [-1, -1]);
});
