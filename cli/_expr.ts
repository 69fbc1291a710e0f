// `expr`: an operation's einsum expression, unsimplified and simplified side by side.
import { contractPath } from "@einconv/runtime";
import { describeOperands } from "@einconv/expressions";
import { parseCommand } from "./_args.ts";
import type { CliIo } from "./_io.ts";
import {
  type BuiltOperation,
  OPERATION_HELP,
  OPERATION_OPTIONS,
  readOperation,
} from "./_operations.ts";

/** Help of `expr`. */
export const EXPR_HELP = `Usage: deno task cli expr <operation> [options]

Prints the einsum expression of an operation: the equation, every operand (name,
indices, shape; index patterns with their hyperparameters), the einsum's output and
the shape it is reshaped to, and the planned FLOPs, as built and simplified side by side.

Example: deno task cli expr conv --input 8,3,32,32 --kernel 3 --stride 2

${OPERATION_HELP}
`;

/** Runs `expr`. */
export function exprCommand(args: readonly string[], io: CliIo): void {
  const parsed = parseCommand(args, OPERATION_OPTIONS);
  if (parsed.values.help) return io.stdout(EXPR_HELP);
  const request = readOperation(parsed);
  const columns = [{ title: "unsimplified", built: request.build(false) }];
  if (request.simplify) columns.push({ title: "simplified", built: request.build(true) });
  const cells = columns.map(({ built }) => expressionCells(built));
  const labels = [...new Set(cells.flatMap((rows) => rows.map(([label]) => label)))];
  const table = [["", ...columns.map(({ title }) => title)]];
  for (const label of labels) {
    table.push([label, ...cells.map((rows) => rows.find(([name]) => name === label)?.[1] ?? "")]);
  }
  io.stdout(`${request.describe}\n\n${formatTable(table)}\n`);
}

/** The rows of one expression: `[label, text]`. */
function expressionCells({ expression, inputs }: BuiltOperation): [string, string][] {
  const operands = describeOperands(expression, { inputs });
  const sizes = new Map<string, number>();
  for (const o of operands) o.indices.forEach((index, d) => sizes.set(index, o.shape[d]));
  const output = [...(expression.equation.split("->")[1] ?? "")];
  const plan = contractPath(expression.equation, ...expression.operands);
  return [
    ["equation", expression.equation],
    ...operands.map((o): [string, string] => {
      const shape = o.pattern === undefined
        ? `[${o.shape.join(", ")}]`
        : `[K=${o.pattern.kernelSize}, O=${o.pattern.outputSize}, I=${o.pattern.inputSize}]`;
      const extra = o.pattern !== undefined
        ? `  stride ${o.pattern.stride}, padding ${o.pattern.paddingLeft}+${o.pattern.paddingRight}, dilation ${o.pattern.dilation}`
        : o.value !== undefined
        ? `  = ${Number(o.value.toPrecision(6))}`
        : "";
      return [
        `operand ${o.position}`,
        `${o.name.padEnd(7)}${o.indices.join("").padEnd(8)}${shape}${extra}`,
      ];
    }),
    [
      "einsum output",
      `${"".padEnd(7)}${output.join("").padEnd(8)}[${output.map((i) => sizes.get(i)).join(", ")}]`,
    ],
    ["output shape", `[${expression.shape.join(", ")}]`],
    ["FLOPs", `${formatFlops(plan.flops)} planned, ${formatFlops(plan.naiveFlops)} naive`],
  ];
}

/** Left-aligned columns separated by two spaces. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) =>
    row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]))).join("  ")
      .trimEnd()
  ).join("\n");
}

/** A FLOP count in engineering style (`1.23e+9`), exact below 10⁵. */
export function formatFlops(value: number): string {
  return value < 1e5 ? String(value) : value.toExponential(2);
}
