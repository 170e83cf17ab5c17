/**
 * Schemas of the node params the operators consume, as the compiler emits them.
 * Operators decode their node's params once, so a malformed plan fails with reason
 * `InvalidPlan` naming the node and the offending field.
 */
import { Effect, Schema } from "effect"
import type { IrNode } from "../../compiler/ir.ts"
import { RunError } from "../executor/errors.ts"

export const ReadParams = Schema.Struct({
  source: Schema.String,
  uris: Schema.Array(Schema.String),
  format: Schema.Literals(["parquet", "jsonl", "arrow", "text"]),
  fields: Schema.Record(Schema.String, Schema.String),
  onError: Schema.Literals(["fail", "skip"]),
  maxRecordBytes: Schema.Number
})
export type ReadParams = typeof ReadParams.Type

export const FilterParams = Schema.Struct({
  field: Schema.String,
  rules: Schema.Array(Schema.Unknown),
  /** Diversity-aware selection settings (`QdcSelectSchema`); the rule list may then be empty. */
  select: Schema.optional(Schema.Unknown)
})
export type FilterParams = typeof FilterParams.Type

export const TokenizeParams = Schema.Struct({
  tokenizer: Schema.String,
  field: Schema.String,
  appendEos: Schema.Boolean
})
export type TokenizeParams = typeof TokenizeParams.Type

export const MixParams = Schema.Struct({
  seed: Schema.Number,
  sequenceLength: Schema.Number,
  packing: Schema.Literals(["concat", "none"]),
  /** `null` when the compiler could not size the mix; then it is the sum of the targets. */
  totalTokens: Schema.NullOr(Schema.Number),
  components: Schema.Array(Schema.Struct({
    name: Schema.String,
    category: Schema.optional(Schema.NullOr(Schema.String)),
    weight: Schema.NullOr(Schema.Number),
    /** Integer target; `null` when it depends on measured sizes (see `resolveTargets`). */
    tokens: Schema.NullOr(Schema.Number),
    epochs: Schema.optional(Schema.NullOr(Schema.Number))
  }))
})
export type MixParams = typeof MixParams.Type

export const ExportParams = Schema.Struct({
  format: Schema.Literals(["megatron"]),
  /** `weight` is `null` when the compiler could not size the mix; see the export operator. */
  components: Schema.Array(Schema.Struct({ name: Schema.String, weight: Schema.NullOr(Schema.Number) })),
  dtype: Schema.Literals(["uint32"])
})
export type ExportParams = typeof ExportParams.Type

/** Decodes a node's params, failing with `InvalidPlan` that names the node. */
export const decodeParams = <S extends Schema.Top & { readonly DecodingServices: never }>(
  schema: S,
  node: IrNode
): Effect.Effect<S["Type"], RunError> =>
  Schema.decodeUnknownEffect(schema)(node.params).pipe(
    Effect.mapError((cause) =>
      new RunError({
        reason: "InvalidPlan",
        node: node.name,
        description: `invalid ${node.kind} params: ${cause.message}`,
        cause
      })
    )
  )
