/** A uniform sampler on `[-bound, bound)`: mulberry32 when seeded, `Math.random` otherwise. */
export function seededUniform(seed: number | undefined): (bound: number) => number {
  if (seed === undefined) return (bound) => (2 * Math.random() - 1) * bound;
  let state = seed >>> 0;
  return (bound) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return (2 * unit - 1) * bound;
  };
}
