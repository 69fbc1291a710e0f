// Copies of float runs that stay fast when a SharedArrayBuffer is involved. V8 copies to
// or from shared memory with relaxed atomics: word by word when both sides start at the
// same byte offset modulo 8, byte by byte otherwise, six times slower (800 KB of float32
// whose sides are 4 bytes apart: 114 µs, against 18 µs aligned and 14 µs unshared, here).
// Every worker reads its operands from and writes its result into shared memory, so a
// float32 copy whose sides are 4 bytes apart goes through an unshared bounce buffer instead:
// one word-aligned copy on the shared side, one memcpy on the other; or, where the copy's
// place in WASM memory is free to choose, it is chosen word-aligned with its source.

type Floats = Float32Array | Float64Array;

/** Elements per bounce: large enough that a copy's fixed cost is small, small enough to
 * stay in cache (256 KiB of float32). */
const BOUNCE_ELEMENTS = 1 << 16;

let bounce: Float32Array | undefined;

/**
 * `dst.set(src.subarray(from, to), at)` without V8's byte-by-byte path for shared memory
 * (see the file's comment): a float32 run whose sides are 4 bytes apart, one of them
 * shared, goes through an unshared bounce buffer, placed word-aligned with each shared side.
 */
export function copyElements(dst: Floats, at: number, src: Floats, from: number, to: number): void {
  // One buffer on both sides may overlap: `set` copies as if through a temporary.
  if (to - from < 64 || src.buffer === dst.buffer || !slowPath(dst, at, src, from)) {
    dst.set(src.subarray(from, to), at);
    return;
  }
  bounce ??= new Float32Array(BOUNCE_ELEMENTS + 1);
  // Where the run sits in the bounce (which starts at byte 0) on the way in and on the way
  // out: aligned with a shared side; an unshared side copies with memcpy whatever the
  // alignment.
  const inAt = isShared(src) ? wordParity(src, from) : wordParity(dst, at);
  const outAt = isShared(dst) ? wordParity(dst, at) : inAt;
  for (let first = from; first < to; first += BOUNCE_ELEMENTS) {
    const n = Math.min(to, first + BOUNCE_ELEMENTS) - first;
    bounce.set(src.subarray(first, first + n), inAt);
    if (outAt !== inAt) bounce.copyWithin(outAt, inAt, inAt + n);
    dst.set(bounce.subarray(outAt, outAt + n), at + first - from);
  }
}

/**
 * `at` or `at + 1`: the element of WASM memory (whose views start at byte 0) where a float32
 * copy of element `from` of `source` sits at the same byte offset modulo 8 as in `source`
 * (`at` itself for float64), so that V8 copies it word by word; reserve one element more.
 *
 * @param at A free element of WASM memory, followed by the copy's length and one more.
 * @param source The array the copy reads (or writes).
 * @param from The element of `source` that lands on (or comes from) the result.
 * @returns Where the copy should start in WASM memory.
 */
export function wordAlignedWith(at: number, source: Floats, from: number): number {
  if (source instanceof Float64Array) return at;
  return at + ((wordParity(source, from) - at) & 1);
}

/** Whether `dst.set` from `src` would take V8's byte-by-byte path. */
function slowPath(dst: Floats, at: number, src: Floats, from: number): boolean {
  if (!(dst instanceof Float32Array) || !(src instanceof Float32Array)) return false;
  if (!isShared(dst) && !isShared(src)) return false;
  return wordParity(dst, at) !== wordParity(src, from);
}

/** Whether element `index` of `x` starts at a byte offset of 4 modulo 8 (1) or 0 (0). */
function wordParity(x: Floats, index: number): number {
  return ((x.byteOffset + index * x.BYTES_PER_ELEMENT) / 4) & 1;
}

function isShared(x: Floats): boolean {
  return x.buffer instanceof SharedArrayBuffer;
}
