// A text progress bar on stderr: redrawn in place on a terminal, one line per step when
// stderr goes to a file or a pipe.

/** Advances the bar; `done` clears it. */
export interface Progress {
  step(label: string): void;
  done(): void;
}

const WIDTH = 30;

/**
 * A progress bar over `total` steps on stderr; `enabled` false makes it silent.
 */
export function progressBar(total: number, enabled = true): Progress {
  const encoder = new TextEncoder();
  const write = (text: string) => Deno.stderr.writeSync(encoder.encode(text));
  const terminal = Deno.stderr.isTerminal();
  const started = performance.now();
  let at = 0;
  let shown = 0;
  return {
    step(label) {
      if (!enabled) return;
      const filled = Math.round((WIDTH * at) / total);
      const seconds = ((performance.now() - started) / 1000).toFixed(0);
      const line = `[${"#".repeat(filled)}${
        ".".repeat(WIDTH - filled)
      }] ${at}/${total} ${seconds}s ${label}`;
      if (terminal) {
        write(`\r${line.padEnd(shown)}`);
        shown = line.length;
      } else {
        write(`${line}\n`);
      }
      at++;
    },
    done() {
      if (!enabled) return;
      const seconds = ((performance.now() - started) / 1000).toFixed(0);
      const line = `[${"#".repeat(WIDTH)}] ${total}/${total} ${seconds}s done`;
      write(terminal ? `\r${line.padEnd(shown)}\n` : `${line}\n`);
    },
  };
}
