/**
 * einconv for Deno: convolutions and their relatives as einsum contractions of tensor
 * networks, evaluated on every CPU core.
 *
 * @module
 */
export * from "@einconv/runtime";
export * from "@einconv/workers";
export {
  convInputSize,
  convOutputSize,
  convPaddings,
  indexPattern,
  type IndexPatternOptions,
  type IntOrTuple,
  type Padding,
  type PatternDType,
  type Uint8NdArray,
} from "@einconv/expressions";
export * as expressions from "@einconv/expressions";
export * from "@einconv/nn";
export { toDot } from "@einconv/expressions";
export type {
  ConvOptions,
  ConvTransposeOptions,
  DescribeOperandsOptions,
  Expression,
  GroupedConvOptions,
  ToDotOptions,
  TransposeConvOptions,
  TransposeKfacReduceOptions,
} from "@einconv/expressions";
