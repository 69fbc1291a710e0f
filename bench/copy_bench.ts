// Copies of float32 runs 4 bytes apart out of shared memory: TypedArray.set (V8 copies
// such runs byte by byte) against copyElements (a bounce through unshared memory).
// deno bench --allow-read=. bench/copy_bench.ts
import { copyElements } from "../runtime/_copy_elements.ts";

const n = 1 << 20;
const shared = new Float32Array(new SharedArrayBuffer(4 * n + 8));
const plain = new Float32Array(n + 2);

Deno.bench({
  name: "TypedArray.set, 4 MiB shared → unshared, 4 bytes apart",
  group: "misaligned",
  baseline: true,
  fn: () => plain.set(shared.subarray(1, n + 1), 0),
});
Deno.bench({
  name: "copyElements, 4 MiB shared → unshared, 4 bytes apart",
  group: "misaligned",
  fn: () => copyElements(plain, 0, shared, 1, n + 1),
});
Deno.bench({
  name: "TypedArray.set, 4 MiB unshared → shared, 4 bytes apart",
  group: "misaligned out",
  baseline: true,
  fn: () => shared.set(plain.subarray(0, n), 1),
});
Deno.bench({
  name: "copyElements, 4 MiB unshared → shared, 4 bytes apart",
  group: "misaligned out",
  fn: () => copyElements(shared, 1, plain, 0, n),
});
