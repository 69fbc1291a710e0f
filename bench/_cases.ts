// The benchmark cases of issue 7 (layout NCHW, weights OIHW) and their cost arithmetic,
// written once for every runner of bench/compare.ts.

/** A convolution case: forward (`fwd`), input gradient (`dx`) or weight gradient (`dw`). */
export interface ConvCase {
  kind: "conv";
  name: string;
  description: string;
  op: "fwd" | "dx" | "dw";
  dtype: "float32" | "float64";
  batch: number;
  inChannels: number;
  outChannels: number;
  inputSize: number[];
  kernelSize: number[];
  stride: number[];
  padding: number[];
  dilation: number[];
  groups: number;
}

/** A square matrix product `n×n · n×n`. */
export interface GemmCase {
  kind: "gemm";
  name: string;
  description: string;
  dtype: "float32" | "float64";
  n: number;
}

/** One row of the comparison table. */
export type BenchCase = ConvCase | GemmCase;

type ConvFields = Omit<ConvCase, "kind" | "name" | "description" | "dtype" | "op">;

const caseA: ConvFields = {
  batch: 8,
  inChannels: 64,
  outChannels: 64,
  inputSize: [56, 56],
  kernelSize: [3, 3],
  stride: [1, 1],
  padding: [1, 1],
  dilation: [1, 1],
  groups: 1,
};

function conv(
  name: string,
  description: string,
  fields: Partial<ConvFields>,
  op: ConvCase["op"] = "fwd",
  dtype: ConvCase["dtype"] = "float32",
): ConvCase {
  return { kind: "conv", name, description, op, dtype, ...caseA, ...fields };
}

function gemmCase(n: number): GemmCase {
  return { kind: "gemm", name: `M${n}`, description: `matmul ${n}³`, dtype: "float32", n };
}

/** Every case, in table order; `A.f64` is case A in float64. */
export const CASES: readonly BenchCase[] = [
  conv("A", "conv2d N8 C64→64 56² k3 p1", {}),
  conv("B", "conv2d N8 C3→64 224² k7 s2 p3", {
    inChannels: 3,
    inputSize: [224, 224],
    kernelSize: [7, 7],
    stride: [2, 2],
    padding: [3, 3],
  }),
  conv("C", "conv2d N8 C256→256 14² k1", {
    inChannels: 256,
    outChannels: 256,
    inputSize: [14, 14],
    kernelSize: [1, 1],
    padding: [0, 0],
  }),
  conv("D", "depthwise N8 C64 g64 56² k3 p1", { groups: 64 }),
  conv("E", "conv3d N2 C16→32 32³ k3 p1", {
    batch: 2,
    inChannels: 16,
    outChannels: 32,
    inputSize: [32, 32, 32],
    kernelSize: [3, 3, 3],
    stride: [1, 1, 1],
    padding: [1, 1, 1],
    dilation: [1, 1, 1],
  }),
  conv("F", "conv1d N16 C64→64 L4096 k5 p2", {
    batch: 16,
    inputSize: [4096],
    kernelSize: [5],
    stride: [1],
    padding: [2],
    dilation: [1],
  }),
  conv("G.dx", "A backward: input gradient", {}, "dx"),
  conv("G.dw", "A backward: weight gradient", {}, "dw"),
  conv("H", "A with stride 2, dilation 2", { stride: [2, 2], dilation: [2, 2] }),
  conv("I", "conv2d N8 C512→512 7² k3 p1", {
    inChannels: 512,
    outChannels: 512,
    inputSize: [7, 7],
  }),
  gemmCase(512),
  gemmCase(1024),
  conv("A.f64", "A in float64", {}, "fwd", "float64"),
];

/** The cases `--quick` selects. */
export const QUICK_CASES: readonly string[] = ["A", "C", "M512"];

/**
 * Looks cases up by name, in the order given.
 *
 * @param names Case names such as `"A"` or `"M1024"`.
 * @returns The cases.
 * @throws {RangeError} If a name is unknown.
 */
export function selectCases(names: readonly string[]): BenchCase[] {
  return names.map((name) => {
    const found = CASES.find((c) => c.name === name);
    if (!found) {
      throw new RangeError(
        `Cannot read cases: expected names among ${
          CASES.map((c) => c.name).join(", ")
        }, got "${name}"`,
      );
    }
    return found;
  });
}

/** Product of the entries. */
export function product(values: readonly number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

/** The output's spatial size of a convolution case. */
export function outputSize(c: ConvCase): number[] {
  return c.inputSize.map((size, d) =>
    Math.floor(
      (size + 2 * c.padding[d] - c.dilation[d] * (c.kernelSize[d] - 1) - 1) / c.stride[d],
    ) +
    1
  );
}

/** Shapes of input `x`, weight `w` and output gradient `dy` of a convolution case. */
export function convShapes(c: ConvCase): { x: number[]; w: number[]; dy: number[] } {
  return {
    x: [c.batch, c.inChannels, ...c.inputSize],
    w: [c.outChannels, c.inChannels / c.groups, ...c.kernelSize],
    dy: [c.batch, c.outChannels, ...outputSize(c)],
  };
}

/** The shape of a case's result (canonical NCHW / OIHW layout). */
export function resultShape(c: BenchCase): number[] {
  if (c.kind === "gemm") return [c.n, c.n];
  const shapes = convShapes(c);
  return c.op === "fwd" ? shapes.dy : c.op === "dx" ? shapes.x : shapes.w;
}

/** FLOPs of one call: `2·N·C_out·prod(O)·C_in/G·prod(K)` (the same for all three ops), `2n³`. */
export function flops(c: BenchCase): number {
  if (c.kind === "gemm") return 2 * c.n ** 3;
  return 2 * c.batch * c.outChannels * product(outputSize(c)) * (c.inChannels / c.groups) *
    product(c.kernelSize);
}
