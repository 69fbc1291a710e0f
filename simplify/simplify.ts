import {
  checkTensor,
  contractPath,
  denseIndexPattern,
  indexPatternInfo,
  isVirtualIndexPattern,
  type NdArray,
  resultDType,
} from "@einconv/runtime";
import { simplifyNetwork } from "./simplify_network.ts";
import { SymbolicTensor } from "./symbolic_tensor.ts";
import { networkEquation, type TensorNetwork } from "./tensor_network.ts";

/** An einsum equation with its operands. */
export interface EinsumOperands {
  /** The einsum equation (single letters, numpy style). */
  equation: string;
  /** The operands, one per term. */
  operands: NdArray[];
}

/**
 * Applies the symbolic simplification rules (see {@linkcode simplifyNetwork}) to an
 * einsum of concrete tensors, typically an expression built with `simplify: false`.
 * Index patterns are recognised when they were built by `indexPattern` or the
 * expression builders (see {@linkcode registerIndexPattern}) and are unchanged.
 *
 * The result has the same value. Its operands are views of the given tensors where
 * possible (never changed), new identity matrices, constants or index patterns (registered,
 * like `indexPattern`'s) otherwise. Operands with a
 * repeated index or broadcast dimensions are returned as they are.
 *
 * @param equation An einsum equation, numpy or einops style.
 * @param operands The tensors.
 * @returns An equivalent equation and operands.
 *
 * @example A size-1 index disappears
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { simplify } from "@einconv/simplify";
 *
 * const x = tensor([[[1, 2]]]);
 * const w = tensor([[3], [4]]);
 * const simplified = simplify("gni,ig->n", [x, w]);
 * assert.equal(simplified.equation, "i,i->");
 * ```
 */
export function simplify(equation: string, operands: readonly NdArray[]): EinsumOperands {
  operands.forEach((x, at) => {
    checkTensor(x, `operand ${at}`);
    if (isVirtualIndexPattern(x)) {
      throw new RangeError(
        `Cannot simplify operand ${at}: it is a virtual index pattern without numbers; build the expression with patternOperands: "dense"`,
      );
    }
  });
  const plan = contractPath(equation, ...operands);
  const { inputs, output } = plan.parsed;
  const unchanged = { equation, operands: [...operands] };
  const broadcast = operands.some((x, at) =>
    x.shape.some((size, d) => size !== plan.sizes.get(inputs[at][d]))
  );
  if (broadcast || inputs.some((names) => new Set(names).size !== names.length)) {
    return unchanged;
  }
  const network: TensorNetwork = {
    operands: operands.map((x, at) =>
      new SymbolicTensor({
        source: { kind: "input", name: String(at) },
        indices: inputs[at],
        shape: x.shape,
        pattern: indexPatternInfo(x),
      })
    ),
    output,
  };
  const simplified = simplifyNetwork(network);
  const dtype = resultDType(operands);
  const bound = Object.fromEntries(operands.map((x, at) => [String(at), x]));
  return {
    equation: networkEquation(simplified),
    operands: simplified.operands.map((t) =>
      t.materialize({ inputs: bound, dtype, pattern: denseIndexPattern })
    ),
  };
}
