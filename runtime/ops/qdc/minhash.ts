/**
 * MinHash signatures and LSH banding for near-duplicate detection.
 *
 * Each text becomes a set of word n-gram shingles (the whole text when it has fewer than
 * `ngram` words). Shingles are hashed with 32-bit FNV-1a. Permutation `i` maps a hash `h`
 * to `mix(h ^ salt_i)` and keeps the minimum over the shingles. `mix` is the murmur3
 * finalizer, and the salts come from the seeded PRNG. The fraction of equal signature entries estimates
 * the Jaccard similarity of two shingle sets.
 *
 * Clustering: rows whose signatures agree on all `rows` entries of at least one of `bands`
 * bands are candidates; a candidate pair joins one cluster (union-find) when its estimated
 * Jaccard similarity is at least `threshold`.
 */
import { makeRng } from "../../../connectors/generators/random.ts"
import { ngrams } from "./text.ts"

export interface MinHashOptions {
  /** Shingle size in words. */
  readonly ngram: number
  readonly bands: number
  readonly rows: number
  /** Estimated Jaccard similarity at or above which two rows are near duplicates. */
  readonly threshold: number
  readonly seed: number
}

export const defaultMinHashOptions: MinHashOptions = { ngram: 5, bands: 32, rows: 4, threshold: 0.8, seed: 0 }

const fnv1a = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

const mix = (x: number): number => {
  let h = x
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Builds a signature function for fixed options. */
export const makeMinHasher = (options: MinHashOptions): (text: string) => Uint32Array => {
  const permutations = options.bands * options.rows
  const rng = makeRng(options.seed)
  const salts = Uint32Array.from({ length: permutations }, () => rng.nextUint32())
  return (text) => {
    const words = text.split(/\s+/).filter((w) => w.length > 0)
    const shingles = words.length < options.ngram ? [words.join(" ")] : ngrams(words, options.ngram)
    const signature = new Uint32Array(permutations).fill(0xffffffff)
    for (const shingle of new Set(shingles)) {
      const h = fnv1a(shingle)
      for (let i = 0; i < permutations; i++) {
        const v = mix(h ^ salts[i])
        if (v < signature[i]) signature[i] = v
      }
    }
    return signature
  }
}

/** Fraction of positions where two signatures agree. */
export const estimateJaccard = (a: Uint32Array, b: Uint32Array): number => {
  let same = 0
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++
  return a.length === 0 ? 0 : same / a.length
}

/**
 * Assigns each text a cluster id: the index of the first row of its cluster. Rows without
 * a near duplicate are their own cluster. Each row is compared with at most 64 earlier rows
 * per band bucket, which bounds the cost on buckets full of identical texts.
 */
export const clusterNearDuplicates = (texts: ReadonlyArray<string>, options: MinHashOptions): Int32Array => {
  const signatureOf = makeMinHasher(options)
  const signatures = texts.map(signatureOf)
  const parent = Int32Array.from({ length: texts.length }, (_, i) => i)
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]]
      i = parent[i]
    }
    return i
  }
  for (let band = 0; band < options.bands; band++) {
    const buckets = new Map<string, Array<number>>()
    for (let i = 0; i < texts.length; i++) {
      const key = Array.from(signatures[i].subarray(band * options.rows, (band + 1) * options.rows)).join(",")
      const bucket = buckets.get(key)
      if (bucket === undefined) {
        buckets.set(key, [i])
        continue
      }
      for (let k = Math.max(0, bucket.length - 64); k < bucket.length; k++) {
        const j = bucket[k]
        const ri = find(i)
        const rj = find(j)
        if (ri === rj) continue
        if (estimateJaccard(signatures[i], signatures[j]) >= options.threshold) {
          if (ri < rj) parent[rj] = ri
          else parent[ri] = rj
        }
      }
      bucket.push(i)
    }
  }
  return Int32Array.from({ length: texts.length }, (_, i) => find(i))
}
