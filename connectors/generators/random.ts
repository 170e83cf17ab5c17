/**
 * Seeded pseudo-random numbers for generators and sampling.
 *
 * `makeRng(seed)` expands a 32-bit seed with splitmix32 into the 128-bit state of
 * xoshiro128** (Blackman and Vigna, 2018). The same seed gives the same sequence on
 * every platform, so generated datasets and selections are reproducible.
 */

export interface Rng {
  /** Next unsigned 32-bit integer. */
  readonly nextUint32: () => number
  /** Next float in [0, 1) with 32 bits of precision. */
  readonly nextFloat: () => number
  /** Next integer in the closed range [min, max]. */
  readonly int: (min: number, max: number) => number
}

/** Advances a splitmix32 state and returns the new state and its output. */
const splitmix32 = (state: number): readonly [number, number] => {
  const next = (state + 0x9e3779b9) | 0
  let z = next
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad)
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97)
  z = z ^ (z >>> 15)
  return [next, z >>> 0]
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k))

/** Builds a xoshiro128** generator from a 32-bit seed (non-integers are truncated). */
export const makeRng = (seed: number): Rng => {
  let sm = seed | 0
  const state = new Uint32Array(4)
  for (let i = 0; i < 4; i++) {
    const [next, out] = splitmix32(sm)
    sm = next
    state[i] = out
  }
  // An all-zero state would only emit zeros; splitmix32 never yields four zeros, but guard anyway.
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(state[1], 5), 7), 9) >>> 0
    const t = state[1] << 9
    state[2] ^= state[0]
    state[3] ^= state[1]
    state[1] ^= state[2]
    state[0] ^= state[3]
    state[2] ^= t
    state[3] = rotl(state[3], 11)
    return result
  }
  const nextFloat = (): number => nextUint32() / 4294967296
  const int = (min: number, max: number): number => min + Math.floor(nextFloat() * (max - min + 1))
  return { nextUint32, nextFloat, int }
}

/** Mixes a base seed and an index into a new 32-bit seed, so each item gets its own stream. */
export const deriveSeed = (seed: number, index: number): number => {
  const [, a] = splitmix32((seed | 0) ^ Math.imul(index + 1, 0x85ebca6b))
  return a | 0
}

/** Shuffles an array in place with Fisher-Yates and returns it. */
export const shuffleInPlace = <A>(items: Array<A>, rng: Rng): Array<A> => {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i)
    const tmp = items[i]
    items[i] = items[j]
    items[j] = tmp
  }
  return items
}
