/**
 * The `dedup` operator: one shard that reads every input shard in order, so "first
 * occurrence wins" is deterministic. Dropped rows are counted under
 * `drops["<method>"]`.
 *
 * With several inputs, they are in priority order and the last one is the dataset
 * being deduplicated (the compiler emits `[...across, current]`). The earlier inputs
 * only mark documents as seen: the output holds the last input's rows that appear
 * neither earlier in it nor in any earlier input.
 */
import { createHash } from "node:crypto"
import { Effect, Stream } from "effect"
import type { Row } from "../batch.ts"
import { RunError } from "../executor/errors.ts"
import { addCount } from "../executor/types.ts"
import { DedupParams, decodeParams } from "./params.ts"
import { singleShard } from "./shards.ts"
import type { Operator } from "./types.ts"

export const dedupOperator: Operator = {
  shardCount: singleShard,
  runShard: (context) =>
    Effect.gen(function*() {
      const params = yield* decodeParams(DedupParams, context.node)
      const node = context.node.name
      if (params.method !== "exact") {
        // TODO: run MinHash LSH through runtime/ops/dedup once that module exists.
        return yield* new RunError({ reason: "Unsupported", node, description: "dedup method minhash is not available in this runtime yet; use method exact" })
      }
      const seen = new Set<string>()
      const last = context.inputs.length - 1
      const inputs = Stream.fromIterable(context.inputs.map((_, index) => index)).pipe(
        Stream.flatMap((index) => Stream.map(context.readInput(index), (batch) => ({ index, batch })))
      )
      const rows = inputs.pipe(
        Stream.mapEffect(({ index, batch }) =>
          Effect.gen(function*() {
            const kept: Array<Row> = []
            for (const row of batch) {
              if (index === last) context.stats.rowsIn++
              const text = row[params.field]
              if (typeof text !== "string") {
                return yield* new RunError({
                  reason: "InvalidInput",
                  node,
                  description: `field "${params.field}" is ${text === null || text === undefined ? "missing" : typeof text} in an input row, expected a string`
                })
              }
              const key = createHash("sha256").update(text).digest("base64")
              if (seen.has(key)) {
                if (index === last) addCount(context.stats.drops, params.method)
                continue
              }
              seen.add(key)
              if (index === last) kept.push(row)
            }
            return kept
          })
        )
      )
      yield* context.writeRows(rows)
    })
}
