/**
 * The documented shape of `mixwright plan --json`, as a Schema that tools can decode
 * with. `docs/plan.md` describes each field.
 */
import { Schema } from "effect"

const Mark = Schema.Literals(["declared", "derived", "measured", "missing"])
const NullableNumber = Schema.NullOr(Schema.Finite)

export const PlanNodeSchema = Schema.Struct({
  id: Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/)),
  shortId: Schema.String,
  kind: Schema.Literals(["read", "generate", "filter", "dedup", "tokenize", "mix", "export", "qdc", "stage"]),
  name: Schema.String,
  params: Schema.Record(Schema.String, Schema.Unknown),
  inputs: Schema.Array(Schema.String),
  version: Schema.String
})

export const PlanMixComponentSchema = Schema.Struct({
  name: Schema.String,
  source: Schema.String,
  category: Schema.NullOr(Schema.String),
  language: Schema.NullOr(Schema.String),
  size: NullableNumber,
  weight: NullableNumber,
  tokens: NullableNumber,
  epochs: NullableNumber,
  marks: Schema.Struct({ size: Mark, weight: Mark, tokens: Mark, epochs: Mark })
})

export const PlanSchema = Schema.Struct({
  formatVersion: Schema.Literal(1),
  recipe: Schema.Struct({ name: Schema.String, file: Schema.String, profile: Schema.NullOr(Schema.String) }),
  store: Schema.String,
  executor: Schema.Literals(["local", "slurm"]),
  s3: Schema.NullOr(Schema.Struct({ endpoint: Schema.NullOr(Schema.String), region: Schema.NullOr(Schema.String), forcePathStyle: Schema.NullOr(Schema.Boolean) })),
  slurm: Schema.NullOr(Schema.Record(Schema.String, Schema.Unknown)),
  nodes: Schema.Array(PlanNodeSchema),
  mixes: Schema.Array(
    Schema.Struct({
      name: Schema.String,
      nodeId: Schema.String,
      exportNodeId: Schema.NullOr(Schema.String),
      tokenizer: Schema.String,
      sequenceLength: Schema.Finite,
      seed: Schema.Finite,
      totalTokens: NullableNumber,
      totalTokensMark: Mark,
      fullTotalTokens: NullableNumber,
      maxEpochs: Schema.Finite,
      components: Schema.Array(PlanMixComponentSchema)
    })
  ),
  stages: Schema.Array(
    Schema.Struct({
      name: Schema.String,
      type: Schema.Literals(["pretrain", "sft", "dpo", "rl", "quantize"]),
      nodeId: Schema.String,
      data: Schema.Array(Schema.String),
      from: Schema.NullOr(Schema.String),
      backend: Schema.NullOr(Schema.String),
      steps: NullableNumber,
      globalBatch: NullableNumber,
      sequenceLength: NullableNumber,
      tokens: NullableNumber,
      tokensMark: Mark
    })
  ),
  estimate: Schema.Struct({
    bytes: NullableNumber,
    bytesMark: Mark,
    tokens: NullableNumber,
    tokensMark: Mark,
    outputTokens: NullableNumber
  }),
  warnings: Schema.Array(Schema.String)
})
