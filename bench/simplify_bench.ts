// What symbolic simplification saves, measured in one run on the calling thread: each
// group's baseline evaluates an expression built with `simplify: false`, against the same
// operation simplified. Run with `deno task bench:deno` or
// `deno bench --allow-read=. bench/simplify_bench.ts`.
//
// Case H (stride 2, dilation 2) reads only the odd rows and columns of its input: simplified,
// its data is a strided view of that quarter and its patterns have stride and dilation 1. A
// 1×1 convolution with stride 2 of an odd-sized input loses its patterns altogether.
import { expressions } from "../mod.ts";
import { hashedTensor as sample } from "./_inputs.ts";

const cases = [
  {
    group: "case H: conv2d 8×64×56×56, 64 out, 3×3, stride 2, dilation 2, padding 1",
    x: sample([8, 64, 56, 56], 1),
    weight: sample([64, 64, 3, 3], 2),
    options: { stride: 2, dilation: 2, padding: 1 },
  },
  {
    group: "1×1 conv2d 8×64×57×57, 128 out, stride 2",
    x: sample([8, 64, 57, 57], 3),
    weight: sample([128, 64, 1, 1], 4),
    options: { stride: 2 },
  },
];

for (const { group, x, weight, options } of cases) {
  for (const simplify of [false, true]) {
    Deno.bench({
      name: simplify ? "simplified" : "as built (simplify: false)",
      group,
      baseline: !simplify,
      n: 50,
      warmup: 5,
      fn() {
        const expression = expressions.convForward(x, weight, { ...options, simplify });
        expressions.evaluateSync(expression);
      },
    });
  }
}
