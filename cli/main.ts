/**
 * The einconv command line: `expr`, `path`, `dot`, `bench` and `demo`.
 *
 * ```bash
 * deno task cli expr conv --input 8,3,32,32 --kernel 3 --stride 2
 * deno task cli path kfc --input 8,16,32,32 --kernel 3 --padding 1
 * deno task cli dot conv --input 1,3,8,8 --kernel 3 --out conv2d.svg
 * ```
 *
 * @module
 */
import { UsageError } from "./_args.ts";
import { benchCommand } from "./_bench.ts";
import { dotCommand } from "./_dot.ts";
import { exprCommand } from "./_expr.ts";
import { type CliIo, processIo } from "./_io.ts";
import { pathCommand } from "./_path.ts";
import { runDemo } from "./demo.ts";

export type { CliIo } from "./_io.ts";

const COMMANDS: Record<string, (args: readonly string[], io: CliIo) => unknown> = {
  expr: exprCommand,
  path: pathCommand,
  dot: dotCommand,
  bench: benchCommand,
  demo: async (args, io) => {
    const status = await runDemo(args, io);
    if (status !== 0) throw new CheckFailed();
  },
};

/** Help of the CLI as a whole. */
const HELP = `Usage: deno task cli <command> [options]

Commands:
  expr <operation>   the einsum expression, unsimplified and simplified side by side
  path <operation>   the contraction plan: steps, FLOPs, largest intermediate, shards
  dot <operation>    the tensor network as Graphviz DOT and SVG files
  bench              the comparison benchmark (bench/compare.ts)
  demo               a two-layer CNN step, checked against direct loops

Operations: forward (conv), input-vjp, weight-vjp, unfold, kfc, kfac-reduce,
transpose-unfold, transpose-kfac-reduce, transpose-conv.
Run deno task cli <command> --help for a command's options.
`;

/** A failed check of the demo: its output already says why. */
class CheckFailed extends Error {}

/**
 * Runs the CLI on `args` (without the program name), writing to `io`, and returns the
 * exit status: 0 on success, 1 if the work failed, 2 for bad arguments (reported as one
 * line on stderr, never a stack trace).
 *
 * @param args The command line, e.g. `["expr", "conv", "--input", "8,3,32,32"]`.
 * @param io Where to write (default: the process's stdout and stderr).
 * @returns The exit status.
 *
 * @example Capturing the output of `expr`
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "@einconv/cli";
 *
 * let out = "";
 * const io = { stdout: (text: string) => (out += text), stderr: () => {} };
 * const status = await main(["expr", "unfold", "--input", "1,1,4", "--kernel", "2"], io);
 * assert.equal(status, 0);
 * assert.match(out, /equation/);
 * assert.equal(await main(["expr", "nonsense"], io), 2);
 * ```
 */
export async function main(args: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout(HELP);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  try {
    if (command === undefined) {
      throw new UsageError(
        `unknown command ${JSON.stringify(name)}, expected one of ${
          Object.keys(COMMANDS).join(", ")
        }`,
      );
    }
    await command(rest, io);
    return 0;
  } catch (error) {
    if (error instanceof CheckFailed) return 1;
    const message = error instanceof Error ? error.message : String(error);
    // The library's own validation errors ("Cannot read groups: …") are bad arguments too.
    const usage = error instanceof UsageError ||
      ((error instanceof TypeError || error instanceof RangeError) &&
        message.startsWith("Cannot "));
    const where = command === undefined ? "einconv" : `einconv ${name}`;
    io.stderr(`${where}: ${message.split("\n")[0]}\n`);
    return usage ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
