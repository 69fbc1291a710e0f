// The CLI, run in-process through main(args, io): expr, path and dot print or write what
// they promise, every command has --help, bad arguments give one line on stderr and exit
// status 2. Writing files needs --allow-write=. (temporary directories are made under the
// working directory): without it the dot test checks the one-line failure instead.
import assert from "node:assert/strict";
import { main } from "../../cli/main.ts";
import { runDemo } from "../../cli/demo.ts";

/** Runs the CLI and captures its exit status and output. */
async function run(...args: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const status = await main(args, {
    stdout: (text) => (out += text),
    stderr: (text) => (err += text),
  });
  return { status, out, err };
}

const canWrite = Deno.permissions.querySync({ name: "write", path: "." }).state === "granted";

/** A temporary directory under the working directory (readable with --allow-read=.). */
function tempDir(): Promise<string> {
  return Deno.makeTempDir({ dir: ".", prefix: ".cli_test_" });
}

const OPERATIONS = [
  "forward",
  "conv",
  "input-vjp",
  "weight-vjp",
  "unfold",
  "kfc",
  "kfac-reduce",
  "transpose-unfold",
  "transpose-kfac-reduce",
  "transpose-conv",
  "conv-transpose",
];

Deno.test("main() expr prints both expressions side by side", async () => {
  const { status, out, err } = await run(
    "expr",
    "conv",
    "--input",
    "8,3,32,32",
    "--kernel",
    "3",
    "--stride",
    "2",
    "--out-channels",
    "16",
  );
  assert.equal(err, "");
  assert.equal(status, 0);
  const lines = out.split("\n");
  assert.equal(lines[0], "forward: input [8, 3, 32, 32], kernel=3, stride=2");
  assert.match(lines[2], /^\s+unsimplified\s+simplified$/);
  assert.match(out, /^equation\s+ngabc,deb,fhc,giadf->ngieh\s+nabc,deb,fgc,hadf->nheg$/m);
  assert.match(out, /^operand 0\s+x\s+ngabc\s+\[8, 1, 3, 32, 32\]\s+x\s+nabc\s+\[8, 3, 32, 32\]$/m);
  assert.match(
    out,
    /^operand 1\s+Π0\s+deb\s+\[K=3, O=15, I=32\] {2}stride 2, padding 0\+0, dilation 1\s+Π0/m,
  );
  assert.match(out, /^operand 3\s+weight\s+giadf\s+\[1, 16, 3, 3, 3\]\s+weight\s+hadf/m);
  assert.match(out, /^output shape\s+\[8, 16, 15, 15\]\s+\[8, 16, 15, 15\]$/m);
  assert.match(out, /^FLOPs\s+\S+ planned, \S+ naive/m);
});

Deno.test("main() expr --no-simplify prints the expression as built only", async () => {
  const { status, out } = await run("expr", "unfold", "--input", "2,3,8", "--no-simplify");
  assert.equal(status, 0);
  assert.match(out, /^\s+unsimplified$/m);
  assert.doesNotMatch(out, /\ssimplified$/m);
  assert.match(out, /^operand 1\s+Π0\s+\w+\s+\[K=3, O=6, I=8\]/m);
});

Deno.test("main() expr builds every operation", async () => {
  for (const operation of OPERATIONS) {
    const extra = operation.includes("transpose")
      ? ["--stride", "2", "--padding", "1", "--output-padding", "1"]
      : ["--padding", "same", ...(operation === "unfold" ? [] : ["--groups", "3"])];
    const { status, out, err } = await run(
      "expr",
      operation,
      "--input",
      "2,6,9,8",
      "--kernel",
      "3,2",
      "--dtype",
      "float64",
      ...extra,
    );
    assert.equal(err, "", operation);
    assert.equal(status, 0, operation);
    assert.match(out, /^output shape\s+\[/m, operation);
  }
});

Deno.test("main() path prints the plan with FLOPs, largest intermediate and shards", async () => {
  const { status, out } = await run(
    "path",
    "kfc",
    "--input",
    "8,16,32,32",
    "--kernel",
    "3",
    "--padding",
    "1",
    "--workers",
    "4",
  );
  assert.equal(status, 0);
  assert.match(out, /^kfc: input \[8, 16, 32, 32\], kernel=3, padding=1 \(simplified\)$/m);
  assert.match(out, /^Operands: 0 x \w+, 1 Π0 \w+, /m);
  assert.match(out, /^Workers: {2}4$/m);
  assert.match(out, /^Simplification: 7 → \d operands, /m);
  assert.match(out, /Complete contraction:/);
  assert.match(out, /Optimized FLOP count:/);
  assert.match(out, /Largest intermediate:/);
  assert.match(out, /Shards:\s+\S/);
  assert.match(out, /^0\s+\w+/m);
});

Deno.test("main() path takes a planner and plans for the calling thread", async () => {
  const { status, out } = await run(
    "path",
    "forward",
    "--input",
    "1,2,5",
    "--workers",
    "0",
    "--optimize",
    "greedy",
    "--no-simplify",
  );
  assert.equal(status, 0);
  assert.match(out, /\(unsimplified\)/);
  assert.match(out, /Strategy:\s+greedy/);
  assert.match(out, /Shards:\s+none/);
});

Deno.test({
  name: "main() dot writes the DOT and the SVG into a directory",
  ignore: !canWrite,
  async fn() {
    const dir = await tempDir();
    try {
      const { status, out } = await run("dot", "conv", "--input", "1,3,8,8", "--out", dir);
      assert.equal(status, 0);
      assert.equal(
        out.split("\n")[0].startsWith(`wrote ${dir}/forward.dot and ${dir}/forward.svg`),
        true,
      );
      assert.match(await Deno.readTextFile(`${dir}/forward.dot`), /^graph tensor_network \{/);
      assert.match(await Deno.readTextFile(`${dir}/forward.svg`), /<svg[\s\S]*Π0/);
      const named = await run("dot", "kfc", "--input", "1,2,6", "--out", `${dir}/k.svg`);
      assert.equal(named.status, 0);
      assert.ok((await Deno.stat(`${dir}/k.dot`)).isFile);
      assert.ok((await Deno.stat(`${dir}/k.svg`)).isFile);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "main() dot reports a file it cannot write in one line with status 1",
  ignore: canWrite,
  async fn() {
    const { status, out, err } = await run("dot", "conv", "--input", "1,3,8,8", "--out", "/x.svg");
    assert.equal(status, 1);
    assert.equal(out, "");
    assert.match(err, /^einconv dot: .+\n$/);
  },
});

Deno.test("main() --help works for the CLI and every command", async () => {
  for (const args of [["--help"], ["help"], ["-h"]]) {
    const { status, out } = await run(...args);
    assert.equal(status, 0);
    assert.match(out, /^Usage: deno task cli <command>/);
  }
  for (const command of ["expr", "path", "dot", "bench", "demo"]) {
    for (const flag of ["--help", "-h"]) {
      const { status, out, err } = await run(command, flag);
      assert.equal(err, "", command);
      assert.equal(status, 0, command);
      assert.match(out, /^Usage: deno task /, command);
    }
  }
  const bare = await run();
  assert.equal(bare.status, 2);
  assert.match(bare.out, /^Usage:/);
});

Deno.test("main() reports bad arguments in one line with status 2", async () => {
  const cases: [string[], RegExp][] = [
    [["frob"], /^einconv: unknown command "frob", expected one of expr, path, dot, bench, demo$/],
    [["expr"], /^einconv expr: missing the operation \(one of forward, .*transpose-conv\)$/],
    [["expr", "frob"], /^einconv expr: unknown operation "frob", expected one of forward, /],
    [["expr", "conv", "extra"], /^einconv expr: unexpected argument "extra"$/],
    [["expr", "conv", "--frob"], /^einconv expr: unknown option --frob \(see --help\)$/],
    [["path", "conv", "--stride"], /^einconv path: option --stride argument missing/],
    [["expr", "conv", "--input", "8,x"], /^einconv expr: --input: expected positive integers/],
    [["expr", "conv", "--input", "8,3"], /^einconv expr: --input: expected a shape \[batch/],
    [["expr", "conv", "--kernel", "0"], /^einconv expr: --kernel: expected positive integers/],
    [["expr", "conv", "--dtype", "int8"], /^einconv expr: --dtype: expected one of float32, /],
    [["path", "conv", "--optimize", "best"], /^einconv path: --optimize: expected one of auto, /],
    [
      ["expr", "conv", "--groups", "2"],
      /^einconv expr: Cannot read groups: groups=2 does not divide x.shape\[1\]=3$/,
    ],
    [["dot", "unfold", "--groups", "2"], /^einconv dot: Cannot read groups: /],
    [["bench", "--cases"], /^einconv bench: option --cases argument missing/],
    [["demo", "--batch", "0"], /^einconv demo: --batch: expected positive integers/],
  ];
  for (const [args, message] of cases) {
    const { status, out, err } = await run(...args);
    assert.equal(status, 2, args.join(" "));
    assert.equal(out, "", args.join(" "));
    assert.match(err, /^[^\n]+\n$/, `one line for ${args.join(" ")}`);
    assert.match(err.trimEnd(), message);
  }
});

Deno.test("runDemo() checks the two-layer CNN step against the direct loops", async () => {
  let out = "";
  const io = { stdout: (text: string) => (out += text), stderr: () => {} };
  const dir = canWrite ? await tempDir() : undefined;
  const status = await runDemo(dir === undefined ? [] : ["--out", `${dir}/demo.svg`], io);
  if (dir !== undefined) {
    assert.match(await Deno.readTextFile(`${dir}/demo.svg`), /<svg/);
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(status, 0, out);
  assert.match(out, /^ {2}conv1 forward\s+\w+(,\w+)+->\w+$/m);
  assert.match(out, /^ {2}conv2 KFAC-reduce\s+/m);
  assert.equal(out.match(/^ {2}ok /gm)?.length, 12);
  assert.match(out, /calling thread only: configureWorkers\(\{ count: 0 \}\)\s+[\d.]+ ms/);
  assert.match(out, /Diagram of conv1's forward tensor network: /);
  assert.match(out, /demo check passed: 12 results match the reference/);
});
