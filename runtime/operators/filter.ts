/**
 * The `filter` operator: shard `i` of the input becomes shard `i` of the output.
 * Rules run in the order the node lists them; a dropped row is counted once, against
 * the first rule that dropped it (`drops["<rule>"]`), and the detailed reason
 * (`gopher_quality.word_count`) is counted under `drops["<rule>.<check>"]` too.
 * Rules with an `apply` step (C4) also rewrite the text of the rows they keep.
 */
import { Effect, Schema, Stream } from "effect"
import type { Row } from "../batch.ts"
import { RunError } from "../executor/errors.ts"
import { addCount } from "../executor/types.ts"
import { makeC4Rule } from "../ops/filters/c4.ts"
import { makeFineWebRule } from "../ops/filters/fineweb.ts"
import { makeGopherQualityRule, makeGopherRepetitionRule } from "../ops/filters/gopher.ts"
import type { FilterRule } from "../ops/filters/rule.ts"
import { type FilterRuleConfig, FilterRulesSchema } from "../ops/filters/schema.ts"
import { decodeParams, FilterParams } from "./params.ts"
import { inputShardCount } from "./shards.ts"
import type { Operator } from "./types.ts"

const buildRule = (config: FilterRuleConfig): FilterRule | undefined => {
  switch (config.rule) {
    case "gopher_quality":
      return makeGopherQualityRule(config)
    case "gopher_repetition":
      return makeGopherRepetitionRule(config)
    case "c4":
      return makeC4Rule(config)
    case "fineweb":
      return makeFineWebRule(config)
    default:
      // TODO: wire the length and language rules once runtime/ops/filters exports them.
      return undefined
  }
}

/** Runs the rules on one row: the first failing rule's reason, or the row to keep. */
type RuleResult =
  | { readonly kept: false; readonly rule: string; readonly reason: string }
  | { readonly kept: true; readonly row: Row }

const applyRules = (rules: ReadonlyArray<FilterRule>, row: Row, field: string, text: string): RuleResult => {
  let current = text
  for (const rule of rules) {
    if (rule.apply !== undefined) {
      const result = rule.apply(current)
      if ("reason" in result) return { kept: false, rule: rule.name, reason: result.reason }
      current = result.text
    } else {
      const reason = rule.check(current)
      if (reason !== undefined) return { kept: false, rule: rule.name, reason }
    }
  }
  return { kept: true, row: current === text ? row : { ...row, [field]: current } }
}

export const filterOperator: Operator = {
  shardCount: inputShardCount,
  runShard: (context) =>
    Effect.gen(function*() {
      const params = yield* decodeParams(FilterParams, context.node)
      const node = context.node.name
      const configs = yield* Schema.decodeUnknownEffect(FilterRulesSchema)(params.rules).pipe(
        Effect.mapError((cause) => new RunError({ reason: "InvalidPlan", node, description: `invalid filter rules: ${cause.message}`, cause }))
      )
      const rules: Array<FilterRule> = []
      for (const config of configs) {
        const rule = buildRule(config)
        if (rule === undefined) {
          return yield* new RunError({ reason: "Unsupported", node, description: `filter rule ${config.rule} is not available in this runtime yet` })
        }
        rules.push(rule)
      }
      const field = params.field
      const rows = context.readInput(0, [context.shard]).pipe(
        Stream.mapEffect((batch) =>
          Effect.gen(function*() {
            const kept: Array<Row> = []
            for (const row of batch) {
              context.stats.rowsIn++
              const text = row[field]
              if (typeof text !== "string") {
                return yield* new RunError({
                  reason: "InvalidInput",
                  node,
                  shard: context.shard,
                  description: `field "${field}" is ${text === null || text === undefined ? "missing" : typeof text} in an input row, expected a string; set the filter's field to the text column`
                })
              }
              const result = applyRules(rules, row, field, text)
              if (result.kept) {
                kept.push(result.row)
              } else {
                addCount(context.stats.drops, result.rule)
                if (result.reason !== result.rule) addCount(context.stats.drops, result.reason)
              }
            }
            return kept
          })
        )
      )
      yield* context.writeRows(rows)
    })
}
