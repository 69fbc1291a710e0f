// Where the CLI writes: stdout and stderr as functions, so tests can capture them.

/** The CLI's output streams. */
export interface CliIo {
  /** Writes normal output (text already holds its line breaks). */
  stdout(text: string): void;
  /** Writes errors and progress. */
  stderr(text: string): void;
}

const encoder = new TextEncoder();

/** The process's own stdout and stderr. */
export function processIo(): CliIo {
  return {
    stdout: (text) => writeAll(Deno.stdout, text),
    stderr: (text) => writeAll(Deno.stderr, text),
  };
}

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += stream.writeSync(bytes.subarray(written));
}
