/**
 * Everything asynchronous: the worker pool (Deno Web Workers driven through comlink)
 * and the einsum that shards large contractions over it.
 *
 * @module
 */
export * from "./einsum.ts";
export * from "./configure_workers.ts";
export * from "./shutdown_workers.ts";
export * from "./to_shared.ts";
