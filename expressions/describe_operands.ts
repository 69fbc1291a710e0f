import { type NdArray, parseEquation } from "@einconv/runtime";
import { indexPatternInfo, type PatternHyperparameters } from "@einconv/simplify";
import type { Expression } from "./_expression.ts";
import { describe } from "./_validate.ts";

/** Options of {@linkcode describeOperands}. */
export interface DescribeOperandsOptions {
  /**
   * The tensors the expression was built from, by name (e.g. `{ x, weight }`): an
   * operand that is one of them, or a view of its numbers, is called by its name.
   */
  inputs?: Readonly<Record<string, NdArray>>;
  /** Names by operand position; they win over every other naming. */
  names?: readonly (string | undefined)[];
}

/** What an operand of an expression is. */
export type OperandKind = "data" | "pattern" | "identity" | "scale";

/** One operand of an expression, as {@linkcode describeOperands} reads it. */
export interface OperandDescription {
  /** Position in `expression.operands`. */
  position: number;
  /** A data tensor, an index pattern, an identity matrix or a one-element constant. */
  kind: OperandKind;
  /** `x`, `weight`, … (from the inputs), `Π0`, `Π1`, … (patterns, in order), `δ0`, …
   * (identities), `scale`, or `T<position>` for an unknown tensor. */
  name: string;
  /** Its index names in the equation. */
  indices: string[];
  /** Its shape. */
  shape: number[];
  /** The hyperparameters of an index pattern. */
  pattern?: PatternHyperparameters;
  /** The value of a one-element constant. */
  value?: number;
}

/**
 * Names and classifies the operands of an expression: data tensors (named after the
 * `inputs` they are views of), index patterns (recognised by their hyperparameters,
 * named `Π0`, `Π1`, … in order), identity matrices (`δ0`, …) and one-element constants
 * (`scale`); any other tensor is `T<position>`.
 *
 * @param expression `{ equation, operands, shape }`, e.g. from {@linkcode convForward}.
 * @param options The inputs to name data operands by, or explicit names.
 * @returns One description per operand, in order.
 *
 * @example The operands of an unsimplified 1-d convolution
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convForward, describeOperands } from "@einconv/expressions";
 *
 * const x = tensor([[[1, 2, 3, 4]]]);
 * const weight = tensor([[[1, -1]]]);
 * const operands = describeOperands(convForward(x, weight, { simplify: false }), {
 *   inputs: { x, weight },
 * });
 * assert.deepEqual(operands.map((o) => o.name), ["x", "Π0", "weight"]);
 * assert.deepEqual(operands[1].indices, ["c", "d", "b"]);
 * assert.equal(operands[1].pattern?.kernelSize, 2);
 * ```
 */
export function describeOperands(
  expression: Expression,
  options: DescribeOperandsOptions = {},
): OperandDescription[] {
  if (
    expression === null || typeof expression !== "object" ||
    typeof expression.equation !== "string" || !Array.isArray(expression.operands)
  ) {
    throw new TypeError(
      `Cannot read expression: expected { equation, operands, shape }, got ${describe(expression)}`,
    );
  }
  const { operands } = expression;
  const parsed = parseEquation(expression.equation, operands.map((x) => x.shape.length));
  const inputs = Object.entries(options.inputs ?? {});
  const counters = { pattern: 0, identity: 0 };
  return operands.map((operand, position) => {
    const base = { position, indices: parsed.inputs[position], shape: [...operand.shape] };
    const input = inputs.find(([, tensor]) => tensor?.data === operand.data);
    const pattern = input === undefined ? indexPatternInfo(operand) : undefined;
    let description: OperandDescription;
    if (input !== undefined) description = { ...base, kind: "data", name: input[0] };
    else if (pattern !== undefined) {
      description = { ...base, kind: "pattern", name: `Π${counters.pattern++}`, pattern };
    } else if (isIdentity(operand)) {
      description = { ...base, kind: "identity", name: `δ${counters.identity++}` };
    } else if (operand.size === 1) {
      description = { ...base, kind: "scale", name: "scale", value: operand.data[operand.offset] };
    } else description = { ...base, kind: "data", name: `T${position}` };
    const name = options.names?.[position];
    return name === undefined ? description : { ...description, name };
  });
}

function isIdentity(x: NdArray): boolean {
  if (x.shape.length !== 2 || x.shape[0] !== x.shape[1]) return false;
  for (let i = 0; i < x.shape[0]; i++) {
    for (let j = 0; j < x.shape[1]; j++) {
      if (x.get(i, j) !== (i === j ? 1 : 0)) return false;
    }
  }
  return true;
}
