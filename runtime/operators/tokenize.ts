/**
 * The `tokenize` operator: shard `i` of the input becomes shard `i` of the output,
 * with rows `{ tokens: Uint32Array, source }`.
 */
import { Effect, Stream } from "effect"
import { makeTokenizeBatch } from "../../connectors/tokenizers/tokenizeBatch.ts"
import { RunError } from "../executor/errors.ts"
import { decodeParams, TokenizeParams } from "./params.ts"
import type { Operator } from "./types.ts"
import { inputShardCount } from "./shards.ts"

export const tokenizeOperator: Operator = {
  shardCount: inputShardCount,
  runShard: (context) =>
    Effect.gen(function*() {
      const params = yield* decodeParams(TokenizeParams, context.node)
      const tokenize = yield* Effect.try({
        try: () => makeTokenizeBatch(params),
        catch: (cause) => new RunError({ reason: "InvalidPlan", node: context.node.name, description: String(cause), cause })
      })
      const rows = context.readInput(0, [context.shard]).pipe(
        Stream.mapEffect((batch) =>
          Effect.try({
            try: () => {
              context.stats.rowsIn += batch.length
              return tokenize(batch)
            },
            catch: (cause) =>
              new RunError({
                reason: "InvalidInput",
                node: context.node.name,
                shard: context.shard,
                description: cause instanceof Error ? cause.message : String(cause),
                cause
              })
          })
        )
      )
      yield* context.writeRows(rows)
    })
}
