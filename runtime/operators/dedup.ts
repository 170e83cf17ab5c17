/**
 * The `dedup` operator, on the stateful dedupers of `runtime/ops/dedup` (exact, or
 * MinHash LSH). One shard reads every input shard in order, so "first occurrence
 * wins" is deterministic. Dropped rows are counted under `drops["<method>"]`.
 *
 * With several inputs, they are in priority order and the last one is the dataset
 * being deduplicated (the compiler emits `[...across, current]`). Every input feeds
 * the same deduper, but only the last input's kept rows are written: a document that
 * also appears in a higher-priority input is dropped here.
 */
import { Effect, Stream } from "effect"
import type { Row } from "../batch.ts"
import { RunError } from "../executor/errors.ts"
import { addCount } from "../executor/types.ts"
import { type Deduper, makeDeduper } from "../ops/dedup/makeDeduper.ts"
import { singleShard } from "./shards.ts"
import type { Operator } from "./types.ts"

const message = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

export const dedupOperator: Operator = {
  shardCount: singleShard,
  runShard: (context) =>
    Effect.gen(function*() {
      const node = context.node.name
      const deduper: Deduper = yield* Effect.try({
        try: () => makeDeduper(context.node.params),
        catch: (cause) => new RunError({ reason: "InvalidPlan", node, description: message(cause), cause })
      })
      const last = context.inputs.length - 1
      const batches = Stream.fromIterable(context.inputs.map((_, index) => index)).pipe(
        Stream.flatMap((index) => Stream.map(context.readInput(index), (batch) => ({ index, batch })))
      )
      const rows = Stream.mapEffect(batches, ({ index, batch }) =>
        Effect.try({
          try: (): Array<Row> => {
            const result = deduper.filterBatch(batch)
            if (index !== last) return []
            context.stats.rowsIn += batch.length
            if (result.duplicates > 0) addCount(context.stats.drops, deduper.method, result.duplicates)
            return result.kept
          },
          catch: (cause) => new RunError({ reason: "InvalidInput", node, description: message(cause), cause })
        }))
      yield* context.writeRows(rows)
    })
}
