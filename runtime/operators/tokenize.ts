/**
 * The `tokenize` operator: shard `i` of the input becomes shard `i` of the output,
 * with rows `{ tokens: Uint32Array, source }`. Encoding runs on the `CpuWorkers` pool
 * when the run has one, and on the main thread otherwise; both give the same ids.
 */
import { Effect, Stream } from "effect"
import { makeTokenizeBatch } from "../../connectors/tokenizers/tokenizeBatch.ts"
import type { Batch, Row } from "../batch.ts"
import { RunError } from "../executor/errors.ts"
import { decodeParams, TokenizeParams } from "./params.ts"
import { inputShardCount } from "./shards.ts"
import type { Operator, ShardContext } from "./types.ts"
import { CpuWorkers, type WorkerPool } from "./workers.ts"

const message = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

const tokenizeOnPool = (
  context: ShardContext,
  pool: WorkerPool,
  params: TokenizeParams,
  fallback: (rows: Batch) => Array<Row>,
  batch: Batch
): Effect.Effect<Array<Row>, RunError> => {
  const texts: Array<string> = []
  for (const row of batch) {
    const text = row[params.field]
    // The main-thread function raises the error with the row named.
    if (typeof text !== "string") return Effect.try({ try: () => fallback(batch), catch: invalidInput(context) })
    texts.push(text)
  }
  return Effect.tryPromise({
    try: () => pool.tokenize({ tokenizer: params.tokenizer, appendEos: params.appendEos, texts }),
    catch: invalidInput(context)
  }).pipe(
    Effect.map((tokens) => batch.map((row, index): Row => row.source === undefined ? { tokens: tokens[index] } : { tokens: tokens[index], source: row.source }))
  )
}

const invalidInput = (context: ShardContext) => (cause: unknown): RunError =>
  new RunError({ reason: "InvalidInput", node: context.node.name, shard: context.shard, description: message(cause), cause })

export const tokenizeOperator: Operator = {
  shardCount: inputShardCount,
  runShard: (context) =>
    Effect.gen(function*() {
      const params = yield* decodeParams(TokenizeParams, context.node)
      const tokenize = yield* Effect.try({
        try: () => makeTokenizeBatch(params),
        catch: (cause) => new RunError({ reason: "InvalidPlan", node: context.node.name, description: message(cause), cause })
      })
      const pool = yield* CpuWorkers
      const rows = context.readInput(0, [context.shard]).pipe(
        Stream.mapEffect((batch) => {
          context.stats.rowsIn += batch.length
          return pool === undefined
            ? Effect.try({ try: () => tokenize(batch), catch: invalidInput(context) })
            : tokenizeOnPool(context, pool, params, tokenize, batch)
        })
      )
      yield* context.writeRows(rows)
    })
}
