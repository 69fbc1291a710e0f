// `bench`: the comparison benchmark of bench/compare.ts, loaded only when asked for.
import { type OptionSpec, parseCommand } from "./_args.ts";
import type { CliIo } from "./_io.ts";

const OPTIONS: OptionSpec = { cases: { type: "string" }, quick: { type: "boolean" } };

/** Help of `bench`. */
export const BENCH_HELP = `Usage: deno task cli bench [--cases A,C,M1024] [--quick]

Runs the comparison benchmark (bench/compare.ts) with a progress bar and prints its table.

Options:
  --cases LIST            comma-separated case names (default: all)
  --quick                 a short timing budget per case
  -h, --help              this help
`;

/** What the CLI needs of bench/compare.ts. */
interface ComparisonModule {
  runComparison(options: { cases?: string[]; quick?: boolean }): Promise<{ table: string }>;
}

/** Runs `bench`. */
export async function benchCommand(args: readonly string[], io: CliIo): Promise<void> {
  const parsed = parseCommand(args, OPTIONS);
  if (parsed.values.help) return io.stdout(BENCH_HELP);
  const cases = (parsed.values.cases as string | undefined)?.split(",").map((name) => name.trim())
    .filter((name) => name !== "");
  // A computed specifier: the benchmark lives outside the published cli package.
  const specifier = new URL("../bench/compare.ts", import.meta.url).href;
  const module = await import(specifier).catch((error: Error) => {
    throw new Error(`cannot load bench/compare.ts: ${error.message.split("\n")[0]}`);
  }) as ComparisonModule;
  const { table } = await module.runComparison({
    ...(cases === undefined ? {} : { cases }),
    quick: parsed.values.quick === true,
  });
  io.stdout(table.endsWith("\n") ? table : `${table}\n`);
}
