// Argument reading shared by every command: node:util's parseArgs with its errors turned
// into one-line usage errors, and readers for shapes and hyperparameters.
import { parseArgs } from "node:util";

/** A bad command line: reported as one line on stderr, exit status 2. */
export class UsageError extends Error {
  /** @param message What was wrong, naming the argument and the value received. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The option table of one command, in parseArgs' format. */
export type OptionSpec = Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: false }
>;

/** Parsed options and positionals. */
export interface ParsedCommand {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** parseArgs, strict, with positionals allowed; failures become {@linkcode UsageError}s. */
export function parseCommand(
  args: readonly string[],
  options: OptionSpec,
): ParsedCommand {
  try {
    const parsed = parseArgs({
      args: [...args],
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    const { code, message } = error as Error & { code?: string };
    const unknown = /^Unknown option '([^']*)'/.exec(message);
    const text = code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown !== null
      ? `unknown option ${unknown[1]}`
      : message.split("\n")[0].replace(/^Option '([^' ]*)[^']*'/, "option $1");
    throw new UsageError(`${text} (see --help)`);
  }
}

/** A comma-separated list of integers at least `min`, e.g. `8,3,32,32`. */
export function readIntegers(name: string, text: string, min: number): number[] {
  const items = text.split(",").map((item) => item.trim());
  const values = items.map(Number);
  if (
    text.trim() === "" ||
    values.some((value, at) => !/^-?\d+$/.test(items[at]) || !(value >= min))
  ) {
    throw new UsageError(
      `--${name}: expected ${
        min > 0 ? "positive" : "non-negative"
      } integers separated by commas, got ${JSON.stringify(text)}`,
    );
  }
  return values;
}

/** One integer or one per spatial dimension (`3` or `3,5`), as the library takes it. */
export function readIntOrTuple(name: string, text: string, min: number): number | number[] {
  const values = readIntegers(name, text, min);
  return values.length === 1 ? values[0] : values;
}

/** A padding: integers, `same` or `valid`. */
export function readPadding(text: string): number | number[] | "same" | "valid" {
  return text === "same" || text === "valid" ? text : readIntOrTuple("padding", text, 0);
}

/** One of `allowed`, else a usage error listing them. */
export function readChoice<T extends string>(
  name: string,
  text: string,
  allowed: readonly T[],
): T {
  if (!(allowed as readonly string[]).includes(text)) {
    throw new UsageError(
      `${name}: expected one of ${allowed.join(", ")}, got ${JSON.stringify(text)}`,
    );
  }
  return text as T;
}
