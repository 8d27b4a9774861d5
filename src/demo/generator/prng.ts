/**
 * The demo generator's source of chance: mulberry32, a 32-bit seeded PRNG small enough to read
 * (no package). The same seed yields the same sequence on every platform and Node version, which
 * is what makes the generated demo byte-identical run to run; it is not for anything secret.
 */

export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both ends included. */
  int(min: number, max: number): number;
  /** A float in [min, max) rounded to `decimals`. */
  float(min: number, max: number, decimals: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One item of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** `count` distinct items of `items`, in the order drawn (all of them when there are fewer). */
  sample<T>(items: readonly T[], count: number): T[];
}

/** A PRNG for a seed; text seeds (`'hospital-a'`) are hashed with FNV-1a to 32 bits first. */
export function createPrng(seed: number | string): Prng {
  let state = (typeof seed === 'string' ? fnv1a(seed) : seed) >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    float(min, max, decimals) {
      const factor = 10 ** decimals;
      return Math.round((min + next() * (max - min)) * factor) / factor;
    },
    chance: (p) => next() < p,
    pick(items) {
      const item = items[int(0, items.length - 1)];
      if (item === undefined) {
        throw new Error('pick from an empty list');
      }
      return item;
    },
    sample(items, count) {
      const pool = [...items];
      const drawn: (typeof items)[number][] = [];
      while (drawn.length < count && pool.length > 0) {
        drawn.push(...pool.splice(int(0, pool.length - 1), 1));
      }
      return drawn;
    },
  };
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash = Math.imul(hash ^ byte, 0x01000193);
  }
  return hash >>> 0;
}
