// toDot: one node per operand named after its role, one edge (or hyperedge) per index
// labelled with its letter and size, index patterns styled apart, output indices marked,
// and DOT that Graphviz (@viz-js/viz) renders. The DOT text is parsed, not matched whole.
import assert from "node:assert/strict";
import { instance } from "@viz-js/viz";
import { type NdArray, tensor, zeros } from "@einconv/runtime";
import { convForward, convKfc, type Expression, toDot } from "@einconv/expressions";

interface DotNode {
  id: string;
  attributes: Record<string, string>;
}

interface DotEdge {
  ends: [string, string];
  attributes: Record<string, string>;
}

/** The nodes and edges of the DOT that toDot writes (one statement per line). */
function parseDot(dot: string): { nodes: Map<string, DotNode>; edges: DotEdge[] } {
  const nodes = new Map<string, DotNode>();
  const edges: DotEdge[] = [];
  for (const line of dot.split("\n").map((text) => text.trim())) {
    const edge = /^(\w+) -- (\w+) \[(.*)\];$/.exec(line);
    if (edge !== null) {
      edges.push({ ends: [edge[1], edge[2]], attributes: parseAttributes(edge[3]) });
      continue;
    }
    const node = /^(\w+) \[(.*)\];$/.exec(line);
    if (node !== null && !["graph", "node", "edge"].includes(node[1])) {
      nodes.set(node[1], { id: node[1], attributes: parseAttributes(node[2]) });
    }
  }
  return { nodes, edges };
}

function parseAttributes(text: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of text.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|[^,\s]+)/g)) {
    attributes[match[1]] = match[2].startsWith('"')
      ? match[2].slice(1, -1).replace(/\\n/g, "\n").replace(/\\(.)/g, "$1")
      : match[2];
  }
  return attributes;
}

/** The index letters of the equation: per operand and of the output. */
function indicesOf(expression: Expression): { inputs: string[][]; output: string[] } {
  const [inputs, output] = expression.equation.split("->");
  return { inputs: inputs.split(",").map((term) => [...term]), output: [...output] };
}

function operandNodes(nodes: Map<string, DotNode>): DotNode[] {
  return [...nodes.values()].filter((node) => node.id.startsWith("op"));
}

/** Checks that every index of the equation is drawn between exactly the right ends. */
function assertIndexEdges(expression: Expression, dot: string): void {
  const { nodes, edges } = parseDot(dot);
  const { inputs, output } = indicesOf(expression);
  const sizes = new Map<string, number>();
  inputs.forEach((term, at) =>
    term.forEach((index, d) => sizes.set(index, expression.operands[at].shape[d]))
  );
  for (const index of new Set([...inputs.flat(), ...output])) {
    const expected = inputs.flatMap((term, at) => (term.includes(index) ? [`op${at}`] : []));
    if (output.includes(index)) expected.push(`out_${index}`);
    if (expected.length === 1) expected.push(`sum_${index}`);
    const label = `${index} (${sizes.get(index)})`;
    if (expected.length === 2) {
      const edge = edges.find((e) => e.attributes.label === label);
      assert.ok(edge, `no edge labelled ${label}`);
      assert.deepEqual([...edge.ends].sort(), [...expected].sort(), `ends of ${label}`);
    } else {
      const hub = nodes.get(`hyper_${index}`);
      assert.equal(hub?.attributes.xlabel, label, `hyperedge of ${index}`);
      const spokes = edges.filter((e) => e.ends[1] === `hyper_${index}`).map((e) => e.ends[0]);
      assert.deepEqual(spokes.sort(), [...expected].sort(), `spokes of ${index}`);
    }
  }
  const labelled = edges.filter((e) => e.attributes.label !== undefined).length;
  const hubs = [...nodes.keys()].filter((id) => id.startsWith("hyper_")).length;
  assert.equal(labelled + hubs, new Set([...inputs.flat(), ...output]).size, "one edge per index");
}

Deno.test("toDot() draws a node per operand, named after its role", () => {
  const x = zeros([2, 3, 8, 8]);
  const weight = zeros([4, 3, 3, 3]);
  const expression = convForward(x, weight, { stride: 2, padding: 1, simplify: false });
  const { nodes } = parseDot(toDot(expression, { inputs: { x, weight } }));
  const operands = operandNodes(nodes);
  assert.equal(operands.length, expression.operands.length);
  assert.deepEqual(
    operands.map((node) => node.attributes.label.split("\n")[0]),
    ["x", "Π0", "Π1", "weight"],
  );
  assert.equal(nodes.get("op0")?.attributes.label, "x\n[2, 1, 3, 8, 8]");
});

Deno.test("toDot() draws an edge per index with its letter and size", () => {
  const x = zeros([2, 3, 8, 8]);
  const weight = zeros([4, 3, 3, 3]);
  for (const simplify of [false, true]) {
    const expression = convForward(x, weight, { stride: 2, padding: 1, simplify });
    assertIndexEdges(expression, toDot(expression, { inputs: { x, weight } }));
  }
  const kfc = convKfc(zeros([2, 4, 6]), 3, { groups: 2, simplify: false });
  assertIndexEdges(kfc, toDot(kfc));
});

Deno.test("toDot() joins an index shared by three or more ends in a hyperedge point", () => {
  // Unsimplified, the group index g is in x, the weight and the output.
  const expression = convForward(zeros([1, 4, 5]), zeros([2, 2, 3]), {
    groups: 2,
    simplify: false,
  });
  const { nodes, edges } = parseDot(toDot(expression));
  const g = indicesOf(expression).inputs[0][1];
  assert.equal(nodes.get(`hyper_${g}`)?.attributes.shape, "point");
  assert.equal(nodes.get(`hyper_${g}`)?.attributes.class, "hyperedge");
  assert.equal(edges.filter((e) => e.ends[1] === `hyper_${g}`).length, 3);
});

Deno.test("toDot() styles index patterns apart from data and labels their hyperparameters", () => {
  const x = zeros([1, 2, 9]);
  const weight = zeros([3, 2, 3]);
  const options = { stride: 2, padding: [1], dilation: 2 };
  const built = convForward(x, weight, { ...options, simplify: false });
  const { nodes } = parseDot(toDot(built, { inputs: { x, weight } }));
  const pattern = nodes.get("op1")!.attributes;
  const data = nodes.get("op0")!.attributes;
  assert.equal(pattern.class, "operand pattern");
  assert.equal(data.class, "operand data");
  assert.notEqual(pattern.shape, data.shape);
  assert.notEqual(pattern.fillcolor, data.fillcolor);
  assert.equal(pattern.label, "Π0\nK=3 O=4 I=9\nstride 2, padding 1+1, dilation 2");
  // Simplified, the pattern reads the odd inputs only: a stride-1 pattern over those four.
  const simplified = parseDot(toDot(convForward(x, weight, options), { inputs: { x, weight } }));
  assert.equal(
    simplified.nodes.get("op1")!.attributes.label,
    "Π0\nK=3 O=4 I=4\nstride 1, padding 1+1, dilation 1",
  );
});

Deno.test("toDot() marks every output index with a numbered point in the output cluster", () => {
  const x = zeros([2, 3, 8, 8]);
  const expression = convForward(x, zeros([4, 3, 3, 3]), { padding: 1 });
  const dot = toDot(expression);
  const { nodes } = parseDot(dot);
  const { output } = indicesOf(expression);
  const cluster = dot.slice(dot.indexOf("subgraph cluster_output"), dot.indexOf("\n  }\n"));
  assert.match(cluster, /label="output \[2, 4, 8, 8\]"/);
  output.forEach((index, at) => {
    const node = nodes.get(`out_${index}`);
    assert.ok(node && cluster.includes(`out_${index} [`), `output ${index} in the cluster`);
    assert.equal(node.attributes.class, "output");
    assert.equal(node.attributes.shape, "point");
    assert.equal(node.attributes.xlabel, String(at));
  });
});

Deno.test("toDot() names identities, constants, unknown tensors, and takes names and a title", () => {
  const eye = tensor([[1, 0], [0, 1]]);
  const other = tensor([[1, 2], [3, 4]]);
  const scale = tensor([0.5]);
  const expression = { equation: "ab,bc,s->ac", operands: [eye, other, scale], shape: [2, 2] };
  const { nodes, edges } = parseDot(toDot(expression));
  assert.deepEqual(
    operandNodes(nodes).map((node) => [node.attributes.label, node.attributes.class]),
    [
      ["δ0\n[2, 2]", "operand identity"],
      ["T1\n[2, 2]", "operand data"],
      ["scale\n0.5", "operand scale"],
    ],
  );
  assert.deepEqual(edges.find((e) => e.attributes.label === "s (1)")?.ends, ["op2", "sum_s"]);
  const named = toDot(expression, { names: [undefined, "A"], title: 'a "title"' });
  assert.equal(parseDot(named).nodes.get("op1")?.attributes.label, "A\n[2, 2]");
  assert.match(named, /label="a \\"title\\""/);
});

Deno.test("toDot() names an operand after the input it is a view of", () => {
  // Stride = kernel: simplification turns the patterns into reshapes of x.
  const x = zeros([2, 4, 6]);
  const expression = convKfc(x, 3, { groups: 2, stride: 3 });
  const names = operandNodes(parseDot(toDot(expression, { inputs: { x } })).nodes)
    .map((node) => node.attributes.label.split("\n")[0]);
  assert.deepEqual(names, ["x", "x", "scale"]);
});

Deno.test("toDot() rejects what is not an expression and names it", () => {
  assert.throws(() => toDot(null as unknown as Expression), {
    name: "TypeError",
    message: /^Cannot read expression: expected \{ equation, operands, shape \}, got null$/,
  });
  assert.throws(
    () => toDot({ equation: "ab->a", operands: [zeros([2])] as NdArray[], shape: [2] }),
    { name: "RangeError" },
  );
});

Deno.test("toDot() output renders to SVG with @viz-js/viz", async () => {
  const x = zeros([2, 3, 8, 8]);
  const weight = zeros([4, 3, 3, 3]);
  const viz = await instance();
  for (const simplify of [false, true]) {
    const dot = toDot(convForward(x, weight, { stride: 2, simplify }), { inputs: { x, weight } });
    const svg = viz.renderString(dot, { format: "svg" });
    assert.match(svg, /^<\?xml[\s\S]*<svg[\s\S]*<\/svg>\s*$/);
    assert.match(svg, /Π0/);
    assert.match(svg, /class="node operand pattern"/);
  }
  const kfc = toDot(convKfc(x, 3, { simplify: false }));
  assert.doesNotThrow(() => viz.renderString(kfc, { format: "svg" }));
});
