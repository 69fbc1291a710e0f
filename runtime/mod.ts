/**
 * The synchronous core of einconv: tensors, the einsum parser, the contraction
 * planner, the GEMM kernels and the executor.
 *
 * @module
 */
export * from "./tensor.ts";
export * from "./parse_equation.ts";
export * from "./contract_path.ts";
export * from "./einsum_sync.ts";
export * from "./einsum_arguments.ts";
export * from "./lru_cache.ts";
export * from "./all_close.ts";
export * from "./gemm.ts";
export * from "./execute_plan.ts";
export * from "./plan_shards.ts";
export * from "./validate.ts";
export * from "./check_output.ts";
export * from "./index_pattern_registry.ts";
export * from "./gemm_reference.ts";
export * from "./kfc_triangle.ts";
