// Shards sum every entry in the order of the whole contraction, whatever output index they
// split: checked bit for bit on full-mantissa data (whose sums depend on their order) for
// convolution-shaped plans large enough to be staged in several bands.
import assert from "node:assert/strict";
import { contractPath, executePlan, type NdArray } from "@einconv/runtime";
import { convForward, convInputVjp, convWeightVjp, type Expression } from "@einconv/expressions";
import { mulberry32, randomFloatTensor } from "../_random.ts";
import { sliceAlong } from "../../workers/_shard_board.ts";

/** Asserts that every split of every output index into three shards equals the slice of
 * the whole result, bit for bit. */
function assertShardsExact(expression: Expression): void {
  const plan = contractPath(expression.equation, ...expression.operands);
  assert.notEqual(plan.implicitGemm, null);
  const whole = executePlan(plan, expression.operands);
  plan.parsed.output.forEach((index, axis) => {
    const size = plan.sizes.get(index)!;
    const cuts = [...new Set([0, Math.floor(size / 3), Math.floor((2 * size) / 3), size])];
    for (let s = 0; s + 1 < cuts.length; s++) {
      const shard = { index, start: cuts[s], end: cuts[s + 1] };
      const part = executePlan(plan, expression.operands, { shard });
      const slice = sliceAlong(whole, axis, shard.start, shard.end);
      assert.deepEqual(entries(part), entries(slice), `${index} in [${shard.start}, ${shard.end})`);
    }
  });
}

function entries(x: NdArray): number[] {
  const values: number[] = [];
  const index = new Array<number>(x.shape.length).fill(0);
  for (let i = 0; i < x.size; i++) {
    values.push(x.get(...index));
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < x.shape[d]) break;
      index[d] = 0;
    }
  }
  return values;
}

const rng = mulberry32(2026);
const virtual = { patternOperands: "virtual" as const };

Deno.test("weight-gradient shards along any index sum like the whole (several bands)", () => {
  const x = randomFloatTensor(rng, [1, 2, 150, 150], "float32");
  const v = randomFloatTensor(rng, [1, 3, 150, 150], "float32");
  assertShardsExact(convWeightVjp(x, v, 5, { padding: 2, ...virtual }));
});

Deno.test("strided input-gradient shards along any index sum like the whole (several bands)", () => {
  const w = randomFloatTensor(rng, [3, 2, 5, 5], "float32");
  const v = randomFloatTensor(rng, [1, 3, 75, 75], "float32");
  assertShardsExact(convInputVjp(w, v, [150, 150], { stride: 2, padding: 2, ...virtual }));
});

Deno.test("forward and stride-1 input-gradient shards along any index sum like the whole", () => {
  const x = randomFloatTensor(rng, [1, 2, 150, 150], "float32");
  const w = randomFloatTensor(rng, [3, 2, 5, 5], "float32");
  assertShardsExact(convForward(x, w, { padding: 2, ...virtual }));
  const v = randomFloatTensor(rng, [1, 3, 150, 150], "float32");
  assertShardsExact(convInputVjp(w, v, [150, 150], { padding: 2, ...virtual }));
});
