// The operations the CLI can show, each building its expression from one command line's
// shapes and hyperparameters through the public API.
import { type NdArray, zeros } from "@einconv/runtime";
import * as expressions from "@einconv/expressions";
import {
  type OptionSpec,
  type ParsedCommand,
  readChoice,
  readIntegers,
  readIntOrTuple,
  readPadding,
  UsageError,
} from "./_args.ts";

/** The operations, each with its aliases. */
export const OPERATIONS = {
  forward: { aliases: ["conv"], summary: "convolution forward pass (x, weight)" },
  "input-vjp": { aliases: [], summary: "gradient w.r.t. the input (weight, v)" },
  "weight-vjp": { aliases: [], summary: "gradient w.r.t. the weight (x, v)" },
  unfold: { aliases: [], summary: "im2col (x)" },
  kfc: { aliases: [], summary: "KFC Kronecker factor (x)" },
  "kfac-reduce": { aliases: [], summary: "KFAC-reduce Kronecker factor (x)" },
  "transpose-unfold": { aliases: [], summary: "unfold of a transpose convolution (x)" },
  "transpose-kfac-reduce": {
    aliases: [],
    summary: "KFAC-reduce factor of a transpose convolution (x)",
  },
  "transpose-conv": {
    aliases: ["conv-transpose"],
    summary: "transpose convolution (x, weight)",
  },
} as const;

/** An operation's canonical name. */
export type Operation = keyof typeof OPERATIONS;

/** The options shared by `expr`, `path` and `dot`. */
export const OPERATION_OPTIONS: OptionSpec = {
  input: { type: "string" },
  kernel: { type: "string" },
  stride: { type: "string" },
  padding: { type: "string" },
  dilation: { type: "string" },
  groups: { type: "string" },
  "out-channels": { type: "string" },
  "output-padding": { type: "string" },
  dtype: { type: "string" },
  "no-simplify": { type: "boolean" },
};

/** Help text for {@linkcode OPERATION_OPTIONS} and the operations. */
export const OPERATION_HELP = `Operations:
${
  Object.entries(OPERATIONS).map(([name, { aliases, summary }]) =>
    `  ${[name, ...aliases].join(", ").padEnd(24)}${summary}`
  ).join("\n")
}

Options:
  --input B,C,I1,...      shape of the operation's input x (default 8,3,32,32)
  --kernel K[,K2,...]     kernel size, one or one per spatial dimension (default 3)
  --stride S[,...]        stride (default 1)
  --padding P[,...]       padding: integers, same or valid (default 0)
  --dilation D[,...]      dilation (default 1)
  --groups G              channel groups (default 1)
  --out-channels C        output channels of the weight (default: input channels)
  --output-padding P      output padding of the transpose operations (default 0)
  --dtype T               float32 (default) or float64
  --no-simplify           only the expression as built, without simplification
  -h, --help              this help`;

/** An operation's expression with the tensors it was built from, by name. */
export interface BuiltOperation {
  operation: Operation;
  expression: expressions.Expression;
  inputs: Record<string, NdArray>;
}

/** What a command line asks to build. */
export interface OperationRequest {
  operation: Operation;
  /** Hyperparameters as given (left out where the user gave none). */
  describe: string;
  build(simplify: boolean): BuiltOperation;
  simplify: boolean;
}

/** Reads the operation (first positional) and its options. */
export function readOperation(parsed: ParsedCommand): OperationRequest {
  const [name, ...extra] = parsed.positionals;
  if (name === undefined) {
    throw new UsageError(`missing the operation (one of ${operationNames()})`);
  }
  if (extra.length > 0) {
    throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  }
  const operation = (Object.keys(OPERATIONS) as Operation[]).find((key) =>
    key === name || (OPERATIONS[key].aliases as readonly string[]).includes(name)
  );
  if (operation === undefined) {
    throw new UsageError(
      `unknown operation ${JSON.stringify(name)}, expected one of ${operationNames()}`,
    );
  }
  const v = parsed.values as Record<string, string | undefined>;
  const input = readIntegers("input", v.input ?? "8,3,32,32", 1);
  if (input.length < 3) {
    throw new UsageError(
      `--input: expected a shape [batch, channels, ...spatial] of 3 or more sizes, got ${
        JSON.stringify(v.input)
      }`,
    );
  }
  const dtype = readChoice("--dtype", v.dtype ?? "float32", ["float32", "float64"] as const);
  const kernel = readIntOrTuple("kernel", v.kernel ?? "3", 1);
  const options: Record<string, unknown> = {};
  if (v.stride !== undefined) options.stride = readIntOrTuple("stride", v.stride, 1);
  if (v.padding !== undefined) options.padding = readPadding(v.padding);
  if (v.dilation !== undefined) options.dilation = readIntOrTuple("dilation", v.dilation, 1);
  if (v.groups !== undefined) options.groups = readIntegers("groups", v.groups, 1)[0];
  if (v["output-padding"] !== undefined) {
    options.outputPadding = readIntOrTuple("output-padding", v["output-padding"], 0);
  }
  const outChannels = v["out-channels"] === undefined
    ? input[1]
    : readIntegers("out-channels", v["out-channels"], 1)[0];
  const hyperparameters = Object.entries({ kernel, ...options })
    .map(([key, value]) => `${key}=${Array.isArray(value) ? `[${value}]` : value}`).join(", ");
  return {
    operation,
    describe: `${operation}: input [${input.join(", ")}], ${hyperparameters}`,
    simplify: parsed.values["no-simplify"] !== true,
    build: (simplify) => ({
      operation,
      ...buildExpression(operation, {
        x: zeros(input, dtype),
        kernel,
        outChannels,
        options: { ...options, simplify },
      }),
    }),
  };
}

function operationNames(): string {
  return Object.keys(OPERATIONS).join(", ");
}

interface BuildArguments {
  x: NdArray;
  kernel: expressions.IntOrTuple;
  outChannels: number;
  options: Record<string, unknown>;
}

function buildExpression(
  operation: Operation,
  { x, kernel, outChannels, options }: BuildArguments,
): { expression: expressions.Expression; inputs: Record<string, NdArray> } {
  const [, channels, ...spatial] = x.shape;
  const dtype = x.data instanceof Float64Array ? "float64" : "float32";
  const kernelSize = typeof kernel === "number" ? spatial.map(() => kernel) : kernel;
  const groups = (options.groups as number | undefined) ?? 1;
  const weight = () =>
    zeros([outChannels, Math.max(1, Math.floor(channels / groups)), ...kernelSize], dtype);
  switch (operation) {
    case "forward": {
      const w = weight();
      return { expression: expressions.convForward(x, w, options), inputs: { x, weight: w } };
    }
    case "input-vjp": {
      const w = weight();
      const v = zeros(expressions.convForward(x, w, options).shape, dtype);
      return {
        expression: expressions.convInputVjp(w, v, spatial, options),
        inputs: { weight: w, v },
      };
    }
    case "weight-vjp": {
      const v = zeros(expressions.convForward(x, weight(), options).shape, dtype);
      return { expression: expressions.convWeightVjp(x, v, kernel, options), inputs: { x, v } };
    }
    case "unfold":
      return { expression: expressions.convUnfold(x, kernel, options), inputs: { x } };
    case "kfc":
      return { expression: expressions.convKfc(x, kernel, options), inputs: { x } };
    case "kfac-reduce":
      return { expression: expressions.convKfacReduce(x, kernel, options), inputs: { x } };
    case "transpose-unfold":
      return { expression: expressions.convTransposeUnfold(x, kernel, options), inputs: { x } };
    case "transpose-kfac-reduce":
      return {
        expression: expressions.convTransposeKfacReduce(x, kernel, options),
        inputs: { x },
      };
    case "transpose-conv": {
      const w = zeros(
        [channels, Math.max(1, Math.floor(outChannels / groups)), ...kernelSize],
        dtype,
      );
      return { expression: expressions.convTranspose(x, w, options), inputs: { x, weight: w } };
    }
  }
}
