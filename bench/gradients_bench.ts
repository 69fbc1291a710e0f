// Layers' gradients against their forward pass, measured in one run on the calling thread:
// each group's baseline is the forward convolution, beside its input gradient and its
// weight gradient. All three of a group do the same number of multiply-adds.
// Run with `deno task bench:deno` or `deno bench --allow-read=. bench/gradients_bench.ts`.
//
// The 3×3 stride-2 layer is a ResNet down-sampling convolution (input gradient phase by
// phase: a stride-1 product per phase of the inputs), the 1×1 stride-2 one its projection
// shortcut; the depthwise layer is MobileNet's, the grouped one ResNeXt's (32 groups of 4
// channels), whose weight gradients are products of one or four rows by nine taps.
import { configureWorkers, convNd, convNdInputVjp, convNdWeightVjp, type NdArray } from "../mod.ts";
import { hashedTensor as sample } from "./_inputs.ts";

const layers = [
  {
    group: "3×3 stride 2, padding 1: 8×64×56×56 → 64×28×28",
    x: sample([8, 64, 56, 56], 1),
    weight: sample([64, 64, 3, 3], 2),
    gradient: sample([8, 64, 28, 28], 3),
    options: { stride: 2, padding: 1 },
  },
  {
    group: "1×1 stride 2: 8×256×28×28 → 512×14×14",
    x: sample([8, 256, 28, 28], 4),
    weight: sample([512, 256, 1, 1], 5),
    gradient: sample([8, 512, 14, 14], 6),
    options: { stride: 2 },
  },
  {
    group: "depthwise 3×3, padding 1: 8×64×56×56, 64 groups",
    x: sample([8, 64, 56, 56], 7),
    weight: sample([64, 1, 3, 3], 8),
    gradient: sample([8, 64, 56, 56], 9),
    options: { padding: 1, groups: 64 },
  },
  {
    group: "grouped 3×3, padding 1: 8×128×28×28, 32 groups of 4",
    x: sample([8, 128, 28, 28], 10),
    weight: sample([128, 4, 3, 3], 11),
    gradient: sample([8, 128, 28, 28], 12),
    options: { padding: 1, groups: 32 },
  },
];

for (const { group, x, weight, gradient, options } of layers) {
  const inputSize = x.shape.slice(2);
  const kernelSize = weight.shape.slice(2);
  const runs: [string, () => Promise<NdArray>][] = [
    ["forward", () => convNd(x, weight, null, options)],
    ["input gradient", () => convNdInputVjp(weight, gradient, inputSize, options)],
    ["weight gradient", () => convNdWeightVjp(x, gradient, kernelSize, options)],
  ];
  for (const [name, run] of runs) {
    Deno.bench({
      name,
      group,
      baseline: name === "forward",
      n: 20,
      warmup: 5,
      async fn() {
        configureWorkers({ count: 0 });
        await run();
      },
    });
  }
}
