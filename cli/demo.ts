/**
 * The Quick-start demo (`deno task demo`): one training step of a small two-layer CNN
 * with `ConvNd` — forward, ReLU, forward, backward — and the KFC and KFAC-reduce factors
 * of both layers, checked against direct nested loops, timed with and without workers,
 * and the first layer's tensor network written as an SVG diagram.
 *
 * @module
 */
import { contractPath, maxRelativeError, type NdArray, tensor } from "@einconv/runtime";
import * as expressions from "@einconv/expressions";
import { ConvNd, kfacReduce, kfc } from "@einconv/nn";
import { configureWorkers, shutdownWorkers } from "@einconv/workers";
import { parseCommand, readIntegers } from "./_args.ts";
import { type CliIo, processIo } from "./_io.ts";
import { renderSvg } from "./_render_svg.ts";

/** Help of the demo. */
export const DEMO_HELP = `Usage: deno task demo [--batch B] [--size S] [--out FILE]

One step of a two-layer CNN (3 → 8 → 4 channels, 3×3 kernels, the second with stride 2)
on a [B, 3, S, S] input: forward and backward with ConvNd, the KFC and KFAC-reduce
factors of both layers, the einsum equations behind them, a check against direct
nested loops, the time on the calling thread and on the worker pool, and the first
layer's tensor network as an SVG diagram.

Options:
  --batch B      batch size (default 2)
  --size S       input height and width (default 16)
  --out FILE     where to write the diagram (default demo.svg, else a temporary directory)
  -h, --help     this help
`;

/** The layers: PyTorch-style hyperparameters of the two convolutions. */
const LAYERS = [
  { inChannels: 3, outChannels: 8, kernelSize: [3, 3], stride: 1, padding: 1 },
  { inChannels: 8, outChannels: 4, kernelSize: [3, 3], stride: 2, padding: 1 },
] as const;

const TOLERANCE = 1e-4;

/** What one step computes. */
interface StepResults {
  inputs: NdArray[];
  outputs: NdArray[];
  gradients: { input: NdArray; weight: NdArray; bias: NdArray | null }[];
  kfc: NdArray[];
  kfacReduce: NdArray[];
}

/**
 * Runs the demo and returns the exit status: 0 if every check passed, 1 if one failed,
 * 2 for bad arguments.
 *
 * @param args Command-line options (`--batch`, `--size`, `--out`, `--help`).
 * @param io Where to write (default: the process's stdout and stderr).
 * @returns The exit status.
 *
 * @example The help text
 * ```ts
 * import assert from "node:assert/strict";
 * import { runDemo } from "@einconv/cli";
 *
 * let out = "";
 * const io = { stdout: (text: string) => (out += text), stderr: () => {} };
 * assert.equal(await runDemo(["--help"], io), 0);
 * assert.match(out, /two-layer CNN/);
 * ```
 */
export async function runDemo(
  args: readonly string[] = [],
  io: CliIo = processIo(),
): Promise<number> {
  const parsed = parseCommand(args, {
    batch: { type: "string" },
    size: { type: "string" },
    out: { type: "string" },
  });
  if (parsed.values.help) {
    io.stdout(DEMO_HELP);
    return 0;
  }
  const v = parsed.values as Record<string, string | undefined>;
  const batch = readIntegers("batch", v.batch ?? "2", 1)[0];
  const size = readIntegers("size", v.size ?? "16", 3)[0];
  const say = (line = "") => io.stdout(`${line}\n`);

  const x = sample([batch, LAYERS[0].inChannels, size, size], 1);
  const layers = LAYERS.map((layer, at) =>
    new ConvNd({ ...layer, kernelSize: [...layer.kernelSize], seed: at + 1 })
  );
  say(`Two-layer CNN on x [${x.shape.join(", ")}] (float32):`);
  LAYERS.forEach((l, at) =>
    say(
      `  conv${
        at + 1
      }: ${l.inChannels} → ${l.outChannels} channels, kernel 3×3, stride ${l.stride}, padding ${l.padding}${
        at === 0 ? ", then ReLU" : ""
      }`,
    )
  );

  configureWorkers({ count: 0 });
  const results = await step(layers, x);

  say("\nEinsum equations (from the expression builders, simplified):");
  const used = usedExpressions(layers, results);
  for (const { label, expression } of used) say(`  ${label.padEnd(24)}${expression.equation}`);

  say(`\nChecks against direct nested loops (max relative error, tolerance ${TOLERANCE}):`);
  const checks = referenceChecks(layers, results);
  let failed = 0;
  for (const { label, error } of checks) {
    const ok = error < TOLERANCE;
    if (!ok) failed++;
    say(`  ${ok ? "ok  " : "FAIL"} ${label.padEnd(32)}${error.toExponential(2)}`);
  }

  say("\nTime of one step (forward, backward, KFC and KFAC-reduce of both layers):");
  const sequential = await timeSteps(layers, x);
  const workers = navigator.hardwareConcurrency;
  configureWorkers();
  const pooled = await timeSteps(layers, x);
  shutdownWorkers();
  const sharded =
    used.filter(({ expression }) =>
      contractPath(expression.equation, ...expression.operands, { workers }).shards
    ).length;
  say(`  ${"calling thread only: configureWorkers({ count: 0 })".padEnd(54)}${ms(sequential)}`);
  say(`  ${`worker pool: configureWorkers(), ${workers} workers`.padEnd(54)}${ms(pooled)}`);
  say(
    `  ${sharded} of ${used.length} contractions are large enough to shard (10⁷ FLOPs and up)` +
      (sharded === 0 ? "; try --batch 32 --size 64" : ""),
  );

  const forward = used[0].expression;
  const where = await writeDiagram(
    expressions.toDot(forward, {
      inputs: { x, weight: layers[0].weight },
      title: `conv1 forward (simplified): ${forward.equation}`,
    }),
    v.out ?? "demo.svg",
  );
  say(`\nDiagram of conv1's forward tensor network: ${where}`);

  if (failed > 0) {
    say(`\ndemo check FAILED: ${failed} of ${checks.length} results differ from the reference`);
    return 1;
  }
  say(`\ndemo check passed: ${checks.length} results match the reference`);
  return 0;
}

/** Forward, ReLU, forward, backward of ½‖y‖², and the Kronecker factors. */
async function step(layers: ConvNd[], x: NdArray): Promise<StepResults> {
  const y1 = await layers[0].forward(x);
  const a1 = map(y1, (value) => Math.max(value, 0));
  const y2 = await layers[1].forward(a1);
  const g2 = await layers[1].backward(a1, y2);
  const gy1 = map(g2.input, (value, at) => (y1.data[at] > 0 ? value : 0));
  const g1 = await layers[0].backward(x, gy1);
  const inputs = [x, a1];
  const options = LAYERS.map((l) => ({ stride: l.stride, padding: l.padding }));
  return {
    inputs,
    outputs: [y1, y2],
    gradients: [g1, g2],
    kfc: await Promise.all(inputs.map((input, at) => kfc(input, 3, options[at]))),
    kfacReduce: await Promise.all(inputs.map((input, at) => kfacReduce(input, 3, options[at]))),
  };
}

/** The expressions behind the step, as the builders write them. */
function usedExpressions(
  layers: ConvNd[],
  results: StepResults,
): { label: string; expression: expressions.Expression }[] {
  return LAYERS.flatMap((l, at) => {
    const options = { stride: l.stride, padding: l.padding };
    const input = results.inputs[at];
    const v = results.outputs[at];
    const name = `conv${at + 1}`;
    return [
      {
        label: `${name} forward`,
        expression: expressions.convForward(input, layers[at].weight, options),
      },
      {
        label: `${name} input VJP`,
        expression: expressions.convInputVjp(layers[at].weight, v, input.shape.slice(2), options),
      },
      { label: `${name} weight VJP`, expression: expressions.convWeightVjp(input, v, 3, options) },
      { label: `${name} KFC`, expression: expressions.convKfc(input, 3, options) },
      { label: `${name} KFAC-reduce`, expression: expressions.convKfacReduce(input, 3, options) },
    ];
  });
}

/** Compares every result with the direct loops below. */
function referenceChecks(layers: ConvNd[], r: StepResults): { label: string; error: number }[] {
  // The gradients each layer received: ½‖y2‖² gives y2, and the ReLU passes the second
  // layer's input gradient where y1 > 0.
  const gradOutputs = [
    map(r.gradients[1].input, (value, at) => (r.outputs[0].data[at] > 0 ? value : 0)),
    r.outputs[1],
  ];
  return LAYERS.flatMap(({ stride, padding }, at) => {
    const name = `conv${at + 1}`;
    const [input, weight, got] = [r.inputs[at], layers[at].weight, r.gradients[at]];
    const forward = directConv(input, weight, layers[at].bias, stride, padding);
    const grads = directConvBackward(input, weight, gradOutputs[at], stride, padding);
    const columns = directUnfold(input, stride, padding);
    return [
      { label: `${name} forward`, error: maxRelativeError(r.outputs[at], forward) },
      { label: `${name} gradient w.r.t. input`, error: maxRelativeError(got.input, grads.input) },
      {
        label: `${name} gradient w.r.t. weight`,
        error: maxRelativeError(got.weight, grads.weight),
      },
      { label: `${name} gradient w.r.t. bias`, error: maxRelativeError(got.bias!, grads.bias) },
      { label: `${name} KFC (via unfold)`, error: maxRelativeError(r.kfc[at], kfcOf(columns)) },
      {
        label: `${name} KFAC-reduce (via unfold)`,
        error: maxRelativeError(r.kfacReduce[at], kfacReduceOf(columns)),
      },
    ];
  });
}

/** Median time of five steps after two warm-up steps, in milliseconds. */
async function timeSteps(layers: ConvNd[], x: NdArray): Promise<number> {
  const times: number[] = [];
  for (let run = -2; run < 5; run++) {
    const start = performance.now();
    await step(layers, x);
    if (run >= 0) times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[2];
}

function ms(value: number): string {
  return `${value.toFixed(1).padStart(9)} ms`;
}

/** Writes the SVG to `path`, or into a temporary directory if that fails. */
async function writeDiagram(dot: string, path: string): Promise<string> {
  const svg = await renderSvg(dot);
  try {
    await Deno.writeTextFile(path, svg);
    return path;
  } catch {
    try {
      const file = `${await Deno.makeTempDir({ prefix: "einconv-demo-" })}/demo.svg`;
      await Deno.writeTextFile(file, svg);
      return file;
    } catch (error) {
      return `not written (${(error as Error).message.split("\n")[0]})`;
    }
  }
}

/** A deterministic float32 tensor of the given shape with values in [-1, 1). */
function sample(shape: number[], seed: number): NdArray {
  let state = seed;
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 1073741824 - 1;
  });
  return tensor(data, { shape });
}

/** A new tensor of `x`'s shape and dtype with `f` applied elementwise (x contiguous). */
function map(x: NdArray, f: (value: number, at: number) => number): NdArray {
  const data = x.data instanceof Float64Array ? new Float64Array(x.size) : new Float32Array(x.size);
  for (let at = 0; at < x.size; at++) data[at] = f(x.data[x.offset + at], at);
  return tensor(data, { shape: [...x.shape] });
}

// The reference: direct nested loops over 2-d convolutions with square 3×3 kernels,
// stride and zero padding, accumulated in float64. Input x[n, c, h, w], weight
// w[d, c, p, q], output y[n, d, i, j] with input row i·stride + p − padding.

function outputSize(size: number, stride: number, padding: number): number {
  return Math.floor((size + 2 * padding - 3) / stride) + 1;
}

/** Visits every (n, d, c, i, j, p, q) whose input position lies inside x. */
function eachTap(
  xShape: readonly number[],
  outChannels: number,
  stride: number,
  padding: number,
  visit: (
    n: number,
    d: number,
    c: number,
    i: number,
    j: number,
    h: number,
    w: number,
    p: number,
    q: number,
  ) => void,
): void {
  const [batch, channels, height, width] = xShape;
  const [oh, ow] = [outputSize(height, stride, padding), outputSize(width, stride, padding)];
  for (let n = 0; n < batch; n++) {
    for (let d = 0; d < outChannels; d++) {
      for (let c = 0; c < channels; c++) {
        for (let i = 0; i < oh; i++) {
          for (let j = 0; j < ow; j++) {
            for (let p = 0; p < 3; p++) {
              for (let q = 0; q < 3; q++) {
                const h = i * stride + p - padding;
                const w = j * stride + q - padding;
                if (h >= 0 && h < height && w >= 0 && w < width) visit(n, d, c, i, j, h, w, p, q);
              }
            }
          }
        }
      }
    }
  }
}

function directConv(
  x: NdArray,
  weight: NdArray,
  bias: NdArray | null,
  stride: number,
  padding: number,
): NdArray {
  const [batch, , height, width] = x.shape;
  const outChannels = weight.shape[0];
  const [oh, ow] = [outputSize(height, stride, padding), outputSize(width, stride, padding)];
  const y = new Float64Array(batch * outChannels * oh * ow);
  for (let n = 0; n < batch; n++) {
    for (let d = 0; d < outChannels; d++) {
      y.fill(
        bias?.get(d) ?? 0,
        (n * outChannels + d) * oh * ow,
        (n * outChannels + d + 1) * oh * ow,
      );
    }
  }
  eachTap(x.shape, outChannels, stride, padding, (n, d, c, i, j, h, w, p, q) => {
    y[((n * outChannels + d) * oh + i) * ow + j] += x.get(n, c, h, w) * weight.get(d, c, p, q);
  });
  return tensor(y, { shape: [batch, outChannels, oh, ow] });
}

function directConvBackward(
  x: NdArray,
  weight: NdArray,
  gradOutput: NdArray,
  stride: number,
  padding: number,
): { input: NdArray; weight: NdArray; bias: NdArray } {
  const [, channels, height, width] = x.shape;
  const outChannels = weight.shape[0];
  const gx = new Float64Array(x.size);
  const gw = new Float64Array(weight.size);
  const gb = new Float64Array(outChannels);
  eachTap(x.shape, outChannels, stride, padding, (n, d, c, i, j, h, w, p, q) => {
    const g = gradOutput.get(n, d, i, j);
    gx[((n * channels + c) * height + h) * width + w] += g * weight.get(d, c, p, q);
    gw[((d * channels + c) * 3 + p) * 3 + q] += g * x.get(n, c, h, w);
  });
  const [batch, , oh, ow] = gradOutput.shape;
  for (let n = 0; n < batch; n++) {
    for (let d = 0; d < outChannels; d++) {
      for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) gb[d] += gradOutput.get(n, d, i, j);
    }
  }
  return {
    input: tensor(gx, { shape: [...x.shape] }),
    weight: tensor(gw, { shape: [...weight.shape] }),
    bias: tensor(gb, { shape: [outChannels] }),
  };
}

/** Unfolded input per sample: `columns[n][(c·3 + p)·3 + q][i·ow + j]`. */
function directUnfold(x: NdArray, stride: number, padding: number): number[][][] {
  const [batch, channels, height, width] = x.shape;
  const [oh, ow] = [outputSize(height, stride, padding), outputSize(width, stride, padding)];
  const columns = Array.from(
    { length: batch },
    () => Array.from({ length: channels * 9 }, () => new Array(oh * ow).fill(0)),
  );
  eachTap(x.shape, 1, stride, padding, (n, _d, c, i, j, h, w, p, q) => {
    columns[n][(c * 3 + p) * 3 + q][i * ow + j] = x.get(n, c, h, w);
  });
  return columns;
}

/** KFC: `1/B · Σ_n U_n U_nᵀ`, as a `[1, CK², CK²]` tensor (one group). */
function kfcOf(columns: number[][][]): NdArray {
  const rows = columns[0].length;
  const factor = new Float64Array(rows * rows);
  for (const u of columns) {
    for (let a = 0; a < rows; a++) {
      for (let b = 0; b < rows; b++) {
        let sum = 0;
        for (let o = 0; o < u[a].length; o++) sum += u[a][o] * u[b][o];
        factor[a * rows + b] += sum / columns.length;
      }
    }
  }
  return tensor(factor, { shape: [1, rows, rows] });
}

/** KFAC-reduce: `1/(B·P²) · Σ_n (U_n 1)(U_n 1)ᵀ` with P output positions. */
function kfacReduceOf(columns: number[][][]): NdArray {
  const rows = columns[0].length;
  const positions = columns[0][0].length;
  const factor = new Float64Array(rows * rows);
  for (const u of columns) {
    const sums = u.map((row) => row.reduce((a, b) => a + b, 0));
    for (let a = 0; a < rows; a++) {
      for (let b = 0; b < rows; b++) {
        factor[a * rows + b] += (sums[a] * sums[b]) / (columns.length * positions * positions);
      }
    }
  }
  return tensor(factor, { shape: [1, rows, rows] });
}

if (import.meta.main) Deno.exit(await runDemo(Deno.args));
