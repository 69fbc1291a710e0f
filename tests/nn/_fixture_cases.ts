// The fixture families of tests/fixtures as typed cases, and the failure collection that
// the fixture tests of the reference and of the functionals share.
import type { FixtureTensor } from "../_fixtures.ts";
import type { PaddingMode } from "../_reference_conv.ts";

type IntOrTuple = number | number[];
type Padding = IntOrTuple | "same" | "valid";

/** Fields of every convolution fixture case. */
export interface BaseCase {
  id: string;
  N: number;
  stride: IntOrTuple;
  padding: Padding;
  dilation: IntOrTuple;
}

/** conv_forward.json */
export interface ForwardCase extends BaseCase {
  groups: number;
  x: FixtureTensor;
  weight: FixtureTensor;
  bias: FixtureTensor;
  expected: FixtureTensor;
}

/** conv_input_vjp.json */
export interface InputVjpCase extends BaseCase {
  groups: number;
  weight: FixtureTensor;
  v: FixtureTensor;
  input_size: number[];
  expected: FixtureTensor;
}

/** conv_weight_vjp.json */
export interface WeightVjpCase extends BaseCase {
  groups: number;
  x: FixtureTensor;
  v: FixtureTensor;
  kernel_size: number[];
  expected: FixtureTensor;
}

/** unfold.json */
export interface UnfoldCase extends BaseCase {
  x: FixtureTensor;
  kernel_size: number[];
  expected: FixtureTensor;
}

/** kfc.json and kfac_reduce.json */
export interface KfcCase extends UnfoldCase {
  groups: number;
}

/** unfold_transpose.json */
export interface TransposeUnfoldCase extends UnfoldCase {
  padding: IntOrTuple;
  output_padding: IntOrTuple;
}

/** transpose_kfac_reduce.json */
export interface TransposeKfacReduceCase extends TransposeUnfoldCase {
  groups: number;
}

/** conv_transpose.json */
export interface ConvTransposeCase extends BaseCase {
  padding: IntOrTuple;
  output_padding: IntOrTuple;
  groups: number;
  x: FixtureTensor;
  weight: FixtureTensor;
  bias: FixtureTensor;
  expected: FixtureTensor;
}

/** conv_module.json */
export interface ModuleCase extends BaseCase {
  in_channels: number;
  out_channels: number;
  kernel_size: number[];
  groups: number;
  padding_mode: PaddingMode;
  x: FixtureTensor;
  weight: FixtureTensor;
  bias: FixtureTensor;
  grad_output: FixtureTensor;
  expected: FixtureTensor;
  grad_input: FixtureTensor;
  grad_weight: FixtureTensor;
  grad_bias: FixtureTensor;
}

/** The convolution hyperparameters of a case, as options. */
export function convOptions(c: BaseCase & { groups: number }) {
  return { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
}

/** The hyperparameters of a case without groups (unfold). */
export function unfoldOptions(c: BaseCase) {
  return { stride: c.stride, padding: c.padding, dilation: c.dilation };
}

/** The hyperparameters of a transpose-convolution case. */
export function transposeOptions(c: TransposeUnfoldCase | ConvTransposeCase) {
  return {
    stride: c.stride,
    padding: c.padding,
    outputPadding: c.output_padding,
    dilation: c.dilation,
  };
}

/**
 * Runs `check` on every case, collecting failures instead of stopping at the first, and
 * throws one error listing them all.
 *
 * @param cases The cases.
 * @param label A case's description in the failure list.
 * @param check Throws (or rejects) when a case fails.
 */
export async function checkEvery<C>(
  cases: readonly C[],
  label: (c: C) => string,
  check: (c: C) => void | Promise<void>,
): Promise<void> {
  const failures: string[] = [];
  for (const c of cases) {
    try {
      await check(c);
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      failures.push(`${label(c)}: ${message}`);
    }
  }
  if (failures.length > 0) {
    throw new Error(`${failures.length} of ${cases.length} failed:\n${failures.join("\n")}`);
  }
}
