/**
 * The `mix` operator: loads each component's tokenized documents, samples them to
 * the component's token target, shuffles and packs (see `runtime/ops/mix/mix.ts`).
 * One shard; rows are `{ tokens: Uint32Array }`, one per packed sequence.
 *
 * NOTE: every component's token arrays stay in memory while the mix is planned, about
 * 4 bytes per input token. Mixes larger than memory need a two-pass reader.
 */
import { Effect, Stream } from "effect"
import type { JsonValue } from "../../compiler/ir.ts"
import type { Row } from "../batch.ts"
import { RunError } from "../executor/errors.ts"
import { MixInputError, type MixComponentData, packMix, planMix, resolveTargets } from "../ops/mix/mix.ts"
import { decodeParams, MixParams } from "./params.ts"
import { singleShard } from "./shards.ts"
import type { Operator } from "./types.ts"

/** Sequences per emitted batch (and per Parquet row group at most). */
const BATCH_SEQUENCES = 1024

export const mixOperator: Operator = {
  shardCount: singleShard,
  runShard: (context) =>
    Effect.gen(function*() {
      const params = yield* decodeParams(MixParams, context.node)
      const node = context.node.name
      if (params.components.length !== context.inputs.length) {
        return yield* new RunError({
          reason: "InvalidPlan",
          node,
          description: `the mix has ${params.components.length} components but ${context.inputs.length} inputs; inputs must be the components' tokenize nodes in the same order`
        })
      }
      const loaded: Array<Array<Uint32Array>> = []
      for (const [index, component] of params.components.entries()) {
        const documents: Array<Uint32Array> = []
        yield* Stream.runForEach(context.readInput(index), (batch) =>
          Effect.gen(function*() {
            for (const row of batch) {
              const tokens = row.tokens
              if (!(tokens instanceof Uint32Array)) {
                return yield* new RunError({
                  reason: "InvalidInput",
                  node,
                  description: `component ${component.name}: an input row has no tokens column; the inputs must be tokenize nodes`
                })
              }
              documents.push(tokens)
              context.stats.rowsIn++
              context.stats.tokensIn += tokens.length
            }
          }))
        loaded.push(documents)
      }
      const available = loaded.map((documents) => documents.reduce((sum, document) => sum + document.length, 0))
      const targets = yield* Effect.try({
        try: () => resolveTargets(params.components, available, params.totalTokens),
        catch: (cause) => new RunError({ reason: "InvalidPlan", node, description: cause instanceof Error ? cause.message : String(cause), cause })
      })
      const components: Array<MixComponentData> = params.components.map((component, index) => ({
        name: component.name,
        target: targets[index],
        documents: loaded[index]
      }))

      const packed = yield* Effect.try({
        try: () => packMix(components, planMix(components, params.seed), params),
        catch: (cause) =>
          new RunError({
            reason: cause instanceof MixInputError ? "InvalidInput" : "OperatorFailed",
            node,
            description: cause instanceof Error ? cause.message : String(cause),
            cause
          })
      })

      const total = packed.measuredTokens.reduce((sum, tokens) => sum + tokens, 0)
      const plannedTotal = components.reduce((sum, component) => sum + component.target, 0)
      const summary: Array<JsonValue> = components.map((component, index) => {
        return {
          name: component.name,
          plannedTokens: component.target,
          measuredTokens: packed.measuredTokens[index],
          availableTokens: available[index],
          epochs: available[index] === 0 ? 0 : component.target / available[index],
          plannedShare: plannedTotal === 0 ? 0 : component.target / plannedTotal,
          measuredShare: total === 0 ? 0 : packed.measuredTokens[index] / total
        }
      })
      context.extra.mix = {
        sequenceLength: params.sequenceLength,
        sequences: packed.sequences.length,
        totalTokens: total,
        components: summary
      }

      const batches: Array<Array<Row>> = []
      for (let start = 0; start < packed.sequences.length; start += BATCH_SEQUENCES) {
        batches.push(packed.sequences.slice(start, start + BATCH_SEQUENCES).map((tokens) => ({ tokens })))
      }
      yield* context.writeRows(Stream.fromIterable(batches))
    })
}
