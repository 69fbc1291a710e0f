/**
 * Functionals and modules with PyTorch's semantics, each evaluating a cached,
 * simplified einsum expression.
 *
 * @module
 */
export * from "./conv_nd.ts";
export * from "./output_options.ts";
export * from "./conv_transpose_nd.ts";
export * from "./unfold_nd.ts";
export * from "./unfold_transpose_nd.ts";
export * from "./conv_nd_input_vjp.ts";
export * from "./conv_nd_weight_vjp.ts";
export * from "./kfc.ts";
export * from "./kfac_reduce.ts";
export * from "./transpose_kfac_reduce.ts";
export * from "./conv_module.ts";
export * from "./unfold_module.ts";
