/**
 * MinHash signatures and LSH banding for near-duplicate detection.
 *
 * A document becomes a set of shingles: word n-grams (default) or character n-grams
 * of its normalised text (`normalize.ts`). Each shingle is hashed to 32 bits while
 * the text is scanned, without building shingle strings. The signature is the minimum
 * of `bands * rows` independent hash functions over the shingle set; two documents
 * agree on one signature position with probability equal to their Jaccard similarity s.
 *
 * LSH splits the signature into `bands` bands of `rows` values. Two documents become
 * candidates when all rows of at least one band agree, which happens with probability
 *
 *     P(s) = 1 - (1 - s^rows)^bands
 *
 * an S-curve whose steepest point is near s* = (1 / bands)^(1 / rows). With 14 bands
 * of 8 rows (datatrove's default), s* = 0.72, P(0.8) = 0.92, P(0.7) = 0.56 and
 * P(0.5) = 0.05. Candidates are then confirmed when the fraction of equal signature
 * positions, an unbiased estimate of s, is at least `threshold`; a threshold of 0
 * accepts every candidate, as plain LSH does.
 */
import type { Batch, Row } from "../../batch.ts"
import type { DedupBatchResult } from "./exact.ts"
import { readText } from "./exact.ts"
import { normalizeIntoBuffer } from "./normalize.ts"

export interface MinHashOptions {
  /** Shingle unit: `word` n-grams or `char` n-grams of the normalised text. */
  readonly shingle: "word" | "char"
  /** Shingle length in words or characters. */
  readonly ngram: number
  readonly bands: number
  readonly rows: number
  /** Minimum estimated Jaccard similarity for a candidate pair to count as duplicates, in [0, 1]. */
  readonly threshold: number
  /** Seed of the hash functions; equal seeds give equal signatures in every process. */
  readonly seed: number
}

export const MINHASH_DEFAULTS: MinHashOptions = {
  shingle: "word",
  ngram: 5,
  bands: 14,
  rows: 8,
  threshold: 0.7,
  seed: 1
}

/** Probability that two documents with Jaccard similarity `s` share at least one band. */
export const lshCandidateProbability = (s: number, bands: number, rows: number): number =>
  1 - Math.pow(1 - Math.pow(s, rows), bands)

/** Similarity near which the LSH S-curve is steepest: (1 / bands)^(1 / rows). */
export const lshThreshold = (bands: number, rows: number): number => Math.pow(1 / bands, 1 / rows)

/** Fraction of equal positions in two signatures: the MinHash estimate of Jaccard similarity. */
export const estimateJaccard = (a: Uint32Array, b: Uint32Array): number => {
  let equal = 0
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) equal++
  return equal / a.length
}

// SplitMix32: a small seeded generator for the hash function parameters.
const makeRandom = (seed: number) => {
  let state = seed | 0
  return (): number => {
    state = (state + 0x9e3779b9) | 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
}

const mixWord = (h: number, unit: number): number => Math.imul(h ^ unit, 0x01000193)

// Murmur3's finaliser: spreads every input bit over the whole 32-bit output.
const fmix = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}

/**
 * Computes MinHash signatures with fixed hash functions.
 *
 * Signature position k is the minimum over shingle hashes x of
 * h_k(x) = v XOR (v >>> 16) with v = (x XOR b_k) * a_k mod 2^32 and a_k odd. Every
 * step is invertible, so each h_k is a permutation of the 32-bit values. The shingle
 * hashes x are already avalanche-mixed, so one multiply per function is enough: the
 * Jaccard estimates and the LSH S-curve are checked in `test/ops/dedup.test.ts`. All arithmetic is 32-bit (`Math.imul`), and (a_k, b_k) come from
 * SplitMix32 seeded with `seed`.
 */
export class MinHasher {
  readonly options: MinHashOptions
  readonly permutations: number
  private readonly multipliers: Int32Array
  private readonly offsets: Int32Array
  private shingles = new Int32Array(4096)
  private wordHashes = new Int32Array(1024)

  constructor(options: MinHashOptions) {
    this.options = options
    this.permutations = options.bands * options.rows
    const random = makeRandom(options.seed)
    this.multipliers = new Int32Array(this.permutations)
    this.offsets = new Int32Array(this.permutations)
    for (let k = 0; k < this.permutations; k++) {
      this.multipliers[k] = random() | 1
      this.offsets[k] = random()
    }
  }

  /** Hashes the shingles of `text` into an internal buffer and returns their count. */
  private hashShingles(text: string): number {
    const { units, length } = normalizeIntoBuffer(text)
    const n = this.options.ngram
    if (this.options.shingle === "char") return this.hashCharShingles(units, length, n)

    // One 32-bit hash per word, then one per window of n consecutive word hashes.
    let words = 0
    let h = 0x811c9dc5
    let inWord = false
    for (let i = 0; i <= length; i++) {
      const unit = i < length ? units[i] : 0x20
      if (unit === 0x20) {
        if (inWord) {
          if (words === this.wordHashes.length) this.wordHashes = growInt32(this.wordHashes)
          this.wordHashes[words++] = fmix(h)
          h = 0x811c9dc5
          inWord = false
        }
      } else {
        h = mixWord(h, unit)
        inWord = true
      }
    }
    if (words === 0) return 0
    const windows = Math.max(1, words - n + 1)
    const span = Math.min(n, words)
    if (this.shingles.length < windows) this.shingles = new Int32Array(Math.max(windows, this.shingles.length * 2))
    const wordHashes = this.wordHashes
    for (let start = 0; start < windows; start++) {
      let shingle = 0x9747b28c
      for (let j = 0; j < span; j++) shingle = Math.imul(shingle ^ wordHashes[start + j], 0x5bd1e995) ^ (shingle >>> 15)
      this.shingles[start] = fmix(shingle)
    }
    return windows
  }

  private hashCharShingles(units: Uint16Array, length: number, n: number): number {
    if (length === 0) return 0
    const windows = Math.max(1, length - n + 1)
    const span = Math.min(n, length)
    if (this.shingles.length < windows) this.shingles = new Int32Array(Math.max(windows, this.shingles.length * 2))
    for (let start = 0; start < windows; start++) {
      let shingle = 0x811c9dc5
      for (let j = 0; j < span; j++) shingle = mixWord(shingle, units[start + j])
      this.shingles[start] = fmix(shingle)
    }
    return windows
  }

  /**
   * Computes the signature of `text` into `out` (length `permutations`, allocated
   * when omitted). Returns `undefined` when the text has no shingles (it is empty
   * after normalisation): such documents are never near-duplicates of anything.
   */
  signature(text: string, out?: Uint32Array): Uint32Array | undefined {
    const count = this.hashShingles(text)
    if (count === 0) return undefined
    const signature = out ?? new Uint32Array(this.permutations)
    const shingles = this.shingles
    for (let k = 0; k < this.permutations; k++) {
      const a = this.multipliers[k]
      const b = this.offsets[k]
      let min = 0xffffffff
      for (let i = 0; i < count; i++) {
        let v = Math.imul(shingles[i] ^ b, a)
        v = (v ^ (v >>> 16)) >>> 0
        if (v < min) min = v
      }
      signature[k] = min
    }
    return signature
  }
}

const growInt32 = (array: Int32Array): Int32Array<ArrayBuffer> => {
  const grown = new Int32Array(array.length * 2)
  grown.set(array)
  return grown
}

const SIGNATURE_CHUNK_DOCUMENTS = 4096

/**
 * Stateful MinHash-LSH deduplication: feed documents in order, and each one that is a
 * confirmed near-duplicate of an earlier document is dropped.
 *
 * Each band keeps a map from band hash to the first document that produced it.
 * A new document is compared with those first documents, band by band, and becomes a
 * duplicate of the cluster of the first one whose estimated Jaccard similarity is at
 * least `threshold`. Duplicates also fill empty buckets, so chains (A ~ B ~ C) join one
 * cluster, whose earliest document is the one kept. Feeding inputs in priority order
 * therefore keeps each near-duplicate cluster's document from the earliest input.
 *
 * Memory: 4 bytes per signature value (448 bytes per document with 14 x 8) plus one
 * map entry per band per distinct band hash.
 *
 * NOTE: a bucket remembers only its first document, so a document that collides with
 * an unconfirmed candidate in some band is not compared with later documents that
 * share that band. This can miss a few duplicates that a full candidate list would find.
 */
export class MinHashDeduper {
  readonly hasher: MinHasher
  private readonly buckets: Array<Map<number, number>>
  private readonly signatureChunks: Array<Uint32Array> = []
  private parents = new Int32Array(1024)
  private count = 0

  constructor(options: MinHashOptions) {
    this.hasher = new MinHasher(options)
    this.buckets = Array.from({ length: options.bands }, () => new Map<number, number>())
  }

  /** Number of documents added so far; document ids are 0, 1, 2 ... in order. */
  get size(): number {
    return this.count
  }

  private signatureOf(id: number): Uint32Array {
    const permutations = this.hasher.permutations
    const chunk = this.signatureChunks[Math.floor(id / SIGNATURE_CHUNK_DOCUMENTS)]
    const offset = (id % SIGNATURE_CHUNK_DOCUMENTS) * permutations
    return chunk.subarray(offset, offset + permutations)
  }

  private root(id: number): number {
    while (this.parents[id] !== id) {
      this.parents[id] = this.parents[this.parents[id]]
      id = this.parents[id]
    }
    return id
  }

  /**
   * Adds a document and returns the id of the earliest document of the cluster it
   * joins, or `undefined` when it is not a near-duplicate of any earlier document.
   */
  add(text: string): number | undefined {
    const id = this.count++
    if (id === this.parents.length) this.parents = growInt32(this.parents)
    this.parents[id] = id
    if (id % SIGNATURE_CHUNK_DOCUMENTS === 0) {
      this.signatureChunks.push(new Uint32Array(SIGNATURE_CHUNK_DOCUMENTS * this.hasher.permutations))
    }
    const signature = this.hasher.signature(text, this.signatureOf(id))
    if (signature === undefined) return undefined

    const { rows, threshold } = this.hasher.options
    let match: number | undefined
    const keys = new Array<number>(this.buckets.length)
    for (let band = 0; band < this.buckets.length; band++) {
      let h1 = 0x3c6ef372 ^ band
      let h2 = 0xa54ff53a ^ band
      for (let r = band * rows; r < (band + 1) * rows; r++) {
        h1 = fmix(Math.imul(h1 ^ signature[r], 0xcc9e2d51))
        h2 = Math.imul(h2 + signature[r], 0x1b873593) ^ (h2 >>> 13)
      }
      // 53-bit key from two 32-bit hashes, so band collisions come from equal rows only.
      const key = (h1 >>> 0) * 0x200000 + ((h2 >>> 0) >>> 11)
      keys[band] = key
      if (match !== undefined) continue
      const candidate = this.buckets[band].get(key)
      if (candidate !== undefined && estimateJaccard(signature, this.signatureOf(candidate)) >= threshold) {
        match = this.root(candidate)
      }
    }
    for (let band = 0; band < this.buckets.length; band++) {
      if (!this.buckets[band].has(keys[band])) this.buckets[band].set(keys[band], id)
    }
    if (match === undefined) return undefined
    this.parents[id] = match
    return match
  }

  /**
   * Keeps the rows whose `field` text is not a near-duplicate of an earlier document.
   *
   * @throws DedupError `InvalidInput` naming the row when the field is not a string.
   */
  filterBatch(rows: Batch, field: string): DedupBatchResult {
    const kept: Array<Row> = []
    for (let i = 0; i < rows.length; i++) {
      if (this.add(readText(rows[i], i, field)) === undefined) kept.push(rows[i])
    }
    return { kept, duplicates: rows.length - kept.length }
  }

  /** Near-duplicate clusters with at least two documents, each sorted by id, so the kept document comes first. */
  clusters(): Array<Array<number>> {
    const groups = new Map<number, Array<number>>()
    for (let id = 0; id < this.count; id++) {
      const root = this.root(id)
      const group = groups.get(root)
      if (group === undefined) groups.set(root, [id])
      else group.push(id)
    }
    return [...groups.values()].filter((group) => group.length > 1)
  }
}

/** Groups texts into near-duplicate clusters (see `MinHashDeduper.clusters`). */
export const minhashClusters = (texts: ReadonlyArray<string>, options: MinHashOptions): Array<Array<number>> => {
  const deduper = new MinHashDeduper(options)
  for (const text of texts) deduper.add(text)
  return deduper.clusters()
}
