/**
 * The `generate` operator: synthetic rows from `connectors/generators`. One shard.
 *
 * - `search-trace`: Countdown / 24-game problems solved by BFS, DFS or best-first
 *   search, one row per problem. Problems come from the node's input when it has one
 *   (rows parsed as `{ numbers, target }`), otherwise they are sampled from the seed.
 * - `llm`: one request per input row and sample, against an OpenAI-compatible
 *   endpoint. Responses are cached under `<root>/cache/llm`, so a re-run after an
 *   interruption does not repeat finished requests.
 *
 * `verify` (`none`, `verified`, `best-of-n`) applies rejection sampling with the
 * Countdown verifier. Every output row gets `text` (the trace or the completion, the
 * column later steps tokenize) and `source` (the generator's name).
 */
import { Effect, Schema, Stream } from "effect"
import type { Row } from "../batch.ts"
import { joinUri, Storage } from "../../connectors/storage/Storage.ts"
import { decodeSearchTraceConfig, generateSearchTraces } from "../../connectors/generators/countdown/generate.ts"
import { parseCountdownProblem } from "../../connectors/generators/countdown/problems.ts"
import { makeStorageCache } from "../../connectors/generators/llm/cache.ts"
import { decodeLlmGeneratorConfig } from "../../connectors/generators/llm/config.ts"
import { makeLlmGenerator } from "../../connectors/generators/llm/generator.ts"
import { countdownVerifier, rejectionSample, type Verifier } from "../../connectors/generators/rejection.ts"
import { RunError } from "../executor/errors.ts"
import { addCount } from "../executor/types.ts"
import { singleShard } from "./shards.ts"
import type { Operator, ShardContext } from "./types.ts"

const GenerateParams = Schema.Struct({
  generator: Schema.Struct({ type: Schema.Literals(["search-trace", "llm"]) }),
  verify: Schema.optional(Schema.Literals(["none", "verified", "best-of-n"]))
})

const message = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

/** Every row of every input, in order. */
const collectInputs = (context: ShardContext): Effect.Effect<Array<Row>, RunError, Storage> =>
  Effect.gen(function*() {
    const rows: Array<Row> = []
    for (let index = 0; index < context.inputs.length; index++) {
      yield* Stream.runForEach(context.readInput(index), (batch) =>
        Effect.sync(() => {
          for (const row of batch) rows.push(row)
        }))
    }
    context.stats.rowsIn += rows.length
    return rows
  })

const searchTraceRows = (context: ShardContext, generator: unknown): Effect.Effect<Array<Row>, RunError, Storage> =>
  Effect.gen(function*() {
    const node = context.node.name
    const invalid = (cause: unknown) => new RunError({ reason: "InvalidPlan", node, description: message(cause), cause })
    const config = yield* Effect.try({ try: () => decodeSearchTraceConfig(generator), catch: invalid })
    const inputs = context.inputs.length === 0 ? undefined : yield* collectInputs(context)
    return yield* Effect.try({
      try: () => {
        const problems = inputs?.map((row, index) => parseCountdownProblem(row, `input row ${index}`))
        return Array.from(generateSearchTraces(config, problems), (row): Row => ({ ...row, text: row.trace }))
      },
      catch: (cause) => new RunError({ reason: inputs === undefined ? "InvalidPlan" : "InvalidInput", node, description: message(cause), cause })
    })
  })

const llmRows = (context: ShardContext, generator: unknown): Effect.Effect<Array<Row>, RunError, Storage> =>
  Effect.gen(function*() {
    const node = context.node.name
    const config = yield* Effect.try({
      try: () => decodeLlmGeneratorConfig(generator),
      catch: (cause) => new RunError({ reason: "InvalidPlan", node, description: message(cause), cause })
    })
    if (context.inputs.length === 0) {
      return yield* new RunError({ reason: "InvalidPlan", node, description: "an llm generator needs an input dataset of prompts" })
    }
    const storage = yield* Storage
    const llm = makeLlmGenerator(config, { cache: makeStorageCache(storage, joinUri(context.root, "cache", "llm")) })
    const inputs = yield* collectInputs(context)
    const rows = yield* llm.generate(inputs).pipe(
      Effect.mapError((cause) => new RunError({ reason: "OperatorFailed", node, description: cause.message, cause }))
    )
    const stats = llm.stats()
    context.extra.llm = JSON.parse(JSON.stringify(stats))
    return rows.map((row): Row => ({ ...row, text: row.completion ?? null }))
  })

export const generateOperator: Operator = {
  shardCount: singleShard,
  runShard: (context) =>
    Effect.gen(function*() {
      const node = context.node.name
      const params = yield* Schema.decodeUnknownEffect(GenerateParams)(context.node.params).pipe(
        Effect.mapError((cause) => new RunError({ reason: "InvalidPlan", node, description: `invalid generate params: ${cause.message}`, cause }))
      )
      const type = params.generator.type
      const generated = type === "search-trace"
        ? yield* searchTraceRows(context, context.node.params.generator)
        : yield* llmRows(context, context.node.params.generator)

      const source = node.replace(/^generate:/, "")
      let rows = generated.map((row): Row => ({ ...row, source }))
      const verify = params.verify ?? "none"
      if (verify !== "none") {
        const verifier: Verifier = type === "search-trace" ? (row) => row.verified === true : countdownVerifier("completion")
        const result = yield* Effect.try({
          try: () => rejectionSample(rows, verifier, { mode: verify }),
          catch: (cause) => new RunError({ reason: "OperatorFailed", node, description: message(cause), cause })
        })
        const rejected = rows.length - result.rows.length
        if (rejected > 0) {
          addCount(context.stats.drops, "verify", rejected)
          addCount(context.stats.drops, `verify.${verify}`, rejected)
        }
        rows = result.rows
      }
      const batches: Array<Array<Row>> = []
      for (let start = 0; start < rows.length; start += 1024) batches.push(rows.slice(start, start + 1024))
      yield* context.writeRows(Stream.fromIterable(batches))
    })
}
