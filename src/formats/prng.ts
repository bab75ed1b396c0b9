// A small seeded pseudo-random generator (mulberry32) for the fuzz tests: the same seed gives the
// same cases on every run and machine, so a failure found once is found again.

/** Numbers in [0, 1), 32 bits of state. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integers in [0, n), from the same sequence as mulberry32's (each its 32-bit value modulo n). */
export function mulberry32Int(seed: number): (n: number) => number {
  const next = mulberry32(seed);
  return (n) => ((next() * 4294967296) % n) | 0;
}
