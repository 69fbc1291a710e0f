/**
 * einconv for Deno: convolutions and their relatives as einsum contractions of tensor
 * networks, evaluated on every CPU core.
 *
 * @module
 */
export * from "@einconv/runtime";
export * from "@einconv/workers";
