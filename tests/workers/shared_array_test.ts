import assert from "node:assert/strict";
import { tensor, toNested } from "@einconv/runtime";
import { copyToShared, SharedBufferStash } from "../../workers/_shared_array.ts";

Deno.test("SharedBufferStash reuses buffers of the same size and keeps at most its capacity", () => {
  const stash = new SharedBufferStash(100);
  const a = stash.take(40);
  const b = stash.take(40);
  assert.notEqual(a, b);
  stash.give(a);
  stash.give(b);
  assert.equal(stash.take(40), a);
  assert.equal(stash.take(40), b);
  assert.notEqual(stash.take(40), a);
  stash.give(a);
  stash.give(b);
  stash.give(stash.take(48)); // 128 bytes kept: the oldest (a) goes
  assert.equal(stash.take(40), b);
  assert.notEqual(stash.take(40), a);
  stash.give(new SharedArrayBuffer(200)); // larger than the capacity: not kept
  assert.equal(stash.take(200).byteLength, 200);
});

Deno.test("copyToShared() fills stale reused memory with the view's values", () => {
  const stash = new SharedBufferStash(1024);
  const stale = stash.take(6 * 8);
  new Float64Array(stale).fill(NaN);
  stash.give(stale);
  const x = tensor([[1, 2, 3], [4, 5, 6]]).transpose(1, 0);
  const copy = copyToShared(x, (bytes) => stash.take(bytes));
  assert.equal(copy.data.buffer, stale);
  assert.deepEqual(toNested(copy), [[1, 4], [2, 5], [3, 6]]);
});

Deno.test("copyToShared() of a float32 view at an odd offset keeps its word alignment", () => {
  const x = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]], { dtype: "float32" });
  for (const view of [x.lo(1, 0), x.lo(0, 1), x.lo(1, 1).transpose(1, 0), x.step(-1, 1)]) {
    const copy = copyToShared(view);
    assert.ok(copy.data.buffer instanceof SharedArrayBuffer);
    assert.deepEqual(toNested(copy), toNested(view));
    // The first element reached sits at the same byte offset modulo 8 as in the source.
    const reach = (v: typeof view) =>
      v.offset + v.shape.reduce((sum, n, d) => sum + Math.min(0, (n - 1) * v.stride[d]), 0);
    assert.equal(reach(copy) % 2, reach(view) % 2);
  }
});
