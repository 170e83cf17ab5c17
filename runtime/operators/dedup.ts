/**
 * The `dedup` operator: one shard that reads every input shard in order, so "first
 * occurrence wins" is deterministic. With several inputs (priority order), a
 * duplicate is kept in the earliest input only. Dropped rows are counted under
 * `drops["<method>"]`.
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
      const inputs = Stream.fromIterable(context.inputs.map((_, index) => index)).pipe(
        Stream.flatMap((index) => context.readInput(index))
      )
      const rows = inputs.pipe(
        Stream.mapEffect((batch) =>
          Effect.gen(function*() {
            const kept: Array<Row> = []
            for (const row of batch) {
              context.stats.rowsIn++
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
                addCount(context.stats.drops, params.method)
                continue
              }
              seen.add(key)
              kept.push(row)
            }
            return kept
          })
        )
      )
      yield* context.writeRows(rows)
    })
}
