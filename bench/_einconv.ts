// This library as a runner of bench/compare.ts, through its public API only.
import {
  configureWorkers,
  contiguous,
  convNd,
  convNdInputVjp,
  convNdWeightVjp,
  einsum,
  type NdArray,
  tensor,
  toShared,
  zeros,
} from "../mod.ts";
import { resultShape } from "./_cases.ts";
import type { CaseInputs } from "./_inputs.ts";
import type { Runner } from "./_runner.ts";

/** A product large enough to be sharded: it starts the pool's workers before timing. */
const WARM_UP = zeros([256, 256], "float32");

/**
 * einconv with `workers` pool workers as a runner. Operands are placed in shared memory
 * once ({@linkcode toShared}), as a program reusing its tensors would, so calls time the
 * computation rather than a copy of the operands. Results go into one output reused from
 * call to call (`{ out }`), as tfjs-wasm keeps its results in its own reused memory,
 * unless `freshResults`: then every call returns a new array and pays the page faults of
 * fresh memory, as a program that keeps its results would.
 */
export function einconvRunner(workers: number, freshResults = false): Runner {
  return {
    label: `einconv ×${workers}${freshResults ? " new" : ""}`,
    ours: true,
    async activate() {
      // workers stay up between cases (while peers run too) instead of ending when idle
      configureWorkers({ count: workers, idleTimeout: Infinity });
      await einsum("ij,jk->ik", WARM_UP, WARM_UP);
    },
    prepare(c, inputs) {
      const load = (name: string) => operand(inputs, name, c.dtype);
      // Allocated (and its pages touched) once, before timing.
      const reused = freshResults ? undefined : zeros(resultShape(c), c.dtype);
      let call: () => Promise<NdArray>;
      if (c.kind === "gemm") {
        const [a, b] = [load("a"), load("b")];
        call = reused === undefined
          ? () => einsum("ij,jk->ik", a, b)
          : () => einsum("ij,jk->ik", a, b, { out: reused });
      } else {
        const options = {
          stride: c.stride,
          padding: c.padding,
          dilation: c.dilation,
          groups: c.groups,
          out: reused,
        };
        const [x, w, dy] = [load("x"), load("w"), load("dy")];
        call = c.op === "fwd"
          ? () => convNd(x, w, null, options)
          : c.op === "dx"
          ? () => convNdInputVjp(w, dy, c.inputSize, options)
          : () => convNdWeightVjp(x, dy, c.kernelSize, options);
      }
      let out: NdArray | null = null;
      return {
        ready: {
          async run() {
            out = await call();
          },
          result() {
            const flat = contiguous(out!);
            return { shape: flat.shape, data: flat.data };
          },
          dispose() {
            out = null;
          },
        },
      };
    },
  };
}

/** One input of a case as a shared tensor of the case's dtype. */
export function operand(inputs: CaseInputs, name: string, dtype: "float32" | "float64"): NdArray {
  const { data, shape } = inputs[name];
  return toShared(tensor(data, { shape, dtype }));
}
