/**
 * The `dedup` operator's configuration and its per-batch work.
 */
import { Schema } from "effect"
import type { Batch } from "../../batch.ts"
import { DedupError } from "./error.ts"
import { type DedupBatchResult, ExactDeduper } from "./exact.ts"
import { MINHASH_DEFAULTS, MinHashDeduper } from "./minhash.ts"

const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

/** A `dedup` node's params, as the compiler emits them. */
export const DedupParamsSchema = Schema.Struct({
  method: Schema.Literals(["exact", "minhash"]),
  field: Schema.String,
  ngram: PositiveInt,
  bands: PositiveInt,
  rows: PositiveInt,
  threshold: Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
  seed: Schema.Int,
  /** Shingle unit for MinHash; `word` when omitted. */
  shingle: Schema.optionalKey(Schema.Literals(["word", "char"]))
})
export type DedupParams = typeof DedupParamsSchema.Type

const decodeParams = Schema.decodeUnknownSync(DedupParamsSchema, { onExcessProperty: "error" })

/**
 * Validates a `dedup` node's params.
 *
 * @throws DedupError `InvalidConfig` with the path of the invalid field.
 */
export const decodeDedupParams = (input: unknown): DedupParams => {
  try {
    return decodeParams(input)
  } catch (error) {
    throw new DedupError({
      reason: "InvalidConfig",
      description: `invalid dedup params: ${error instanceof Error ? error.message : String(error)}`
    })
  }
}

/** A stateful deduper behind one interface, for either method. */
export interface Deduper {
  readonly method: "exact" | "minhash"
  /** Keeps the rows that are not duplicates of any row fed before, in this or earlier batches. */
  readonly filterBatch: (rows: Batch) => DedupBatchResult
}

/**
 * Builds the stateful deduper of a `dedup` node. Feed every input's batches through
 * the same deduper, inputs in priority order, to keep each document in the earliest
 * input that has it.
 *
 * @throws DedupError `InvalidConfig` for invalid params.
 */
export const makeDeduper = (params: unknown): Deduper => {
  const decoded = decodeDedupParams(params)
  const field = decoded.field
  if (decoded.method === "exact") {
    const deduper = new ExactDeduper()
    return { method: "exact", filterBatch: (rows) => deduper.filterBatch(rows, field) }
  }
  const deduper = new MinHashDeduper({
    shingle: decoded.shingle ?? MINHASH_DEFAULTS.shingle,
    ngram: decoded.ngram,
    bands: decoded.bands,
    rows: decoded.rows,
    threshold: decoded.threshold,
    seed: decoded.seed
  })
  return { method: "minhash", filterBatch: (rows) => deduper.filterBatch(rows, field) }
}
