/**
 * Index patterns and the einsum expression of every convolution-related operation,
 * each `{ equation, operands, shape }`, simplified symbolically and cached.
 *
 * @module
 */
export * from "./hyperparameters.ts";
export * from "./conv_sizes.ts";
export * from "./index_pattern.ts";
export type { Expression } from "./_expression.ts";
export type { ConvOptions, GroupedConvOptions, TransposeConvOptions } from "./_conv_arguments.ts";
export * from "./expression_cache.ts";
export * from "./evaluate.ts";
export * from "./conv_forward.ts";
export * from "./conv_input_vjp.ts";
export * from "./conv_weight_vjp.ts";
export * from "./conv_unfold.ts";
export * from "./conv_kfc.ts";
export * from "./conv_kfac_reduce.ts";
export * from "./conv_transpose_unfold.ts";
export * from "./conv_transpose_kfac_reduce.ts";
export * from "./conv_transpose.ts";
export { type EinsumOperands, simplify } from "@einconv/simplify";
export * from "./describe_operands.ts";
export * from "./to_dot.ts";
export type { PatternHyperparameters } from "@einconv/simplify";
