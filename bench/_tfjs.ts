// TensorFlow.js peers: the pure JavaScript `cpu` backend and the `wasm` backend (XNNPACK,
// one thread: its threaded build needs blob-URL workers, which Deno refuses). tfjs
// convolutions are channels-last (NHWC, NDHWC, NWC; filters HWIO), so inputs are transposed
// once before timing and results back to NCHW / OIHW for the cross-check only: the timings
// are for tfjs's own layout.
//
// The wasm backend's Node build (which Deno loads from npm) reads its .wasm file with `fs`
// from its own dist/ folder in the npm package: no network is involved.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { setThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import type { BenchCase, ConvCase } from "./_cases.ts";
import type { CaseInputs } from "./_inputs.ts";
import type { FlatResult, Preparation, Runner } from "./_runner.ts";

/** Calls of the cpu backend that take minutes each (issue 7 measured ~300 s for G.dw). */
const SLOW_ON_CPU = new Set(["G.dw"]);

let initialised = false;

function initialise(): void {
  if (initialised) return;
  initialised = true;
  tf.enableProdMode(); // silences tfjs's console hints; kernels are the same
  setThreadsCount(1);
}

/**
 * A tfjs backend as a runner.
 *
 * @param backend `"cpu"` or `"wasm"`.
 * @param slow Whether to run calls known to take minutes.
 */
export function tfjsRunner(backend: "cpu" | "wasm", slow: boolean): Runner {
  let failure: string | null = null;
  return {
    label: `tfjs-${backend} ×1`,
    ours: false,
    async activate() {
      initialise();
      if (failure === null && !(await tf.setBackend(backend))) {
        failure = `the ${backend} backend failed to initialise`;
      }
    },
    prepare(c, inputs) {
      if (failure !== null) return { refuses: failure };
      if (c.dtype !== "float32") return { absent: "float32 only" };
      if (backend === "cpu" && !slow && SLOW_ON_CPU.has(c.name)) {
        return { skipped: "one call takes minutes (--slow runs it)" };
      }
      return prepareCase(c, inputs);
    },
  };
}

function prepareCase(c: BenchCase, inputs: CaseInputs): Preparation {
  const owned: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => (owned.push(t), t);
  const load = (name: string, perm?: number[]): tf.Tensor => {
    const { data, shape } = inputs[name];
    const t = keep(tf.tensor(data, shape, "float32"));
    return perm ? keep(tf.transpose(t, perm)) : t;
  };
  let op: (() => tf.Tensor) | string;
  let backPerm: number[] | undefined;
  if (c.kind === "gemm") {
    const a = load("a"), b = load("b");
    op = () => tf.matMul(a, b);
  } else {
    const d = c.inputSize.length;
    const spatial = Array.from({ length: d }, (_, i) => i + 1);
    const toLast = [0, ...spatial.map((i) => i + 1), 1]; // N C … → N … C
    const toFirst = [0, d + 1, ...spatial]; // N … C → N C …
    const toHwio = [...spatial.map((i) => i + 1), 1, 0]; // O I … → … I O
    backPerm = c.op === "dw" ? [d + 1, d, ...spatial.map((i) => i - 1)] : toFirst;
    op = convOp(c, load, keep, { toLast, toHwio });
  }
  if (typeof op === "string") {
    owned.forEach((t) => t.dispose());
    return { refuses: op };
  }
  const call = op;
  let out: tf.Tensor | null = null;
  return {
    ready: {
      run() {
        out?.dispose();
        out = call();
      },
      result(): FlatResult {
        const canonical = backPerm ? tf.transpose(out!, backPerm) : out!;
        const data = canonical.dataSync() as Float32Array;
        const shape = canonical.shape;
        if (canonical !== out) canonical.dispose();
        return { shape, data };
      },
      dispose() {
        out?.dispose();
        owned.forEach((t) => t.dispose());
      },
    },
  };
}

/** The tfjs call of a convolution case, or why tfjs has none. */
function convOp(
  c: ConvCase,
  load: (name: string, perm?: number[]) => tf.Tensor,
  keep: <T extends tf.Tensor>(t: T) => T,
  perms: { toLast: number[]; toHwio: number[] },
): (() => tf.Tensor) | string {
  const d = c.inputSize.length;
  const depthwise = c.groups > 1 && c.groups === c.inChannels;
  if (c.groups > 1 && !depthwise) return "no grouped convolution (only depthwise)";
  if (c.op !== "fwd" && (d !== 2 || depthwise)) return "no such gradient op";
  const same = c.stride.every((s) => s === 1) &&
    c.padding.every((p, i) => 2 * p === c.dilation[i] * (c.kernelSize[i] - 1));
  const valid = c.padding.every((p) => p === 0);
  const x = () => load("x", perms.toLast);
  const w = () => load("w", perms.toHwio);
  const dy = () => load("dy", perms.toLast);
  if (d === 1) {
    // a numeric pad also pads conv1d's internal dummy axis: only "same" and "valid" are safe
    if (!same && !valid) return "conv1d padding other than 'same' or 'valid'";
    const [x3, w3] = [x() as tf.Tensor3D, w() as tf.Tensor3D];
    return () => tf.conv1d(x3, w3, c.stride[0], same ? "same" : "valid", "NWC", c.dilation[0]);
  }
  if (d === 3) {
    if (depthwise) return "depthwise only in 2-d";
    if (!same && !valid) return "conv3d takes padding 'same' or 'valid' only";
    const [x5, w5] = [x() as tf.Tensor5D, w() as tf.Tensor5D];
    const strides = c.stride as [number, number, number];
    const dilations = c.dilation as [number, number, number];
    return () => tf.conv3d(x5, w5, strides, same ? "same" : "valid", "NDHWC", dilations);
  }
  if (d !== 2) return `no ${d}-d convolution`;
  const [ph, pw] = c.padding;
  const pad = ph === pw
    ? ph
    : [[0, 0], [ph, ph], [pw, pw], [0, 0]] as tf.backend_util.ExplicitPadding;
  const strides = c.stride as [number, number];
  const dilations = c.dilation as [number, number];
  if (c.op === "fwd" && depthwise) {
    // OIHW [C·m, 1, kh, kw] → [C, m, kh, kw] → [kh, kw, C, m]
    const grouped = keep(
      tf.reshape(load("w"), [c.inChannels, c.outChannels / c.inChannels, ...c.kernelSize]),
    );
    const w4 = keep(tf.transpose(grouped, [2, 3, 0, 1])) as tf.Tensor4D;
    const x4 = x() as tf.Tensor4D;
    return () => tf.depthwiseConv2d(x4, w4, strides, pad, "NHWC", dilations);
  }
  if (c.op === "fwd") {
    const [x4, w4] = [x() as tf.Tensor4D, w() as tf.Tensor4D];
    return () => tf.conv2d(x4, w4, strides, pad, "NHWC", dilations);
  }
  if (dilations.some((v) => v !== 1)) return "no dilated gradient op";
  if (c.op === "dx") {
    const outShape = [c.batch, ...c.inputSize, c.inChannels] as [number, number, number, number];
    const [w4, dy4] = [w() as tf.Tensor4D, dy() as tf.Tensor4D];
    return () => tf.conv2dTranspose(dy4, w4, outShape, strides, pad);
  }
  const [x4, dy4] = [x(), dy()];
  const attrs = {
    strides,
    pad,
    dataFormat: "NHWC",
    filterShape: [...c.kernelSize, c.inChannels, c.outChannels],
  };
  // no public op: this is the kernel tf.grad runs for conv2d's weight
  return () =>
    tf.engine().runKernel(
      tf.Conv2DBackpropFilter,
      { x: x4, dy: dy4 },
      attrs as unknown as tf.NamedAttrMap,
    ) as tf.Tensor;
}
