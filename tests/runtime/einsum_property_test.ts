import assert from "node:assert/strict";
import { assertAllClose, type DType, dtypeOf, einsumSync, type NdArray } from "@einconv/runtime";
import { mulberry32, randomEinsumProblem, randomTensor, randomView } from "../_random.ts";
import { referenceEinsum } from "../_reference_einsum.ts";

/** One random problem with its operands, some of them strided views. */
interface PropertyCase {
  label: string;
  equation: string;
  operands: NdArray[];
}

const PROBLEMS = 300;

/** The same seeded problems for every test; operands in `dtype`, about 40% as views. */
function propertyCases(dtype: DType): PropertyCase[] {
  const rng = mulberry32(20261125);
  return Array.from({ length: PROBLEMS }, (_, p) => {
    const { equation, shapes } = randomEinsumProblem(rng, { maxOperands: 4 });
    const operands = shapes.map((shape) => {
      const t = randomTensor(rng, shape, dtype);
      return rng() < 0.4 ? randomView(rng, t) : t;
    });
    const described = operands.map((x) =>
      `[${x.shape}]` + (isContiguous(x) ? "" : ` view(stride [${x.stride}], offset ${x.offset})`)
    );
    return {
      label: `problem ${p}: ${JSON.stringify(equation)} ${described.join(", ")}`,
      equation,
      operands,
    };
  });
}

function isContiguous(x: NdArray): boolean {
  if (x.shape.includes(0)) return true;
  let step = 1;
  for (let d = x.shape.length - 1; d >= 0; d--) {
    if (x.shape[d] !== 1 && x.stride[d] !== step) return false;
    step *= x.shape[d];
  }
  return x.offset === 0 && x.data.length === step;
}

/** Runs `check` on every case and fails once, listing every case that failed. */
function checkAll(dtype: DType, check: (c: PropertyCase) => void): void {
  const failures: string[] = [];
  for (const c of propertyCases(dtype)) {
    try {
      check(c);
    } catch (error) {
      failures.push(`${c.label}\n    ${error instanceof Error ? error.message : error}`);
    }
  }
  assert.equal(
    failures.length,
    0,
    `${failures.length} of ${PROBLEMS} failed:\n${failures.join("\n")}`,
  );
}

for (const [dtype, rtol] of [["float64", 1e-10], ["float32", 1e-4]] as const) {
  Deno.test(`einsumSync() matches referenceEinsum() on random ${dtype} problems`, () => {
    checkAll(dtype, ({ equation, operands }) => {
      const result = einsumSync(equation, ...operands);
      assertAllClose(result, referenceEinsum(equation, ...operands), { rtol });
    });
  });

  Deno.test(`einsumSync() returns new C-contiguous ${dtype} results`, () => {
    checkAll(dtype, ({ equation, operands }) => {
      const result = einsumSync(equation, ...operands);
      assert.equal(dtypeOf(result), dtype, "dtype");
      assert.ok(isContiguous(result), `stride [${result.stride}], offset ${result.offset}`);
      assert.ok(operands.every((x) => x.data !== result.data), "result shares an operand's buffer");
    });
  });

  Deno.test(`einsumSync() leaves random ${dtype} operands unchanged`, () => {
    checkAll(dtype, ({ equation, operands }) => {
      const buffers = operands.map((x) => x.data.slice());
      const views = operands.map((x) => ({
        shape: [...x.shape],
        stride: [...x.stride],
        offset: x.offset,
      }));
      einsumSync(equation, ...operands);
      operands.forEach((x, k) => {
        assert.deepEqual({ shape: x.shape, stride: x.stride, offset: x.offset }, views[k]);
        assert.deepEqual(x.data, buffers[k], `operand ${k}: its buffer changed`);
      });
    });
  });
}

/** Cases the random draw rarely reaches, each commented with what it varies. */
const edgeCases: { equation: string; shapes: number[][] }[] = [
  // a size-1 ellipsis dimension broadcasts against size 0, as in numpy
  { equation: "...,...->...", shapes: [[1], [0]] },
  { equation: "O...,...fOi->...Oi", shapes: [[4, 1], [0, 1, 4, 2]] },
  // an ellipsis of size 1 broadcasting inside a diagonal
  { equation: "ii...,i->...i", shapes: [[3, 3, 1, 2], [3]] },
  // every operand 0-d
  { equation: ",,->", shapes: [[], [], []] },
];

Deno.test("einsumSync() matches referenceEinsum() on edge cases", () => {
  const rng = mulberry32(7);
  for (const { equation, shapes } of edgeCases) {
    const operands = shapes.map((shape) => randomTensor(rng, shape));
    assertAllClose(einsumSync(equation, ...operands), referenceEinsum(equation, ...operands), {
      message: `${JSON.stringify(equation)} with shapes ${JSON.stringify(shapes)}`,
    });
  }
});
