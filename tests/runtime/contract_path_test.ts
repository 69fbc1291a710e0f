import assert from "node:assert/strict";
import { contractPath } from "@einconv/runtime";
import { flopCount, keptIndices, type Path, sizeOf } from "../../runtime/_paths.ts";
import { mulberry32 } from "../_random.ts";

/** The cheapest pairwise order by trying every one (opt_einsum's cost). */
function bruteForceFlops(
  inputs: Set<string>[],
  output: Set<string>,
  sizes: Map<string, number>,
): number {
  if (inputs.length === 1) return 0;
  let best = Infinity;
  for (let i = 0; i < inputs.length; i++) {
    for (let j = i + 1; j < inputs.length; j++) {
      const others = inputs.filter((_, at) => at !== i && at !== j);
      const result = keptIndices(inputs[i], inputs[j], others, output);
      const both = new Set([...inputs[i], ...inputs[j]]);
      const cost = flopCount(both, both.size > result.size, 2, sizes);
      best = Math.min(best, cost + bruteForceFlops([...others, result], output, sizes));
    }
  }
  return best;
}

/** A random network: `count` operands over letters with sizes 1..5. */
function randomNetwork(rng: () => number, count: number) {
  const letters = "abcdefghij".slice(0, 3 + Math.floor(rng() * 6));
  const sizes = new Map([...letters].map((l) => [l, 1 + Math.floor(rng() * 5)]));
  const terms: string[] = [];
  for (let t = 0; t < count; t++) {
    let term = "";
    for (const l of letters) if (rng() < 0.4 && !term.includes(l)) term += l;
    terms.push(term || letters[Math.floor(rng() * letters.length)]);
  }
  const used = [...new Set(terms.join(""))];
  const output = used.filter(() => rng() < 0.3).join("");
  const equation = `${terms.join(",")}->${output}`;
  const shapes = terms.map((term) => [...term].map((l) => sizes.get(l)!));
  return { equation, shapes, terms, output, sizes };
}

function pathFlops(plan: { steps: readonly { flops: number; operands: readonly number[] }[] }) {
  return plan.steps.filter((s) => s.operands.length === 2).reduce((sum, s) => sum + s.flops, 0);
}

Deno.test("contractPath() optimal cost equals a brute-force search on random networks", () => {
  const rng = mulberry32(7);
  for (let trial = 0; trial < 60; trial++) {
    const net = randomNetwork(rng, 2 + Math.floor(rng() * 4));
    const plan = contractPath(net.equation, ...net.shapes, { optimize: "optimal" });
    const expected = bruteForceFlops(
      net.terms.map((t) => new Set(t)),
      new Set(net.output),
      net.sizes,
    );
    assert.equal(pathFlops(plan), expected, net.equation);
  }
});

Deno.test("contractPath() is never costlier than naive left-to-right", () => {
  const rng = mulberry32(11);
  for (let trial = 0; trial < 80; trial++) {
    const net = randomNetwork(rng, 2 + Math.floor(rng() * 9));
    const naive = contractPath(net.equation, ...net.shapes, { optimize: "naive" });
    for (const optimize of ["auto", "optimal", "greedy"] as const) {
      if (optimize === "optimal" && net.shapes.length > 8) continue;
      const plan = contractPath(net.equation, ...net.shapes, { optimize });
      assert.ok(plan.flops <= naive.flops, `${optimize} ${net.equation}`);
    }
  }
});

Deno.test("contractPath() plans a chain of 30 operands greedily in well under a second", () => {
  const letters = "abcdefghijklmnopqrstuvwxyzABCDEF";
  const terms = Array.from({ length: 30 }, (_, i) => letters[i] + letters[i + 1]);
  const shapes = terms.map((_, i) => [2 + (i % 5), 2 + ((i + 1) % 5)]);
  const start = performance.now();
  const plan = contractPath(`${terms.join(",")}->a${letters[30]}`, ...shapes);
  const elapsed = performance.now() - start;
  assert.equal(plan.strategy, "auto");
  assert.equal(plan.path.length, 29);
  assert.ok(elapsed < 1000, `planning took ${elapsed} ms`);
  assert.deepEqual(plan.outputShape, [2, 2 + (30 % 5)]);
});

Deno.test("contractPath() contracts a matrix chain from its cheap end", () => {
  const plan = contractPath("ij,jk,kl->il", [100, 100], [100, 100], [100, 2]);
  assert.deepEqual(plan.path, [[1, 2], [0, 1]]);
  // opt_einsum: (jk,kl->jl) 100*100*2*2 + (ij,jl->il) 100*100*2*2
  assert.equal(plan.flops, 40000 + 40000);
  assert.equal(plan.naiveFlops, 100 * 100 * 100 * 2 * 3);
  assert.equal(plan.largestIntermediate, 200);
  assert.match(plan.toString(), /Optimized FLOP count:\s+80000/);
  assert.match(plan.toString(), /jk,kl->jl/);
});

Deno.test("contractPath() follows opt_einsum's path convention", () => {
  // Applying the path to the operand list must consume every operand once.
  const rng = mulberry32(3);
  for (let trial = 0; trial < 30; trial++) {
    const net = randomNetwork(rng, 2 + Math.floor(rng() * 10));
    const plan = contractPath(net.equation, ...net.shapes);
    let count = net.shapes.length;
    for (const [i, j] of plan.path as Path) {
      assert.ok(0 <= i && i < j && j < count, `${net.equation}: pair ${i},${j} of ${count}`);
      count--;
    }
    assert.equal(count, 1);
  }
});

Deno.test("contractPath() respects memoryLimit", () => {
  const shapes = [[10, 10], [10, 10], [10, 10]];
  const free = contractPath("ab,cd,bc->ad", ...shapes, { optimize: "optimal" });
  assert.equal(free.largestIntermediate, 100);
  const bounded = contractPath("ab,cd,bc->ad", ...shapes, {
    optimize: "optimal",
    memoryLimit: 100,
  });
  assert.ok(bounded.largestIntermediate <= 100);
  assert.throws(
    () => contractPath("ab,bc,cd->ad", ...shapes, { optimize: "optimal", memoryLimit: 50 }),
    { name: "RangeError", message: /memoryLimit=50/ },
  );
});

Deno.test("contractPath() accepts shapes or ndarrays and sizes broadcast ellipses", () => {
  const plan = contractPath("...ij,...jk->...ik", [2, 1, 3, 4], [5, 4, 6]);
  assert.deepEqual(plan.outputShape, [2, 5, 3, 6]);
  assert.equal(sizeOf(["...0", "...1"], plan.sizes), 10);
});

Deno.test("contractPath() rejects an unknown planner and names the allowed ones", () => {
  assert.throws(
    () => contractPath("ij,jk", [2, 2], [2, 2], { optimize: "best" as "auto" }),
    {
      name: "RangeError",
      message:
        'Cannot read optimize: expected one of "auto", "optimal", "greedy", "naive", got "best"',
    },
  );
});
