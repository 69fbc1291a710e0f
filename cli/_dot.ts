// `dot`: an operation's tensor network as Graphviz DOT and SVG files.
import { toDot } from "@einconv/expressions";
import { type OptionSpec, parseCommand } from "./_args.ts";
import type { CliIo } from "./_io.ts";
import { OPERATION_HELP, OPERATION_OPTIONS, readOperation } from "./_operations.ts";
import { renderSvg } from "./_render_svg.ts";

const OPTIONS: OptionSpec = { ...OPERATION_OPTIONS, out: { type: "string" } };

/** Help of `dot`. */
export const DOT_HELP = `Usage: deno task cli dot <operation> [options]

Writes the tensor network of an operation's (simplified) expression as Graphviz DOT and
as SVG (rendered by Graphviz compiled to WebAssembly): operands as nodes, index patterns
as orange boxes with their hyperparameters, indices as labelled edges, output indices
as dangling edges into the dashed output box.

Example: deno task cli dot conv --input 1,3,8,8 --kernel 3 --no-simplify --out docs/conv2d.svg

${OPERATION_HELP}
  --out PATH              where to write: PATH.svg and PATH.dot (a .svg or .dot ending is
                          replaced, a directory gets <operation>.svg/.dot; default ./<operation>)
`;

/** Runs `dot`. */
export async function dotCommand(args: readonly string[], io: CliIo): Promise<void> {
  const parsed = parseCommand(args, OPTIONS);
  if (parsed.values.help) return io.stdout(DOT_HELP);
  const request = readOperation(parsed);
  const { expression, inputs } = request.build(request.simplify);
  const dot = toDot(expression, {
    inputs,
    title: `${request.describe}${
      request.simplify ? "" : " (unsimplified)"
    }\n${expression.equation}`,
  });
  const base = await outputBase(parsed.values.out as string | undefined, request.operation);
  const svg = await renderSvg(dot);
  const directory = base.slice(0, base.lastIndexOf("/"));
  if (directory !== "" && directory !== ".") await Deno.mkdir(directory, { recursive: true });
  await Deno.writeTextFile(`${base}.dot`, dot);
  await Deno.writeTextFile(`${base}.svg`, svg);
  io.stdout(
    `wrote ${base}.dot and ${base}.svg (${expression.operands.length} operands, ${expression.equation})\n`,
  );
}

async function outputBase(out: string | undefined, operation: string): Promise<string> {
  if (out === undefined) return `./${operation}`;
  const isDirectory = await Deno.stat(out).then(
    (info) => info.isDirectory,
    (error) => {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    },
  );
  if (isDirectory || out.endsWith("/")) return `${out.replace(/\/+$/, "")}/${operation}`;
  return out.replace(/\.(svg|dot)$/, "");
}
