// Contractions with an index pattern: gathers and scatter-adds over its ones.
import type { DType } from "./tensor.ts";
import { allocate, contiguousStrides, forEachOffsetPair, shapeSize } from "./_tensor.ts";
import { dropPrivate, type View } from "./_view.ts";
import { contractPair } from "./_pair_kernels.ts";
import { fillIndexPattern, patternInput } from "./index_pattern_registry.ts";

/** A pattern view's numbers built from its hyperparameters (patterns may be virtual
 * placeholders without numbers), for a step where it meets another pattern. */
export function densePattern(view: View, dtype: DType): View {
  const shape = [...view.shape];
  const data = allocate(dtype, shapeSize(shape));
  fillIndexPattern(data, view.pattern!, shape, view.origin);
  return {
    data,
    offset: 0,
    names: [...view.names],
    shape,
    strides: contiguousStrides(shape),
    owned: true,
  };
}

/** A pattern view summed over its outputs (`summed` 1: `Σ_o P[k, o, i]`, dense `[k, i]`)
 * or its inputs (2: `Σ_i P[k, o, i]`, dense `[k, o]`): how many of those each pair of the
 * other two reaches. */
function patternSums(pattern: View, summed: number, dtype: DType): View {
  const p = pattern.pattern!;
  const [kOrigin, oOrigin, iOrigin] = pattern.origin!;
  const [kSize, oSize, iSize] = pattern.shape;
  const width = summed === 1 ? iSize : oSize;
  const data = allocate(dtype, kSize * width);
  for (let k = 0; k < kSize; k++) {
    for (let o = 0; o < oSize; o++) {
      const i = patternInput(p, k + kOrigin, o + oOrigin) - iOrigin;
      if (i >= 0 && i < iSize) data[k * width + (summed === 1 ? i : o)] += 1;
    }
  }
  const shape = [kSize, width];
  return {
    data,
    offset: 0,
    names: [pattern.names[0], pattern.names[3 - summed]],
    shape,
    strides: contiguousStrides(shape),
    owned: true,
  };
}

/**
 * Contracts an index pattern `[k, o, i]` with a tensor as a gather or scatter-add: for
 * every one of the pattern (every kernel tap `k` and output `o` whose input `i` lies
 * inside), the tensor's slice at that `(k, o, i)` is added to the result's slice. Every
 * result entry sums its contributions in the order of the pattern's ones, whatever the
 * loop order, so shards reproduce the whole result bit for bit. When the pattern's outputs
 * (or inputs) are summed away, the step is one dense product with the pattern's sums over
 * them, whose kernel `sizes` (the whole contraction's) choose.
 */
export function contractPattern(
  pattern: View,
  t: View,
  keep: ReadonlySet<string>,
  dtype: DType,
  sizes: ReadonlyMap<string, number>,
): View {
  t = dropPrivate(t, pattern, keep, dtype);
  const p = pattern.pattern!;
  const origin = pattern.origin!;
  const summed = [1, 2].find((d) =>
    !keep.has(pattern.names[d]) && !t.names.includes(pattern.names[d]) &&
    t.names.includes(pattern.names[3 - d])
  );
  if (summed !== undefined) {
    // The outputs (or inputs) are summed away, as in KFAC-reduce: Σ_o P[k, o, i] is a small
    // dense [k, i] matrix of counts, and the step one dense product with it, not a gather
    // per one of the pattern.
    // The whole contraction's sizes choose the product's kernel, as for any pair, so that
    // shards sum alike.
    return contractPair(patternSums(pattern, summed, dtype), t, keep, dtype, sizes);
  }
  const other = t.names.filter((name) => !pattern.names.includes(name));
  const kept = pattern.names.filter((name) => keep.has(name));
  const stridesOf = (view: View, names: readonly string[]) =>
    names.map((name) => (view.names.includes(name) ? view.strides[view.names.indexOf(name)] : 0));
  const tPattern = stridesOf(t, pattern.names);
  const tOther = stridesOf(t, other);
  // Other-major when the tensor steps fastest along a pattern index (a gather along its
  // innermost dimension): each slice of the tensor is read once, entries written in a row.
  const smallest = (strides: number[]) =>
    Math.min(...strides.filter((stride) => stride !== 0).map(Math.abs), Infinity);
  const otherMajor = smallest(tPattern) < smallest(tOther);
  const names = otherMajor ? [...other, ...kept] : [...kept, ...other];
  const shape = names.map((name) =>
    pattern.names.includes(name)
      ? pattern.shape[pattern.names.indexOf(name)]
      : t.shape[t.names.indexOf(name)]
  );
  const strides = contiguousStrides(shape);
  const result: View = {
    data: allocate(dtype, shapeSize(shape)),
    offset: 0,
    names,
    shape,
    strides,
    owned: true,
  };
  const rPattern = stridesOf(result, pattern.names);
  const rOther = stridesOf(result, other);
  const tOffsets: number[] = [];
  const rOffsets: number[] = [];
  const taps: number[] = [];
  const [kSize, oSize, iSize] = pattern.shape;
  for (let k = 0; k < kSize; k++) {
    for (let o = 0; o < oSize; o++) {
      const i = patternInput(p, k + origin[0], o + origin[1]) - origin[2];
      if (i < 0 || i >= iSize) continue;
      tOffsets.push(k * tPattern[0] + o * tPattern[1] + i * tPattern[2]);
      taps.push(k);
      rOffsets.push(k * rPattern[0] + o * rPattern[1] + i * rPattern[2]);
    }
  }
  const otherShape = other.map((name) => t.shape[t.names.indexOf(name)]);
  const src = t.data;
  const dst = result.data;
  if (otherMajor) {
    // For one tap k the outputs o that land inside form one run with constant steps.
    const tStep = tPattern[1] + tPattern[2] * p.stride;
    const rStep = rPattern[1] + rPattern[2] * p.stride;
    const runT: number[] = [];
    const runR: number[] = [];
    const runLength: number[] = [];
    for (let j = 0; j < tOffsets.length; j++) {
      const last = runT.length - 1;
      if (j > 0 && taps[j] === taps[j - 1]) runLength[last]++;
      else {
        runT.push(tOffsets[j]);
        runR.push(rOffsets[j]);
        runLength.push(1);
      }
    }
    const runs = runT.length;
    const starts = Int32Array.from(runT);
    const targets = Int32Array.from(runR);
    const lengths = Int32Array.from(runLength);
    forEachOffsetPair(otherShape, tOther, t.offset, rOther, 0, (tBase, rBase) => {
      for (let r = 0; r < runs; r++) {
        let x = tBase + starts[r];
        let y = rBase + targets[r];
        for (let e = lengths[r]; e > 0; e--) {
          dst[y] += src[x];
          x += tStep;
          y += rStep;
        }
      }
    });
  } else {
    const last = otherShape.length - 1;
    const n = last >= 0 ? otherShape[last] : 1;
    const ts = last >= 0 ? tOther[last] : 0;
    const rs = last >= 0 ? rOther[last] : 0;
    const outer = otherShape.slice(0, -1);
    for (let j = 0; j < tOffsets.length; j++) {
      forEachOffsetPair(
        outer,
        tOther.slice(0, -1),
        t.offset + tOffsets[j],
        rOther.slice(0, -1),
        rOffsets[j],
        (tBase, rBase) => {
          for (let e = 0, x = tBase, y = rBase; e < n; e++, x += ts, y += rs) dst[y] += src[x];
        },
      );
    }
  }
  return result;
}
