import { type Remote, wrap } from "comlink";
import { SharedBufferStash } from "./_shared_array.ts";
import { dispatchObserver, takeFault } from "./_test_hooks.ts";
import type { ShardRequest, WorkerApi } from "./_protocol.ts";

/** Most bytes of operand copies the pool keeps for reuse. */
const STASH_BYTES = 256 * 2 ** 20;

/** Default time an idle pool waits before terminating its workers, in milliseconds. */
export const DEFAULT_IDLE_TIMEOUT = 250;

/** One shard waiting for or running on a worker. */
export interface Job {
  /** What the worker runs. */
  request: ShardRequest;
  /** 0-based position of the shard in its call. */
  shard: number;
  /** Names the shard in errors, e.g. `shard 2 of 2 ("n" in [4, 8))`. */
  label: string;
  /** Shared by the shards of one call: set once one of them failed, so that the others
   * still queued are dropped. */
  call: { failed: boolean };
  resolve: () => void;
  reject: (error: Error) => void;
  /** Workers that died running this job. */
  deaths: number;
}

interface Slot {
  worker: Worker;
  remote: Remote<WorkerApi>;
  /** Whether the worker has loaded (answered a ping); only then does it get shards. */
  ready: boolean;
  /** Shards sent to the worker, in order: the first runs, the next one waits in the
   * worker's message queue (see `Pool.#dispatch`). */
  jobs: Job[];
}

/**
 * The worker pool: a FIFO queue of shards and up to `count` Deno Web Workers driven
 * through comlink. Workers start when shards arrive, and all of them are terminated
 * once the pool has been idle for `idleTimeout` milliseconds (an unref'd timer), so
 * that a script that never shuts the pool down still exits.
 *
 * A busy worker is sent its next shard ahead while more shards wait than there are
 * workers, so that it starts it without waiting for a round trip through this thread
 * (0.3 ms on a busy 2-core VM, per shard); the last shards go to whichever worker
 * comes free first, so that a faster core still takes more of them.
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
  #queue: Job[] = [];
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

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

  /** Queues a shard; resolves when a worker has written it. */
  submit(job: Omit<Job, "resolve" | "reject" | "deaths">): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ ...job, resolve, reject, deaths: 0 });
      this.#dispatch();
    });
  }

  /** Applies a new `count` (surplus idle workers end now, busy ones when done). */
  resize(count: number): void {
    this.count = count;
    for (const slot of this.#slots.filter((slot) => slot.jobs.length === 0)) {
      if (this.#slots.length <= Math.max(count, this.#queue.length > 0 ? 1 : 0)) break;
      this.#remove(slot);
    }
    this.#dispatch();
  }

  /** Terminates every worker, rejects every queued and running shard and drops the
   * kept memory. */
  shutdown(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.stash = new SharedBufferStash(STASH_BYTES);
    const jobs = [...this.#slots.flatMap((slot) => slot.jobs), ...this.#queue];
    for (const slot of [...this.#slots]) {
      slot.jobs = [];
      this.#remove(slot);
    }
    this.#queue = [];
    for (const job of jobs) {
      job.reject(
        new Error(`Cannot finish einsum: ${job.label} was cancelled by shutdownWorkers()`),
      );
    }
  }

  #dispatch(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    while (this.#queue.length > 0) {
      const job = this.#queue[0];
      if (job.call.failed) {
        this.#queue.shift();
        job.reject(
          new Error(`Cannot finish einsum: ${job.label} was skipped: another shard failed`),
        );
        continue;
      }
      // A shard goes ahead to a busy worker only once every worker has started (one still
      // loading will want the shard) and while more wait than there are workers.
      const ready = this.#slots.filter((slot) => slot.ready);
      const ahead = ready.length === this.#slots.length &&
        this.#queue.length > this.#slots.length;
      const slot = ready.find((slot) => slot.jobs.length === 0) ??
        (ahead ? ready.find((slot) => slot.jobs.length === 1) : undefined);
      if (slot === undefined) break;
      this.#queue.shift();
      this.#start(slot, job);
    }
    const starting = this.#slots.filter((slot) => !slot.ready).length;
    const room = Math.max(this.count, 1) - this.#slots.length;
    for (let n = Math.min(this.#queue.length - starting, room); n > 0; n--) this.#spawn();
    if (
      this.#slots.length > 0 && this.#queue.length === 0 &&
      this.#slots.every((slot) => slot.jobs.length === 0)
    ) {
      if (!Number.isFinite(this.idleTimeout)) return;
      const timer = setTimeout(() => this.shutdown(), this.idleTimeout);
      Deno.unrefTimer(timer);
      this.#idleTimer = timer;
    }
  }

  #spawn(): void {
    const worker = new Worker(this.workerUrl.href, { type: "module" });
    const slot: Slot = { worker, remote: wrap<WorkerApi>(worker), ready: false, jobs: [] };
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

  #start(slot: Slot, job: Job): void {
    slot.jobs.push(job);
    const fault = takeFault(job.shard);
    const request = fault === undefined ? job.request : { ...job.request, fault };
    dispatchObserver.observe?.(request);
    slot.remote.run(request).then(
      () => this.#finish(slot, job, null),
      (error: unknown) => this.#finish(slot, job, error),
    );
  }

  #finish(slot: Slot, job: Job, error: unknown): void {
    const at = slot.jobs.indexOf(job);
    if (at < 0) return; // the worker died or the pool shut down meanwhile
    slot.jobs.splice(at, 1);
    if (error === null) job.resolve();
    else {
      job.call.failed = true;
      const reason = error instanceof Error ? error.message : String(error);
      job.reject(new Error(`Cannot finish einsum: ${job.label} failed: ${reason}`));
    }
    if (
      slot.jobs.length === 0 &&
      this.#slots.length > Math.max(this.count, this.#queue.length > 0 ? 1 : 0)
    ) {
      this.#remove(slot);
    }
    this.#dispatch();
  }

  /** A worker died (uncaught error, failed start): replace it and run its shard again
   * once; a second death rejects the shard. A shard sent ahead, which had not started,
   * goes back to the queue as it was. Two failed starts in a row reject every queued
   * shard. */
  #lose(slot: Slot, reason: string): void {
    if (!this.#slots.includes(slot)) return;
    this.#remove(slot);
    if (!slot.ready && ++this.#failedStarts >= 2) {
      this.#failedStarts = 0;
      for (const job of this.#queue.splice(0)) {
        job.reject(
          new Error(`Cannot finish einsum: ${job.label} failed: no worker could start (${reason})`),
        );
      }
    }
    const [job, ...ahead] = slot.jobs;
    slot.jobs = [];
    this.#queue.unshift(...ahead);
    if (job !== undefined) {
      job.deaths++;
      if (job.deaths < 2) this.#queue.unshift(job);
      else {
        job.call.failed = true;
        job.reject(
          new Error(`Cannot finish einsum: ${job.label} failed: its worker died twice (${reason})`),
        );
      }
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
