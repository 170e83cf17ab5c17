/**
 * The recipe model: one Schema used by TypeScript recipe files and by JSON/YAML files.
 *
 * A recipe names sources (real corpora), generators (synthetic data), transform
 * pipelines, mixes, training stages and profiles. TypeScript recipes get their types
 * from `define.ts`; JSON and YAML recipes are decoded by `RecipeSchema` below, so both
 * reach the compiler as the same validated value.
 */
import { Effect, Schema } from "effect"
import { FilterRuleSchema } from "../../runtime/ops/filters/schema.ts"
import { QdcFilterRuleSchema, QdcSelectSchema } from "../../runtime/ops/qdc/select.ts"
import { parseByteSize, parseTokenCount } from "./units.ts"

// ---------------------------------------------------------------------------
// Scalars with units
// ---------------------------------------------------------------------------

const checkWith = <T>(test: (value: T) => string | undefined) =>
  Schema.makeFilter<T>((value) => test(value))

/** A positive finite number. */
export const PositiveNumber = Schema.Finite.pipe(
  Schema.check(checkWith<number>((n) => (n > 0 ? undefined : `expected a positive number, got ${n}`)))
)

export const PositiveInt = Schema.Finite.pipe(
  Schema.check(
    checkWith<number>((n) => (Number.isInteger(n) && n > 0 ? undefined : `expected a positive integer, got ${n}`))
  )
)

export const NonNegativeInt = Schema.Finite.pipe(
  Schema.check(
    checkWith<number>((n) => (Number.isInteger(n) && n >= 0 ? undefined : `expected a non-negative integer, got ${n}`))
  )
)

/** A mixing weight: a share of the total budget, in (0, 1]. */
export const Weight = Schema.Finite.pipe(
  Schema.check(checkWith<number>((n) => (n > 0 && n <= 1 ? undefined : `expected a number in (0, 1], got ${n}`)))
)

/** A token count: a number, or a string with a suffix such as `"2T"`, `"300B"`, `"1.5M"`. */
export const TokenCount = Schema.Union([PositiveNumber, Schema.String]).pipe(
  Schema.check(
    checkWith<number | string>((value) => {
      if (typeof value === "number") return undefined
      const parsed = parseTokenCount(value)
      return typeof parsed === "number"
        ? undefined
        : `expected a token count such as 2000000, "2T", "300B" or "1.5M", got ${JSON.stringify(value)}`
    })
  )
)
export type TokenCount = typeof TokenCount.Type

/** A size in bytes: a number, or a string with a unit such as `"1.5 GiB"` or `"800 MB"`. */
export const ByteSize = Schema.Union([PositiveNumber, Schema.String]).pipe(
  Schema.check(
    checkWith<number | string>((value) => {
      if (typeof value === "number") return undefined
      const parsed = parseByteSize(value)
      return typeof parsed === "number"
        ? undefined
        : `expected a byte size such as 1048576, "1.5 GiB" or "800 MB", got ${JSON.stringify(value)}`
    })
  )
)
export type ByteSize = typeof ByteSize.Type

// ---------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------

export const SourceFormat = Schema.Literals(["parquet", "jsonl", "arrow", "text"])
export type SourceFormat = typeof SourceFormat.Type

/** Output column -> column in the source files. Unnamed columns keep their own name. */
export const FieldMapping = Schema.Struct({
  text: Schema.optional(Schema.String),
  id: Schema.optional(Schema.String),
  messages: Schema.optional(Schema.String),
  prompt: Schema.optional(Schema.String),
  response: Schema.optional(Schema.String),
  chosen: Schema.optional(Schema.String),
  rejected: Schema.optional(Schema.String),
  tokens: Schema.optional(Schema.String)
})
export type FieldMapping = typeof FieldMapping.Type

/** Sizes as a report states them. Tokens win over bytes, bytes over documents. */
export const DeclaredSize = Schema.Struct({
  tokens: Schema.optional(TokenCount),
  documents: Schema.optional(PositiveNumber),
  bytes: Schema.optional(ByteSize),
  /** Used to convert `bytes` to tokens; 4 bytes per token is typical of English BPE. */
  bytesPerToken: Schema.optional(PositiveNumber),
  /** Used to convert `documents` to tokens. */
  tokensPerDocument: Schema.optional(PositiveNumber)
})
export type DeclaredSize = typeof DeclaredSize.Type

export const ErrorPolicy = Schema.Literals(["fail", "skip"])

// ---------------------------------------------------------------------------
// Transforms
// ---------------------------------------------------------------------------

/**
 * One filter rule. The rule schemas live with their operators, so a recipe accepts
 * exactly the thresholds the runtime applies (defaults and sources in docs/filters.md).
 */
export const FilterRule = Schema.Union([...FilterRuleSchema.members, QdcFilterRuleSchema])
export type FilterRule = typeof FilterRule.Type

export const FilterStep = Schema.Struct({
  filter: Schema.Struct({
    field: Schema.optional(Schema.String),
    rules: Schema.Array(FilterRule)
  })
})

export const DedupStep = Schema.Struct({
  dedup: Schema.Struct({
    method: Schema.Literals(["exact", "minhash"]),
    field: Schema.optional(Schema.String),
    /** Shingle size in words. */
    ngram: Schema.optional(PositiveInt),
    bands: Schema.optional(PositiveInt),
    rows: Schema.optional(PositiveInt),
    /** Jaccard similarity above which two documents count as near duplicates. */
    threshold: Schema.optional(Weight),
    seed: Schema.optional(NonNegativeInt),
    /** Other sources (in priority order) whose documents win over this one's duplicates. */
    across: Schema.optional(Schema.Array(Schema.String))
  })
})

/** Diversity-aware selection: a cap per MinHash cluster, then stratified sampling. */
export const SelectStep = Schema.Struct({ select: QdcSelectSchema })

export const Tokenizer = Schema.Literals(["cl100k_base", "arcade100k"])
export type Tokenizer = typeof Tokenizer.Type

export const TransformStep = Schema.Union([FilterStep, DedupStep, SelectStep])
export type TransformStep = typeof TransformStep.Type

/** A named, reusable list of steps, applied in order. */
export const Pipeline = Schema.Array(TransformStep)

export const Source = Schema.Struct({
  /** A path, glob, `file://`, `s3://` or `hf://` URI, or several of them. */
  uri: Schema.Union([Schema.String, Schema.Array(Schema.String)]),
  format: Schema.optional(SourceFormat),
  fields: Schema.optional(FieldMapping),
  size: Schema.optional(DeclaredSize),
  dataset: Schema.optional(Schema.String),
  language: Schema.optional(Schema.String),
  category: Schema.optional(Schema.String),
  license: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  /** A pipeline name from `transforms`, or inline steps. */
  transforms: Schema.optional(Schema.Union([Schema.String, Pipeline])),
  onError: Schema.optional(ErrorPolicy),
  /** Records longer than this many bytes are an error or a counted skip, per `onError`. */
  maxRecordBytes: Schema.optional(ByteSize)
})
export type Source = typeof Source.Type

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

/** Fields every generator takes besides its own parameters. */
const generatorCommon = {
  /** Keep only rows the verifier accepts, or the best of n samples per prompt. */
  verify: Schema.optional(Schema.Literals(["none", "verified", "best-of-n"])),
  transforms: Schema.optional(Schema.Union([Schema.String, Pipeline])),
  size: Schema.optional(DeclaredSize),
  category: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String)
}

export const SearchTraceGenerator = Schema.Struct({
  type: Schema.Literal("search-trace"),
  task: Schema.optional(Schema.Literals(["countdown", "game24"])),
  search: Schema.Literals(["bfs", "dfs", "best-first"]),
  heuristic: Schema.optional(Schema.String),
  count: PositiveInt,
  seed: Schema.optional(NonNegativeInt),
  difficulty: Schema.optional(
    Schema.Struct({
      numbers: Schema.optional(PositiveInt),
      maxNumber: Schema.optional(PositiveInt),
      minTarget: Schema.optional(PositiveInt),
      maxTarget: Schema.optional(PositiveInt)
    })
  ),
  maxNodes: Schema.optional(PositiveInt),
  /** A source of `{ numbers, target }` rows to solve instead of sampled problems. */
  problems: Schema.optional(Schema.String),
  ...generatorCommon
})

export const LlmGenerator = Schema.Struct({
  type: Schema.Literal("llm"),
  endpoint: Schema.String,
  model: Schema.String,
  api: Schema.optional(Schema.Literals(["chat", "completions"])),
  prompt: Schema.String,
  system: Schema.optional(Schema.String),
  /** A source or generator whose rows fill the prompt template. */
  input: Schema.optional(Schema.String),
  n: Schema.optional(PositiveInt),
  temperature: Schema.optional(Schema.Finite),
  topP: Schema.optional(Schema.Finite),
  maxTokens: Schema.optional(PositiveInt),
  seed: Schema.optional(NonNegativeInt),
  concurrency: Schema.optional(PositiveInt),
  timeoutMs: Schema.optional(PositiveInt),
  maxRetries: Schema.optional(NonNegativeInt),
  apiKeyEnv: Schema.optional(Schema.String),
  ...generatorCommon
})

/** A synthetic source: a program or an LLM endpoint, named like a source in mixes and stages. */
export const Generator = Schema.Union([SearchTraceGenerator, LlmGenerator])
export type Generator = typeof Generator.Type

// ---------------------------------------------------------------------------
// Mixes
// ---------------------------------------------------------------------------

/** One mix component: give exactly one of `weight`, `epochs` or `tokens`. */
export const MixComponent = Schema.Struct({
  /** A source or generator name. */
  source: Schema.String,
  weight: Schema.optional(Weight),
  epochs: Schema.optional(PositiveNumber),
  tokens: Schema.optional(TokenCount),
  /** Shown instead of the source name in tables. */
  name: Schema.optional(Schema.String)
})
export type MixComponent = typeof MixComponent.Type

export const Mix = Schema.Struct({
  components: Schema.Array(MixComponent),
  totalTokens: Schema.optional(TokenCount),
  tokenizer: Schema.optional(Tokenizer),
  seed: Schema.optional(NonNegativeInt),
  sequenceLength: Schema.optional(PositiveInt),
  packing: Schema.optional(Schema.Literals(["concat", "none"])),
  /** Plans warn when a component repeats more often than this. */
  maxEpochs: Schema.optional(PositiveNumber),
  /** Also write the mix as a Megatron indexed dataset with a blend file. */
  export: Schema.optional(Schema.Literals(["megatron", "none"])),
  description: Schema.optional(Schema.String)
})
export type Mix = typeof Mix.Type

// ---------------------------------------------------------------------------
// Stages
// ---------------------------------------------------------------------------

export const ModelConfig = Schema.Struct({
  architecture: Schema.optional(Schema.String),
  layers: Schema.optional(PositiveInt),
  hiddenSize: Schema.optional(PositiveInt),
  heads: Schema.optional(PositiveInt),
  kvHeads: Schema.optional(PositiveInt),
  intermediateSize: Schema.optional(PositiveInt),
  sequenceLength: Schema.optional(PositiveInt),
  vocabSize: Schema.optional(PositiveInt),
  rotaryPercent: Schema.optional(PositiveNumber),
  rotaryBase: Schema.optional(PositiveNumber),
  norm: Schema.optional(Schema.String),
  activation: Schema.optional(Schema.String),
  tiedEmbeddings: Schema.optional(Schema.Boolean),
  precision: Schema.optional(Schema.String),
  parameters: Schema.optional(PositiveInt),
  /** A checkpoint URI or hub id to start from, for fine-tuning stages. */
  base: Schema.optional(Schema.String)
})

export const OptimizerConfig = Schema.Struct({
  type: Schema.Literals(["adamw", "adam", "sgd", "lion"]),
  lr: PositiveNumber,
  minLr: Schema.optional(Schema.Finite),
  betas: Schema.optional(Schema.Tuple([Schema.Finite, Schema.Finite])),
  eps: Schema.optional(PositiveNumber),
  weightDecay: Schema.optional(Schema.Finite),
  gradClip: Schema.optional(PositiveNumber)
})

export const ScheduleConfig = Schema.Struct({
  style: Schema.String,
  /** Warmup as a fraction of training (< 1) or a step count (>= 1). */
  warmup: Schema.optional(Schema.Finite),
  decaySteps: Schema.optional(PositiveInt),
  cooldown: Schema.optional(
    Schema.Struct({
      fromStep: Schema.optional(PositiveInt),
      fromLr: Schema.optional(PositiveNumber),
      toLr: Schema.optional(Schema.Finite),
      style: Schema.optional(Schema.String),
      checkpoint: Schema.optional(Schema.String)
    })
  )
})

export const BatchConfig = Schema.Struct({
  microBatchPerGpu: Schema.optional(PositiveInt),
  gradientAccumulation: Schema.optional(PositiveInt),
  gpus: Schema.optional(PositiveInt),
  /** Sequences per optimizer step; derived from the three fields above when absent. */
  globalBatch: Schema.optional(PositiveInt)
})

export const StageType = Schema.Literals(["pretrain", "sft", "dpo", "rl", "quantize"])
export type StageType = typeof StageType.Type

export const Stage = Schema.Struct({
  type: StageType,
  /** A mix, or one or more source or generator names. Quantize stages take none. */
  data: Schema.optional(Schema.Union([Schema.String, Schema.Array(Schema.String)])),
  /** The stage whose final checkpoint this one starts from. */
  from: Schema.optional(Schema.String),
  model: Schema.optional(ModelConfig),
  optimizer: Schema.optional(OptimizerConfig),
  schedule: Schema.optional(ScheduleConfig),
  batch: Schema.optional(BatchConfig),
  steps: Schema.optional(PositiveInt),
  epochs: Schema.optional(PositiveNumber),
  backend: Schema.optional(Schema.Literals(["gpt-neox", "trl", "alignment-handbook", "reference", "llama.cpp", "openvino"])),
  /** DPO temperature. */
  beta: Schema.optional(PositiveNumber),
  /** RL: the verifier that scores each completion. */
  reward: Schema.optional(Schema.Struct({ verifier: Schema.String, processRewards: Schema.optional(Schema.Boolean) })),
  /** Quantize: llama.cpp or OpenVINO types to produce. */
  quantize: Schema.optional(Schema.Struct({ format: Schema.Literals(["gguf", "openvino"]), types: Schema.Array(Schema.String) })),
  options: Schema.optional(Schema.Record(Schema.String, Schema.Unknown)),
  description: Schema.optional(Schema.String)
})
export type Stage = typeof Stage.Type

// ---------------------------------------------------------------------------
// Profiles
// ---------------------------------------------------------------------------

export const SlurmResources = Schema.Struct({
  partition: Schema.optional(Schema.String),
  cpus: Schema.optional(PositiveInt),
  memoryMb: Schema.optional(PositiveInt),
  gpus: Schema.optional(NonNegativeInt),
  timeLimit: Schema.optional(Schema.String),
  extraFlags: Schema.optional(Schema.Array(Schema.String)),
  retries: Schema.optional(NonNegativeInt)
})

export const SourceOverride = Schema.Struct({
  uri: Schema.optional(Schema.Union([Schema.String, Schema.Array(Schema.String)])),
  format: Schema.optional(SourceFormat),
  fields: Schema.optional(FieldMapping),
  size: Schema.optional(DeclaredSize),
  onError: Schema.optional(ErrorPolicy)
})

export const Profile = Schema.Struct({
  /** Artifact store root: a path or `s3://bucket/prefix`. */
  store: Schema.optional(Schema.String),
  executor: Schema.optional(Schema.Literals(["local", "slurm"])),
  concurrency: Schema.optional(PositiveInt),
  slurm: Schema.optional(SlurmResources),
  s3: Schema.optional(
    Schema.Struct({
      endpoint: Schema.optional(Schema.String),
      region: Schema.optional(Schema.String),
      forcePathStyle: Schema.optional(Schema.Boolean)
    })
  ),
  /** Scale every mix to this budget while keeping each component's share. */
  sample: Schema.optional(Schema.Struct({ totalTokens: TokenCount })),
  /** Per-source replacements, for example local sample files in place of hub datasets. */
  sources: Schema.optional(Schema.Record(Schema.String, SourceOverride)),
  description: Schema.optional(Schema.String)
})
export type Profile = typeof Profile.Type

// ---------------------------------------------------------------------------
// Recipe
// ---------------------------------------------------------------------------

export const RecipeSchema = Schema.Struct({
  name: Schema.String,
  description: Schema.optional(Schema.String),
  sources: Schema.Record(Schema.String, Source),
  generators: Schema.optional(Schema.Record(Schema.String, Generator)),
  transforms: Schema.optional(Schema.Record(Schema.String, Pipeline)),
  /** Optional: a recipe may only prepare fine-tuning data. */
  mixes: Schema.Record(Schema.String, Mix).pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  stages: Schema.optional(Schema.Record(Schema.String, Stage)),
  profiles: Schema.optional(Schema.Record(Schema.String, Profile))
})
export type Recipe = typeof RecipeSchema.Type
