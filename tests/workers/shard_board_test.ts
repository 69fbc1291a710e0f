// The shared board of a sharded call: shards taken once each in order, held by a runner's
// token until written, closed after a failure, and waited for without a message.
import assert from "node:assert/strict";
import {
  allDone,
  closeBoard,
  DONE,
  firstUnwritten,
  heldBy,
  holdShard,
  markDone,
  newBoard,
  shardCount,
  sliceAlong,
  takeShard,
  whenWritten,
} from "../../workers/_shard_board.ts";
import { tensor } from "@einconv/runtime";

Deno.test("runners take each shard once, in order, and hold it until it is written", () => {
  const board = newBoard(3);
  assert.ok(board.buffer instanceof SharedArrayBuffer);
  assert.equal(shardCount(board), 3);
  assert.deepEqual([takeShard(board, 7), takeShard(board, 9), takeShard(board, 7)], [0, 1, 2]);
  assert.equal(takeShard(board, 9), -1);
  assert.equal(takeShard(board, 9), -1, "still none");
  assert.deepEqual(heldBy(board, 7), [0, 2]);
  markDone(board, 0);
  assert.deepEqual(heldBy(board, 7), [2]);
  assert.equal(Atomics.load(board, 1), DONE);
  assert.equal(firstUnwritten(board), 1);
  assert.ok(!allDone(board));
  // A shard whose runner died is held again by the runner that reruns it.
  holdShard(board, 2, 11);
  assert.deepEqual([heldBy(board, 7), heldBy(board, 11)], [[], [2]]);
  markDone(board, 1);
  markDone(board, 2);
  assert.ok(allDone(board));
  assert.equal(firstUnwritten(board), -1);
});

Deno.test("a closed board hands out no more shards", () => {
  const board = newBoard(4);
  assert.equal(takeShard(board, 1), 0);
  closeBoard(board);
  assert.equal(takeShard(board, 2), -1);
  assert.deepEqual(heldBy(board, 2), []);
  assert.equal(firstUnwritten(board), 0);
});

Deno.test("whenWritten() resolves when a worker writes the shard, or false once stopped", async () => {
  const board = newBoard(2);
  const stop = Promise.withResolvers<void>();
  const first = whenWritten(board, 0, stop.promise);
  const second = whenWritten(board, 1, stop.promise);
  // Written by another thread, which posts no message.
  const source = `self.onmessage = ({ data }) => {
    Atomics.store(data, 1, ${DONE});
    Atomics.notify(data, 1);
  };`;
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  try {
    worker.postMessage(board);
    assert.equal(await first, true);
    stop.resolve();
    assert.equal(await second, false);
    assert.equal(await whenWritten(board, 0, stop.promise), true, "written wins over stopped");
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});

Deno.test("sliceAlong() views the range of one axis", () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  const rows = sliceAlong(x, 0, 1, 2);
  assert.deepEqual(rows.shape, [1, 3]);
  assert.equal(rows.get(0, 2), 6);
  const columns = sliceAlong(x, 1, 1, 3);
  assert.deepEqual(columns.shape, [2, 2]);
  assert.deepEqual([columns.get(0, 0), columns.get(1, 1)], [2, 6]);
});
