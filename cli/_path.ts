// `path`: the contraction plan of an operation's expression.
import { contractPath } from "@einconv/runtime";
import { describeOperands } from "@einconv/expressions";
import { type OptionSpec, parseCommand, readChoice, readIntegers } from "./_args.ts";
import { formatFlops } from "./_expr.ts";
import type { CliIo } from "./_io.ts";
import { OPERATION_HELP, OPERATION_OPTIONS, readOperation } from "./_operations.ts";

const STRATEGIES = ["auto", "optimal", "greedy", "naive"] as const;

const OPTIONS: OptionSpec = {
  ...OPERATION_OPTIONS,
  workers: { type: "string" },
  optimize: { type: "string" },
};

/** Help of `path`. */
export const PATH_HELP = `Usage: deno task cli path <operation> [options]

Prints the contraction plan of an operation's (simplified) expression: its operands,
the pairwise steps with their FLOPs, naive and planned FLOP counts, the largest
intermediate, and how the worker pool would shard it.

Example: deno task cli path kfc --input 8,16,32,32 --kernel 3 --padding 1 --workers 4

${OPERATION_HELP}
  --workers N             workers to plan shards for (default: ${navigator.hardwareConcurrency}, the CPU count)
  --optimize S            planner: ${STRATEGIES.join(", ")} (default auto)
`;

/** Runs `path`. */
export function pathCommand(args: readonly string[], io: CliIo): void {
  const parsed = parseCommand(args, OPTIONS);
  if (parsed.values.help) return io.stdout(PATH_HELP);
  const request = readOperation(parsed);
  const v = parsed.values as Record<string, string | undefined>;
  const workers = v.workers === undefined
    ? navigator.hardwareConcurrency
    : readIntegers("workers", v.workers, 0)[0];
  const optimize = readChoice("--optimize", v.optimize ?? "auto", STRATEGIES);
  const { expression, inputs } = request.build(request.simplify);
  const operands = describeOperands(expression, { inputs });
  const plan = contractPath(expression.equation, ...expression.operands, { workers, optimize });
  const lines = [
    `${request.describe} (${request.simplify ? "simplified" : "unsimplified"})`,
    "",
    `Operands: ${operands.map((o) => `${o.position} ${o.name} ${o.indices.join("")}`).join(", ")}`,
    `Workers:  ${workers}`,
  ];
  if (request.simplify) {
    const built = request.build(false).expression;
    const unsimplified = contractPath(built.equation, ...built.operands, { optimize });
    lines.push(
      `Simplification: ${built.operands.length} → ${expression.operands.length} operands, ${
        formatFlops(unsimplified.flops)
      } → ${formatFlops(plan.flops)} planned FLOPs`,
    );
  }
  io.stdout(`${lines.join("\n")}\n\n${plan.toString()}\n`);
}
