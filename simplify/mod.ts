/**
 * Symbolic tensors and the tensor-network simplification rules of einconv: index
 * patterns that are reshapes or sub-samplings become identities, identities are
 * pruned, parallel indices merged and size-1 indices squeezed, all without numbers.
 *
 * @module
 */
export * from "./symbolic_tensor.ts";
export * from "./tensor_network.ts";
export * from "./simplify_network.ts";
export { indexPatternInfo, registerIndexPattern } from "@einconv/runtime";
export * from "./simplify.ts";
