import { parseEquation } from "@einconv/runtime";
import type { PatternHyperparameters } from "@einconv/simplify";
import type { Expression } from "./_expression.ts";
import {
  describeOperands,
  type DescribeOperandsOptions,
  type OperandDescription,
  type OperandKind,
} from "./describe_operands.ts";

/** Options of {@linkcode toDot}: how to name operands (see
 * {@linkcode describeOperands}) and the caption. */
export interface ToDotOptions extends DescribeOperandsOptions {
  /** The graph's caption (default: the equation). */
  title?: string;
}

const STYLES: Record<OperandKind, string> = {
  data: 'shape=ellipse, style=filled, fillcolor="#dbe9f6", color="#2b5d8a"',
  pattern:
    'shape=box, style="filled,rounded", fillcolor="#fde2c4", color="#c15f0b", penwidth=1.6, margin="0.2,0.06"',
  identity: 'shape=box, style="filled,dashed", fillcolor="#eeeeee", color="#777777"',
  scale: 'shape=circle, style=filled, fillcolor="#f3f3f3", color="#777777", fontsize=10',
};

/**
 * Draws an expression's tensor network as Graphviz DOT, in the manner of the diagrams
 * of Dangel's paper: every operand is a node (data tensors as blue ellipses, index
 * patterns as orange boxes labelled with `K`, `O`, `I`, stride, padding and dilation,
 * identities as dashed boxes, constants as circles), every index an edge labelled with
 * its letter and size between the operands that share it (through a small point when
 * three or more ends meet), and every output index a dangling edge to a point, numbered
 * by its position, in the dashed `output` cluster.
 *
 * @param expression `{ equation, operands, shape }`, e.g. from {@linkcode convForward}.
 * @param options Input tensors to name operands by (`{ inputs: { x, weight } }`),
 *   explicit names and a title.
 * @returns The DOT source of an undirected graph; render it with any Graphviz.
 *
 * @example A 1-d convolution: x, one index pattern and the weight
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@einconv/runtime";
 * import { convForward, toDot } from "@einconv/expressions";
 *
 * const x = tensor([[[1, 2, 3, 4]]]);
 * const weight = tensor([[[1, -1]]]);
 * const dot = toDot(convForward(x, weight, { simplify: false }), { inputs: { x, weight } });
 * assert.match(dot, /^graph tensor_network \{/);
 * assert.match(dot, /op0 \[label="x\\n\[1, 1, 1, 4\]"/);
 * assert.match(dot, /op1 \[label="Π0\\nK=2 O=3 I=4\\nstride 1, padding 0\+0, dilation 1"/);
 * assert.match(dot, /op1 -- out_d \[label="d \(3\)"/);
 * ```
 */
export function toDot(expression: Expression, options: ToDotOptions = {}): string {
  const operands = describeOperands(expression, options);
  const parsed = parseEquation(expression.equation, operands.map((o) => o.shape.length));
  const sizes = new Map<string, number>();
  for (const operand of operands) {
    operand.indices.forEach((index, d) => sizes.set(index, operand.shape[d]));
  }
  const lines = [
    "graph tensor_network {",
    `  graph [rankdir=LR, label=${
      quote(options.title ?? expression.equation)
    }, labelloc=t, fontname="Helvetica", nodesep=0.35, ranksep=0.6];`,
    '  node [fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=10, color="#444444"];',
    ...operands.map((operand) =>
      `  op${operand.position} [label=${
        quote(nodeLabel(operand))
      }, class="operand ${operand.kind}", ${STYLES[operand.kind]}];`
    ),
    "  subgraph cluster_output {",
    `    label=${quote(`output [${parsed.output.map((i) => sizes.get(i) ?? 1).join(", ")}]`)};`,
    '    style=dashed; color="#2b5d8a"; fontcolor="#2b5d8a"; class="output";',
    "    { rank=same;",
    ...parsed.output.map((index, at) =>
      `      out_${
        nodeId(index)
      } [shape=point, width=0.08, color="#2b5d8a", class="output", xlabel=${quote(String(at))}];`
    ),
    "    }",
    "  }",
  ];
  for (const index of new Set([...parsed.inputs.flat(), ...parsed.output])) {
    const id = nodeId(index);
    const label = quote(`${index} (${sizes.get(index) ?? 1})`);
    const ends = operands.filter((o) => o.indices.includes(index)).map((o) => `op${o.position}`);
    if (parsed.output.includes(index)) ends.push(`out_${id}`);
    else if (ends.length === 1) {
      lines.push(`  sum_${id} [shape=point, width=0.05, class="summed", label=""];`);
      ends.push(`sum_${id}`);
    }
    if (ends.length === 2) {
      lines.push(`  ${ends[0]} -- ${ends[1]} [label=${label}, class="index"];`);
      continue;
    }
    lines.push(
      `  hyper_${id} [shape=point, width=0.1, class="hyperedge", xlabel=${label}];`,
      ...ends.map((end) => `  ${end} -- hyper_${id} [class="index"];`),
    );
  }
  return `${lines.join("\n")}\n}\n`;
}

function nodeLabel(operand: OperandDescription): string {
  if (operand.pattern !== undefined) return `${operand.name}\n${describePattern(operand.pattern)}`;
  if (operand.value !== undefined) return `${operand.name}\n${formatNumber(operand.value)}`;
  return `${operand.name}\n[${operand.shape.join(", ")}]`;
}

function describePattern(p: PatternHyperparameters): string {
  return `K=${p.kernelSize} O=${p.outputSize} I=${p.inputSize}\nstride ${p.stride}, padding ${p.paddingLeft}+${p.paddingRight}, dilation ${p.dilation}`;
}

function formatNumber(value: number): string {
  return String(Number(value.toPrecision(6)));
}

/** A DOT identifier for an index name (letters, digits and `_` kept, others coded). */
function nodeId(index: string): string {
  return [...index].map((c) => /[A-Za-z0-9_]/.test(c) ? c : `_${c.charCodeAt(0)}_`).join("");
}

function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}
