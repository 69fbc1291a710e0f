// copyElements: the same elements as TypedArray.set, whichever sides are shared, whatever
// their offsets modulo 8 bytes (the float32 runs 4 bytes apart go through a bounce buffer,
// in chunks), and without V8's byte-by-byte copy of shared memory.
import assert from "node:assert/strict";
import { copyElements } from "../../runtime/_copy_elements.ts";

type Make = (n: number) => Float32Array | Float64Array;

const makers: Record<string, Make> = {
  "float32": (n) => new Float32Array(n),
  "shared float32": (n) => new Float32Array(new SharedArrayBuffer(4 * n)),
  "shared float32 at byte 4": (n) => new Float32Array(new SharedArrayBuffer(4 * n + 4), 4, n),
  "float64": (n) => new Float64Array(n),
  "shared float64": (n) => new Float64Array(new SharedArrayBuffer(8 * n)),
};

Deno.test("copyElements() copies what TypedArray.set copies, shared or not, at any offset", () => {
  // Runs shorter than one bounce, longer than one (65,536 elements) and not a multiple.
  for (const length of [1, 63, 64, 1001, 65_536 + 3, 2 * 65_536 + 77]) {
    for (const [srcName, makeSrc] of Object.entries(makers)) {
      for (const [dstName, makeDst] of Object.entries(makers)) {
        for (const [from, at] of [[0, 0], [1, 0], [0, 1], [3, 6], [2, 5]]) {
          const src = makeSrc(length + 8);
          for (let i = 0; i < src.length; i++) src[i] = (i * 7919) % 1009 - 504.25;
          const dst = makeDst(length + 8);
          dst.fill(-1);
          const want = makeDst(length + 8);
          want.fill(-1);
          want.set(src.subarray(from, from + length), at);
          copyElements(dst, at, src, from, from + length);
          assert.deepEqual(dst, want, `${srcName} → ${dstName}, ${length} from ${from} at ${at}`);
        }
      }
    }
  }
});

Deno.test("copyElements() within one shared buffer copies as if through a temporary", () => {
  const n = 3 * 65_536;
  for (const [from, at] of [[0, 1001], [1001, 0], [1, 65_538], [65_538, 1]]) {
    const data = new Float32Array(new SharedArrayBuffer(4 * (2 * n)));
    data.forEach((_, i) => data[i] = i);
    const want = Float32Array.from(data);
    want.set(want.slice(from, from + n), at);
    copyElements(data, at, data, from, from + n);
    const wrong = want.findIndex((value, i) => data[i] !== value);
    assert.equal(wrong, -1, `${n} from ${from} at ${at}: element ${wrong} differs`);
  }
});
