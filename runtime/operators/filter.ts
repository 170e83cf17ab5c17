/**
 * The `filter` operator.
 *
 * Rules run in the order the node lists them, built by `runtime/ops/filters` (quality,
 * repetition, C4, FineWeb, length, language) and `runtime/ops/qdc` (`qdc` rules on
 * per-row metrics). A dropped row is counted once against the first rule that dropped
 * it, under `drops["<rule>"]`, and under its detailed reason
 * (`drops["gopher_quality.word_count"]`) as well. Rules with an `apply` step (C4)
 * rewrite the text of the rows they keep.
 *
 * Row-wise filters map shard `i` of the input to shard `i` of the output. A filter
 * with a `select` param (diversity-aware selection: a cap per MinHash cluster, then a
 * seeded, optionally stratified sample of `limit` rows) needs every row at once, so it
 * runs as one shard; selection follows the rules.
 */
import { Effect, Schema, Stream } from "effect"
import type { Row } from "../batch.ts"
import { RunError } from "../executor/errors.ts"
import { addCount } from "../executor/types.ts"
import { buildFilterRule, decodeFilterRules } from "../ops/filters/makeFilter.ts"
import type { FilterRule } from "../ops/filters/rule.ts"
import { checkQdcRow, type QdcFilterRule, QdcFilterRuleSchema, QdcSelectSchema, selectDiverse } from "../ops/qdc/select.ts"
import { decodeParams, FilterParams } from "./params.ts"
import { inputShardCount } from "./shards.ts"
import type { NodeContext, Operator } from "./types.ts"

/** One rule as the operator runs it: on the row, with the current text. */
interface RowRule {
  readonly name: string
  /** The failing reason, or the text to keep (changed by C4, unchanged otherwise). */
  readonly run: (row: Row, text: string) => { readonly reason: string } | { readonly text: string }
}

const fromFilterRule = (rule: FilterRule): RowRule => ({
  name: rule.name,
  run: (_row, text) => {
    if (rule.apply !== undefined) return rule.apply(text)
    const reason = rule.check(text)
    return reason === undefined ? { text } : { reason }
  }
})

const fromQdcRule = (rule: QdcFilterRule, field: string): RowRule => ({
  name: "qdc",
  run: (row, text) => {
    const reason = checkQdcRow(row, rule, { field })
    return reason === undefined ? { text } : { reason }
  }
})

const decodeQdcRule = Schema.decodeUnknownSync(QdcFilterRuleSchema)
const decodeSelect = Schema.decodeUnknownSync(QdcSelectSchema)

const buildRules = (rules: ReadonlyArray<unknown>, field: string): Array<RowRule> =>
  rules.map((config) => {
    const name = typeof config === "object" && config !== null ? (config as { rule?: unknown }).rule : undefined
    if (name === "qdc") return fromQdcRule(decodeQdcRule(config), field)
    return fromFilterRule(buildFilterRule(decodeFilterRules([config])[0]))
  })

const invalidRules = (context: NodeContext) => (cause: unknown): RunError =>
  new RunError({ reason: "InvalidPlan", node: context.node.name, description: cause instanceof Error ? cause.message : String(cause), cause })

const hasSelect = (context: NodeContext): boolean => {
  const select = context.node.params.select
  return select !== undefined && select !== null
}

export const filterOperator: Operator = {
  shardCount: (context) => hasSelect(context) ? Effect.succeed(1) : inputShardCount(context),
  runShard: (context) =>
    Effect.gen(function*() {
      const params = yield* decodeParams(FilterParams, context.node)
      const node = context.node.name
      const field = params.field
      const rules = yield* Effect.try({ try: () => buildRules(params.rules, field), catch: invalidRules(context) })
      const select = hasSelect(context)
        ? yield* Effect.try({ try: () => decodeSelect(context.node.params.select), catch: invalidRules(context) })
        : undefined

      const filterBatch = (batch: ReadonlyArray<Row>): Effect.Effect<Array<Row>, RunError> =>
        Effect.gen(function*() {
          const kept: Array<Row> = []
          for (const row of batch) {
            context.stats.rowsIn++
            const original = row[field]
            if (typeof original !== "string") {
              return yield* new RunError({
                reason: "InvalidInput",
                node,
                shard: context.shard,
                description: `field "${field}" is ${original === null || original === undefined ? "missing" : typeof original} in an input row, expected a string; set the filter's field to the text column`
              })
            }
            let text = original
            let dropped = false
            for (const rule of rules) {
              const result = rule.run(row, text)
              if ("reason" in result) {
                addCount(context.stats.drops, rule.name)
                if (result.reason !== rule.name) addCount(context.stats.drops, result.reason)
                dropped = true
                break
              }
              text = result.text
            }
            if (!dropped) kept.push(text === original ? row : { ...row, [field]: text })
          }
          return kept
        })

      if (select === undefined) {
        yield* context.writeRows(Stream.mapEffect(context.readInput(0, [context.shard]), filterBatch))
        return
      }

      const all: Array<Row> = []
      yield* Stream.runForEach(context.readInput(0), (batch) =>
        Effect.map(filterBatch(batch), (kept) => {
          for (const row of kept) all.push(row)
        }))
      const selection = yield* Effect.try({
        try: () => selectDiverse(all, { field, ...select }, { field }),
        catch: (cause) => new RunError({ reason: "OperatorFailed", node, description: `selection failed: ${cause instanceof Error ? cause.message : String(cause)}`, cause })
      })
      const notSelected = all.length - selection.rows.length
      if (notSelected > 0) addCount(context.stats.drops, "select", notSelected)
      context.extra.select = selection.stats
      yield* context.writeRows(Stream.make(selection.rows))
    })
}
