/**
 * The `qdc` operator: measures quality, diversity and complexity of its input with
 * `runtime/ops/qdc` and writes the report as `qdc.json` (and into the manifest's
 * `extra.qdc`). It writes no rows; it is a measurement, not a transform. One shard.
 */
import { Effect, Schema, Stream } from "effect"
import type { JsonValue } from "../../compiler/ir.ts"
import type { Row } from "../batch.ts"
import { RunError } from "../executor/errors.ts"
import { computeQdc } from "../ops/qdc/metrics.ts"
import { QdcNodeParamsSchema } from "../ops/qdc/select.ts"
import { singleShard } from "./shards.ts"
import type { Operator } from "./types.ts"

export const qdcOperator: Operator = {
  shardCount: singleShard,
  runShard: (context) =>
    Effect.gen(function*() {
      const node = context.node.name
      const params = yield* Schema.decodeUnknownEffect(QdcNodeParamsSchema)(context.node.params).pipe(
        Effect.mapError((cause) => new RunError({ reason: "InvalidPlan", node, description: `invalid qdc params: ${cause.message}`, cause }))
      )
      if (context.inputs.length !== 1) {
        return yield* new RunError({ reason: "InvalidPlan", node, description: `a qdc node takes exactly one input, got ${context.inputs.length}` })
      }
      const rows: Array<Row> = []
      yield* Stream.runForEach(context.readInput(0), (batch) =>
        Effect.sync(() => {
          for (const row of batch) rows.push(row)
        }))
      context.stats.rowsIn += rows.length
      const report = yield* Effect.try({
        try: () => computeQdc(rows, { field: params.field }),
        catch: (cause) => new RunError({ reason: "OperatorFailed", node, description: cause instanceof Error ? cause.message : String(cause), cause })
      })
      const selected: { [key: string]: JsonValue } = { field: report.field, rows: report.rows }
      for (const metric of params.metrics) selected[metric] = JSON.parse(JSON.stringify(report[metric]))
      selected.histograms = JSON.parse(JSON.stringify(report.histograms))
      context.extra.qdc = selected
      yield* context.writeFile("qdc.json", new TextEncoder().encode(JSON.stringify(selected, null, 2) + "\n"))
    })
}
