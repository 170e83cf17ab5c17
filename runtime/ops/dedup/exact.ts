/**
 * Exact deduplication on normalised text (see `normalize.ts`), keyed by the 128-bit
 * MurmurHash3 x86_128 of the normal form's UTF-16LE bytes.
 *
 * With 128-bit keys, the chance that any two of 10^9 different documents share a key
 * is about 10^18 / 2^129, below 10^-20, so a key match is treated as a duplicate
 * without comparing the texts.
 */
import type { Batch, Row } from "../../batch.ts"
import { DedupError } from "./error.ts"
import { murmur3x86_128 } from "./murmur3.ts"
import { normalizeIntoBuffer } from "./normalize.ts"

const HASH_SEED = 0x6d697877

/**
 * A set of 128-bit keys in open addressing with linear probing, stored in typed
 * arrays: 17 bytes per slot, kept at most half full.
 */
export class Hash128Set {
  private keys: Int32Array
  private used: Uint8Array
  private mask: number
  size = 0

  constructor(initialCapacity = 1024) {
    let capacity = 16
    while (capacity < initialCapacity * 2) capacity *= 2
    this.keys = new Int32Array(capacity * 4)
    this.used = new Uint8Array(capacity)
    this.mask = capacity - 1
  }

  /** Adds a key; returns false when it was already present. */
  add(key: Uint32Array | Int32Array): boolean {
    const a = key[0] | 0
    const b = key[1] | 0
    const c = key[2] | 0
    const d = key[3] | 0
    let slot = a & this.mask
    while (this.used[slot] === 1) {
      const base = slot * 4
      if (this.keys[base] === a && this.keys[base + 1] === b && this.keys[base + 2] === c && this.keys[base + 3] === d) {
        return false
      }
      slot = (slot + 1) & this.mask
    }
    this.used[slot] = 1
    const base = slot * 4
    this.keys[base] = a
    this.keys[base + 1] = b
    this.keys[base + 2] = c
    this.keys[base + 3] = d
    this.size++
    if (this.size * 2 > this.used.length) this.grow()
    return true
  }

  private grow(): void {
    const oldKeys = this.keys
    const oldUsed = this.used
    const capacity = oldUsed.length * 2
    this.keys = new Int32Array(capacity * 4)
    this.used = new Uint8Array(capacity)
    this.mask = capacity - 1
    this.size = 0
    const key = new Int32Array(4)
    for (let slot = 0; slot < oldUsed.length; slot++) {
      if (oldUsed[slot] === 0) continue
      key.set(oldKeys.subarray(slot * 4, slot * 4 + 4))
      this.add(key)
    }
  }
}

const hashOut = new Uint32Array(4)

/** Computes the 128-bit dedup key of a text into `out` (four 32-bit words). */
export const exactDedupKey = (text: string, out: Uint32Array = new Uint32Array(4)): Uint32Array => {
  const { units, length } = normalizeIntoBuffer(text)
  murmur3x86_128(new Uint8Array(units.buffer, 0, length * 2), length * 2, HASH_SEED, out)
  return out
}

export interface DedupBatchResult {
  readonly kept: Array<Row>
  /** Rows dropped from this batch as duplicates of an earlier row. */
  readonly duplicates: number
}

/**
 * Stateful exact deduplication: feed batches in order, and each row whose normalised
 * text was seen before, in this batch or any earlier one, is dropped.
 *
 * Feeding several inputs through one deduper, in priority order, keeps each document
 * in the earliest input that has it.
 */
export class ExactDeduper {
  private readonly seen: Hash128Set

  constructor(options: { readonly expectedDocuments?: number } = {}) {
    this.seen = new Hash128Set(options.expectedDocuments ?? 1024)
  }

  /** Number of distinct normalised texts seen. */
  get size(): number {
    return this.seen.size
  }

  /** Records a text; returns true when it is new, false when it is a duplicate. */
  add(text: string): boolean {
    return this.seen.add(exactDedupKey(text, hashOut))
  }

  /**
   * Keeps the rows whose `field` text is new.
   *
   * @throws DedupError `InvalidInput` naming the row when the field is not a string.
   */
  filterBatch(rows: Batch, field: string): DedupBatchResult {
    const kept: Array<Row> = []
    for (let i = 0; i < rows.length; i++) {
      if (this.add(readText(rows[i], i, field))) kept.push(rows[i])
    }
    return { kept, duplicates: rows.length - kept.length }
  }
}

/** Returns the row's text field, or throws DedupError naming the row. */
export const readText = (row: Row, index: number, field: string): string => {
  const value = row[field]
  if (typeof value === "string") return value
  throw new DedupError({
    reason: "InvalidInput",
    description: `row ${index} of the batch: field "${field}" is ${value === undefined ? "missing" : typeof value}, expected a string; check the dedup node's field and the source's fields.text`
  })
}
