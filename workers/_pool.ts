import { type Remote, wrap } from "comlink";
import { SharedBufferStash } from "./_shared_array.ts";
import {
  allDone,
  closeBoard,
  firstUnwritten,
  heldBy,
  isWritten,
  shardCount,
  wakeAll,
} from "./_shard_board.ts";
import { dispatchObserver, faultList } from "./_test_hooks.ts";
import type { RunnerReport, RunnerRequest, WorkerApi } from "./_protocol.ts";

/** Most bytes of operand copies the pool keeps for reuse. */
const STASH_BYTES = 256 * 2 ** 20;

/** Default time an idle pool waits before terminating its workers, in milliseconds. */
export const DEFAULT_IDLE_TIMEOUT = 250;

/** What a sharded call asks of the pool. */
export interface CallRequest {
  /** What every runner of the call runs, but for its token (and a shard to run again). */
  request: Omit<RunnerRequest, "token" | "rerun" | "faults">;
  /** Names shard `s` in errors, e.g. `shard 2 of 2 ("b" in [2, 4))`. */
  label: (shard: number) => string;
}

/** A sharded call on the pool: its runners take shards from its board. */
export class ShardedCall {
  /** Resolves once every shard is written; rejects with an `Error` naming the shard that
   * failed, or that was cancelled by `shutdownWorkers()`. */
  readonly written: Promise<void>;
  /** Resolves once no worker writes into the call's output any more: when every shard is
   * written, or after a failure once its running runners have stopped. */
  readonly settled: Promise<void>;
  /** Set once the call resolved or rejected; no runner of it starts after. */
  over = false;
  /** Resolves when the call rejects. */
  readonly stopped: Promise<void>;
  /** Runners of the call handed to workers and not back yet. */
  active = 0;
  /** Deaths of a worker while it ran the shard. */
  readonly deaths = new Map<number, number>();
  /** The call's shared fault list (tests only). */
  faults: Int32Array | undefined;
  readonly #resolve: () => void;
  readonly #reject: (error: Error) => void;
  readonly #settle: () => void;
  readonly #stop: () => void;

  constructor(readonly request: CallRequest) {
    const written = Promise.withResolvers<void>();
    const settled = Promise.withResolvers<void>();
    const stopped = Promise.withResolvers<void>();
    this.written = written.promise;
    // Callers may learn of a failure from `stopped` and of success from the board: a
    // rejection nobody awaits is not an error.
    this.written.catch(() => {});
    this.settled = settled.promise;
    this.stopped = stopped.promise;
    [this.#resolve, this.#reject, this.#settle, this.#stop] = [
      written.resolve,
      written.reject,
      settled.resolve,
      stopped.resolve,
    ];
  }

  get board(): Int32Array {
    return this.request.request.board;
  }

  /** Resolves the call when every shard is written. */
  checkWritten(): void {
    if (this.over || !allDone(this.board)) return;
    this.over = true;
    this.#resolve();
    this.#settle();
  }

  /** Rejects the call (once): `${label(shard)} ${what}`; no shard is taken after. */
  fail(shard: number, what: string): void {
    if (this.over) return;
    if (allDone(this.board)) return this.checkWritten(); // too late to fail: all written
    this.over = true;
    closeBoard(this.board);
    this.#stop();
    wakeAll(this.board);
    const named = this.request.label(Math.max(shard, 0));
    this.#reject(new Error(`Cannot finish einsum: ${named} ${what}`));
    this.checkSettled();
  }

  /** Resolves `settled` once the call is over and none of its runners is running. */
  checkSettled(): void {
    if (this.over && this.active === 0) this.#settle();
  }

  /** The first shard not yet written (for errors that name none). */
  firstUnwritten(): number {
    return firstUnwritten(this.board);
  }
}

/** One runner of a call, waiting for or running on a worker. */
interface Runner {
  call: ShardedCall;
  /** Its mark on the call's board. */
  token: number;
  /** A shard whose worker died, to run first. */
  rerun?: number;
}

/** The shard a runner owes its call if its worker dies now: the one it holds, else the one
 * it was sent to run again while it has not yet held it (the board's counter is past it:
 * no other runner would take it). */
function owedShard({ call, token, rerun }: Runner): number | undefined {
  const [held] = heldBy(call.board, token);
  if (held !== undefined) return held;
  return rerun !== undefined && !isWritten(call.board, rerun) ? rerun : undefined;
}

interface Slot {
  worker: Worker;
  remote: Remote<WorkerApi>;
  /** Whether the worker has loaded (answered a ping); only then does it get runners. */
  ready: boolean;
  /** Runners sent to the worker, in order: the first runs; a second waits in the worker's
   * message queue, sent while the first had written its call's last shard (see
   * `Pool.#dispatch`). */
  runners: Runner[];
}

/**
 * The worker pool: a FIFO queue of runners and up to `count` Deno Web Workers driven
 * through comlink. A sharded call puts up to one runner per worker in the queue; each
 * runner, once a worker is free, takes the call's shards from its board in shared memory
 * one after another until none is left, so that a worker goes from one shard to the next
 * without a message (0.1–0.5 ms each on a busy 2-core VM) and a faster core still takes
 * more of them. Runners of a call that is over by the time a worker comes free are dropped.
 * Workers start when runners arrive, and all of them are terminated once the pool has been
 * idle for `idleTimeout` milliseconds (an unref'd timer), so that a script that never shuts
 * the pool down still exits.
 */
class Pool {
  /** Workers the pool may run; 0 sends every call to the calling thread. */
  count: number = navigator.hardwareConcurrency;
  /** Idle milliseconds before the workers are terminated. */
  idleTimeout: number = DEFAULT_IDLE_TIMEOUT;
  /** Memory of einsum's operand copies, kept for reuse until the pool shuts down (calls
   * still running then give theirs back to the old stash, which is dropped). */
  stash: SharedBufferStash = new SharedBufferStash(STASH_BYTES);
  /** The module every worker loads (tests point it elsewhere to make starts fail). */
  workerUrl: URL = new URL("./_worker.ts", import.meta.url);
  #slots: Slot[] = [];
  /** Workers that died before loading since one last loaded. */
  #failedStarts = 0;
  #queue: Runner[] = [];
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #lastToken = 0;

  /** Live workers (busy or idle). */
  get size(): number {
    return this.#slots.length;
  }

  /** Workers calls may shard over now: `count`, or 0 when the worker module cannot be
   * read (no read permission for it), so that such scripts run on the calling thread. */
  usableCount(): number {
    if (this.count === 0 || this.workerUrl.protocol !== "file:") return this.count;
    const { state } = Deno.permissions.querySync({ name: "read", path: this.workerUrl });
    return state === "granted" ? this.count : 0;
  }

  /** Queues a sharded call with `runners` runners (at least 1, at most its shards). */
  run(request: CallRequest, runners: number): ShardedCall {
    const call = new ShardedCall(request);
    const count = Math.max(1, Math.min(runners, shardCount(call.board)));
    for (let r = 0; r < count; r++) this.#queue.push({ call, token: this.#token() });
    this.#dispatch();
    return call;
  }

  /** Applies a new `count` (surplus idle workers end now, busy ones when done). */
  resize(count: number): void {
    this.count = count;
    for (const slot of this.#slots.filter((slot) => slot.runners.length === 0)) {
      if (this.#slots.length <= Math.max(count, this.#queue.length > 0 ? 1 : 0)) break;
      this.#remove(slot);
    }
    this.#dispatch();
  }

  /** Terminates every worker, rejects every queued and running call and drops the kept
   * memory. */
  shutdown(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.stash = new SharedBufferStash(STASH_BYTES);
    const runners = [...this.#slots.flatMap((slot) => slot.runners), ...this.#queue];
    for (const slot of [...this.#slots]) {
      slot.runners = [];
      this.#remove(slot);
    }
    this.#queue = [];
    for (const { call } of runners) {
      call.active = 0;
      call.fail(call.firstUnwritten(), "was cancelled by shutdownWorkers()");
    }
  }

  #token(): number {
    this.#lastToken = this.#lastToken >= 0x7fffffff ? 1 : this.#lastToken + 1;
    return this.#lastToken;
  }

  #dispatch(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    while (this.#queue.length > 0) {
      // A call whose shards are all written is over even before its runners' reports.
      this.#queue[0].call.checkWritten();
      if (this.#queue[0].call.over) {
        this.#queue.shift();
        continue;
      }
      // An idle worker, else one whose runner has written its call's last shard and is only
      // returning: its report can take a while to arrive here (up to 3 ms on a busy 2-core
      // VM), while the next call's runner is best sent at once.
      const ready = this.#slots.filter((slot) => slot.ready);
      const slot = ready.find((slot) => slot.runners.length === 0) ??
        ready.find((slot) => slot.runners.length === 1 && allDone(slot.runners[0].call.board));
      if (slot === undefined) break;
      this.#start(slot, this.#queue.shift()!);
    }
    const starting = this.#slots.filter((slot) => !slot.ready).length;
    const room = Math.max(this.count, 1) - this.#slots.length;
    for (let n = Math.min(this.#queue.length - starting, room); n > 0; n--) this.#spawn();
    if (
      this.#slots.length > 0 && this.#queue.length === 0 &&
      this.#slots.every((slot) => slot.runners.length === 0)
    ) {
      if (!Number.isFinite(this.idleTimeout)) return;
      const timer = setTimeout(() => this.shutdown(), this.idleTimeout);
      Deno.unrefTimer(timer);
      this.#idleTimer = timer;
    }
  }

  #spawn(): void {
    const worker = new Worker(this.workerUrl.href, { type: "module" });
    const slot: Slot = { worker, remote: wrap<WorkerApi>(worker), ready: false, runners: [] };
    const lost = (event: Event, reason: string) => {
      event.preventDefault();
      this.#lose(slot, reason);
    };
    worker.addEventListener("error", (event) => lost(event, event.message));
    worker.addEventListener("messageerror", (event) => lost(event, "a message could not be read"));
    this.#slots.push(slot);
    slot.remote.ping().then(() => {
      if (!this.#slots.includes(slot)) return;
      slot.ready = true;
      this.#failedStarts = 0;
      this.#dispatch();
    });
  }

  #start(slot: Slot, runner: Runner): void {
    const { call, token, rerun } = runner;
    slot.runners.push(runner);
    call.active++;
    call.faults = faultList(shardCount(call.board), call.faults);
    const request: RunnerRequest = {
      ...call.request.request,
      token,
      ...(rerun === undefined ? {} : { rerun }),
      ...(call.faults === undefined ? {} : { faults: call.faults }),
    };
    dispatchObserver.observe?.(request);
    slot.remote.run(request).then(
      (report) => this.#finish(slot, runner, report),
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        const shard = owedShard(runner) ?? call.firstUnwritten();
        this.#finish(slot, runner, { failed: { shard, reason } });
      },
    );
  }

  #finish(slot: Slot, runner: Runner, report: RunnerReport): void {
    const at = slot.runners.indexOf(runner);
    if (at < 0) return; // the worker died or the pool shut down meanwhile
    slot.runners.splice(at, 1);
    const { call } = runner;
    call.active--;
    if (report.failed !== undefined) {
      call.fail(report.failed.shard, `failed: ${report.failed.reason}`);
    } else call.checkWritten();
    call.checkSettled();
    if (
      slot.runners.length === 0 &&
      this.#slots.length > Math.max(this.count, this.#queue.length > 0 ? 1 : 0)
    ) {
      this.#remove(slot);
    }
    this.#dispatch();
  }

  /** A worker died (uncaught error, failed start): replace it and run the shard it held
   * once more (its call's other shards go on meanwhile); a second death while running
   * that shard rejects the call. Two failed starts in a row reject every queued call. */
  #lose(slot: Slot, reason: string): void {
    if (!this.#slots.includes(slot)) return;
    this.#remove(slot);
    if (!slot.ready && ++this.#failedStarts >= 2) {
      this.#failedStarts = 0;
      for (const { call } of this.#queue.splice(0)) {
        call.fail(call.firstUnwritten(), `failed: no worker could start (${reason})`);
      }
    }
    // The runner that ran, then one sent behind it that may have started: each runs again
    // from the shard it held, if any (a death counted for that shard), in the same order.
    const runners = slot.runners;
    slot.runners = [];
    for (const runner of runners.reverse()) {
      const { call } = runner;
      call.active--;
      const shard = owedShard(runner);
      const deaths = shard === undefined ? 0 : (call.deaths.get(shard) ?? 0) + 1;
      call.checkWritten(); // all written: the worker died after its last shard
      if (deaths >= 2) call.fail(shard!, `failed: its worker died twice (${reason})`);
      else if (!call.over) {
        if (shard !== undefined) call.deaths.set(shard, deaths);
        this.#queue.unshift({ call, token: this.#token(), rerun: shard });
      }
      call.checkSettled();
    }
    this.#dispatch();
  }

  #remove(slot: Slot): void {
    this.#slots.splice(this.#slots.indexOf(slot), 1);
    slot.worker.terminate();
  }
}

/** The process's worker pool. */
export const pool: Pool = new Pool();
