// Implicit GEMMs staged in bands of output lines: the band rules read exactly the inputs
// of the whole rules, forward results do not depend on the bands (bit for bit), weight
// gradients summed band by band match the direct-loop reference and do not depend on how
// many planes a shard holds, and input gradients (phase by phase when strided) match it
// whatever the staging budget and whatever channels a shard holds.
import assert from "node:assert/strict";
import type { NdArray } from "@einconv/runtime";
import {
  bandOutputs,
  outputBands,
  paddedGeometry,
  type TapRule,
} from "../../runtime/_padded_image.ts";
import { implicitGemm } from "../../runtime/_implicit_gemm.ts";
import { implicitInputGemm } from "../../runtime/_implicit_input_gemm.ts";
import { implicitWeightGemm } from "../../runtime/_implicit_weight_gemm.ts";
import type { RoleView } from "../../runtime/_implicit_roles.ts";
import { mulberry32, randomFloatTensor } from "../_random.ts";
import {
  referenceConv,
  referenceConvInputVjp,
  referenceConvWeightVjp,
} from "../_reference_conv.ts";

interface Geometry {
  input: number[];
  kernel: number[];
  stride: number[];
  padding: number[];
  dilation: number[];
}

/** The tap rule of one dimension: input `k·dilation + o·stride − padding`. */
function rules({ input, kernel, stride, padding, dilation }: Geometry): TapRule[] {
  return input.map((n, d) => ({
    base: Int32Array.from({ length: kernel[d] }, (_, k) => k * dilation[d] - padding[d]),
    stride: stride[d],
    kernelSize: kernel[d],
    outputSize: Math.floor((n + 2 * padding[d] - dilation[d] * (kernel[d] - 1) - 1) / stride[d]) +
      1,
    inputSize: n,
  }));
}

const GEOMETRIES: Record<string, Geometry> = {
  "1-d, padding 2": { input: [23], kernel: [5], stride: [1], padding: [2], dilation: [1] },
  "2-d, stride 2, dilation 2": {
    input: [13, 9],
    kernel: [3, 3],
    stride: [2, 1],
    padding: [1, 2],
    dilation: [2, 1],
  },
  "2-d, padding wider than the kernel (bands of padding only)": {
    input: [4, 5],
    kernel: [2, 3],
    stride: [1, 1],
    padding: [4, 1],
    dilation: [1, 1],
  },
  "2-d, stride wider than the kernel (inputs nobody reads)": {
    input: [17, 6],
    kernel: [2, 2],
    stride: [4, 1],
    padding: [0, 0],
    dilation: [1, 1],
  },
  "2-d, stride 2 along lines of odd length": {
    input: [9, 11],
    kernel: [3, 3],
    stride: [2, 2],
    padding: [1, 1],
    dilation: [1, 1],
  },
  "1-d, stride 3 (phases no tap reaches)": {
    input: [26],
    kernel: [2],
    stride: [3],
    padding: [1],
    dilation: [1],
  },
  "3-d": {
    input: [7, 5, 4],
    kernel: [3, 2, 3],
    stride: [1, 1, 1],
    padding: [1, 0, 1],
    dilation: [1, 2, 1],
  },
};

for (const [name, geometry] of Object.entries(GEOMETRIES)) {
  Deno.test(`outputBands() read exactly the inputs of the whole rules (${name})`, () => {
    const whole = rules(geometry);
    const [first] = whole;
    for (const perBand of [1, 2, 3, first.outputSize]) {
      const bands = outputBands(whole, perBand);
      assert.equal(bands[0].firstOutput, 0);
      let next = 0;
      for (const band of bands) {
        const [rule, ...rest] = band.rules;
        assert.equal(band.firstOutput, next);
        assert.deepEqual(rest, whole.slice(1));
        assert.ok(band.firstInput >= 0 && band.firstInput + rule.inputSize <= first.inputSize);
        for (let k = 0; k < first.kernelSize; k++) {
          for (let o = 0; o < rule.outputSize; o++) {
            const local = rule.base[k] + o * rule.stride;
            const global = first.base[k] + (band.firstOutput + o) * first.stride;
            assert.equal(local + band.firstInput, global);
            assert.equal(
              local >= 0 && local < rule.inputSize,
              global >= 0 && global < first.inputSize,
              `band at ${band.firstOutput}, tap ${k}, output ${o}`,
            );
          }
        }
        next += rule.outputSize;
      }
      assert.equal(next, first.outputSize);
    }
  });

  Deno.test(`bandOutputs() keeps bands within the budget (${name})`, () => {
    const whole = rules(geometry);
    const planes = 3;
    for (const elements of [1, 40, 100, 400, 10_000]) {
      const perBand = bandOutputs(whole, planes, elements);
      assert.ok(perBand >= 1 && perBand <= whole[0].outputSize);
      for (const band of outputBands(whole, perBand)) {
        const size = planes * paddedGeometry(band.rules).plane;
        assert.ok(
          perBand === 1 || size <= elements,
          `${perBand} outputs per band take ${size} > ${elements} elements`,
        );
      }
    }
  });
}

/** A row-major tensor's view with its dimensions grouped by role (groups split off the
 * channel dimension `channelAxis` into `groups` × the rest). */
function roleView(
  x: NdArray,
  roles: Record<RoleName, number[]>,
  groups: number,
  channelAxis: number,
): RoleView {
  const shape = [...x.shape];
  const stride = [...x.stride];
  // Split the channel axis into [groups, channels per group].
  shape.splice(channelAxis, 1, groups, x.shape[channelAxis] / groups);
  stride.splice(channelAxis, 1, stride[channelAxis] * shape[channelAxis + 1], stride[channelAxis]);
  const pick = (values: number[]) => ({
    batch: roles.batch.map((a) => values[a]),
    rows: roles.rows.map((a) => values[a]),
    contracted: roles.contracted.map((a) => values[a]),
    channels: roles.channels.map((a) => values[a]),
    taps: roles.taps.map((a) => values[a]),
  });
  return {
    data: x.data as Float32Array | Float64Array,
    offset: x.offset,
    shapes: pick(shape),
    strides: pick(stride),
  };
}

type RoleName = "batch" | "rows" | "contracted" | "channels" | "taps";

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

for (const [name, geometry] of Object.entries(GEOMETRIES)) {
  for (const groups of [1, 2]) {
    Deno.test(`a convolution staged in bands equals it staged whole, bit for bit (${name}, groups ${groups})`, () => {
      const rng = mulberry32(77 + groups);
      const nd = geometry.input.length;
      const [batch, inChannels, outChannels] = [2, 2 * groups, 3 * groups];
      const x = randomFloatTensor(rng, [batch, inChannels, ...geometry.input], "float32");
      const w = randomFloatTensor(
        rng,
        [outChannels, inChannels / groups, ...geometry.kernel],
        "float32",
      );
      const r = rules(geometry);
      const spatial = range(3, nd);
      // x: [n, g, c, ...spatial]; w: [g, o, c, ...kernel].
      const t = roleView(
        x,
        { batch: [1], rows: [0], contracted: [2], channels: [], taps: spatial },
        groups,
        1,
      );
      const wv = roleView(
        w,
        { batch: [0], rows: [], contracted: [2], channels: [1], taps: spatial },
        groups,
        0,
      );
      const outputs = r.reduce((n, rule) => n * rule.outputSize, 1);
      const block = (outChannels / groups) * outputs;
      const blocks = {
        batch: range(0, groups).map((g) => g * block),
        rows: range(0, batch).map((n) => n * groups * block),
      };
      const whole = implicitGemm(t, wv, r, "float32", undefined, blocks);
      const want = referenceConv(x, w, null, {
        stride: geometry.stride,
        padding: geometry.padding,
        dilation: geometry.dilation,
        groups,
      });
      assert.equal(whole.length, want.data.length);
      whole.forEach((v, i) => assert.ok(Math.abs(v - want.data[i]) <= 1e-4, `entry ${i}`));
      for (const elements of [1, 30, 200]) {
        const banded = implicitGemm(t, wv, r, "float32", undefined, blocks, elements);
        assert.deepEqual(banded, whole, `staging ${elements} elements at a time`);
      }
    });

    Deno.test(`a weight gradient summed band by band matches the reference, whatever rows a shard holds (${name}, groups ${groups})`, () => {
      const rng = mulberry32(91 + groups);
      const nd = geometry.input.length;
      const [batch, inChannels, outChannels] = [2, 4 * groups, 3 * groups];
      const x = randomFloatTensor(rng, [batch, inChannels, ...geometry.input], "float64");
      const r = rules(geometry);
      const outSize = r.map((rule) => rule.outputSize);
      const v = randomFloatTensor(rng, [batch, outChannels, ...outSize], "float64");
      const spatial = range(3, nd);
      // x: [n, g, c, ...spatial]; v: [n, g, o, ...outputs].
      const t = roleView(
        x,
        { batch: [1], rows: [2], contracted: [0], channels: [], taps: spatial },
        groups,
        1,
      );
      const vv = roleView(
        v,
        { batch: [1], rows: [], contracted: [0], channels: [2], taps: spatial },
        groups,
        1,
      );
      const want = referenceConvWeightVjp(x, v, geometry.kernel, {
        stride: geometry.stride,
        padding: geometry.padding,
        dilation: geometry.dilation,
        groups,
      });
      const taps = geometry.kernel.reduce((a, b) => a * b, 1);
      const perGroup = inChannels / groups;
      for (const elements of [1, 30, 200, 1 << 18]) {
        const got = implicitWeightGemm(t, vv, r, "float64", undefined, elements);
        got.forEach((value, i) => assert.ok(Math.abs(value - want.data[i]) <= 1e-9, `entry ${i}`));
        // A shard holding the last rows only sums every entry in the same order.
        const shard = {
          ...t,
          shapes: { ...t.shapes, rows: [perGroup - 1] },
          offset: t.offset + t.strides.rows[0],
        };
        const part = implicitWeightGemm(shard, vv, r, "float64", undefined, elements);
        const columns = perGroup * taps;
        for (let row = 0; row < groups * (outChannels / groups); row++) {
          assert.deepEqual(
            part.subarray(row * (perGroup - 1) * taps, (row + 1) * (perGroup - 1) * taps),
            got.subarray(row * columns + taps, (row + 1) * columns),
            `row ${row}, staging ${elements} elements at a time`,
          );
        }
      }
    });
  }
}

for (const [name, geometry] of Object.entries(GEOMETRIES)) {
  for (const groups of [1, 2]) {
    Deno.test(`an input gradient matches the reference, whatever the staging budget and the channels a shard holds (${name}, groups ${groups})`, () => {
      const rng = mulberry32(57 + groups);
      const nd = geometry.input.length;
      const [batch, inChannels, outChannels] = [2, 3 * groups, 2 * groups];
      const w = randomFloatTensor(
        rng,
        [outChannels, inChannels / groups, ...geometry.kernel],
        "float64",
      );
      const r = rules(geometry);
      const outSize = r.map((rule) => rule.outputSize);
      const v = randomFloatTensor(rng, [batch, outChannels, ...outSize], "float64");
      const spatial = range(3, nd);
      // v: [n, g, o, ...outputs]; w: [g, o, c, ...kernel].
      const vv = roleView(
        v,
        { batch: [1], rows: [0], contracted: [2], channels: [], taps: spatial },
        groups,
        1,
      );
      const wv = roleView(
        w,
        { batch: [0], rows: [], contracted: [1], channels: [2], taps: spatial },
        groups,
        0,
      );
      const inputs = geometry.input.reduce((a, b) => a * b, 1);
      const perGroup = inChannels / groups;
      const block = perGroup * inputs;
      const blocks = {
        batch: range(0, groups).map((g) => g * block),
        rows: range(0, batch).map((n) => n * groups * block),
      };
      const want = referenceConvInputVjp(w, v, geometry.input, {
        stride: geometry.stride,
        padding: geometry.padding,
        dilation: geometry.dilation,
        groups,
      });
      const whole = implicitInputGemm(vv, wv, r, "float64", undefined, blocks);
      whole.forEach((value, i) => assert.ok(Math.abs(value - want.data[i]) <= 1e-9, `entry ${i}`));
      for (const elements of [1, 30, 200]) {
        const got = implicitInputGemm(vv, wv, r, "float64", undefined, blocks, elements);
        // Every input adds its terms in one order whatever the bands of each phase.
        assert.deepEqual(got, whole, `staging ${elements} elements at a time`);
        // A shard holding the last channels only sums every entry in the same order.
        const shard = {
          ...wv,
          shapes: { ...wv.shapes, channels: [perGroup - 1] },
          offset: wv.offset + wv.strides.channels[0],
        };
        const part = implicitInputGemm(vv, shard, r, "float64", undefined, undefined, elements);
        // The shard's result is [group, batch entry, channel, inputs]; the whole's [batch
        // entry, group, channel, inputs].
        for (let g = 0; g < groups; g++) {
          for (let n = 0; n < batch; n++) {
            const from = (g * batch + n) * (perGroup - 1) * inputs;
            const row = n * groups + g;
            assert.deepEqual(
              part.subarray(from, from + (perGroup - 1) * inputs),
              got.subarray(row * block + inputs, (row + 1) * block),
              `batch entry ${n}, group ${g}, staging ${elements} elements at a time`,
            );
          }
        }
      }
    });
  }
}

Deno.test("a convolution of small images grouped into shared GEMMs equals it image by image, bit for bit", () => {
  // 5 images of 2 planes of 60 (+2 padding): a 300-element budget stages 2 images at a time
  // (groups of 2, 2 and 1); 1100 output channels make the GEMM's column blocks 256 wide,
  // so that blocks of the default grouping (all 5 images, 300 columns) cross images.
  const rng = mulberry32(5);
  const x = randomFloatTensor(rng, [5, 2, 60], "float32");
  const w = randomFloatTensor(rng, [1100, 2, 3], "float32");
  const geometry = { input: [60], kernel: [3], stride: [1], padding: [1], dilation: [1] };
  const r = rules(geometry);
  const t = roleView(x, { batch: [1], rows: [0], contracted: [2], channels: [], taps: [3] }, 1, 1);
  const wv = roleView(w, { batch: [0], rows: [], contracted: [2], channels: [1], taps: [3] }, 1, 0);
  const grouped = implicitGemm(t, wv, r, "float32");
  const want = referenceConv(x, w, null, { padding: [1] });
  assert.equal(grouped.length, want.data.length);
  grouped.forEach((v, i) => assert.ok(Math.abs(v - want.data[i]) <= 1e-4, `entry ${i}`));
  for (const elements of [300, 1]) {
    const smaller = implicitGemm(t, wv, r, "float32", undefined, undefined, elements);
    assert.deepEqual(smaller, grouped, `staging ${elements} elements at a time`);
  }
});
