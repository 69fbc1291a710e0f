/**
 * Everything asynchronous: the einsum that may run on the worker pool.
 *
 * @module
 */
export * from "./einsum.ts";
