/**
 * The `filter` operator's per-batch work: decode the rule list once, then run every
 * row through the rules in order.
 */
import { Schema } from "effect"
import type { Batch, Row } from "../../batch.ts"
import { C4_DEFAULTS, makeC4Rule } from "./c4.ts"
import { FINEWEB_DEFAULTS, makeFineWebRule } from "./fineweb.ts"
import { GOPHER_QUALITY_DEFAULTS, GOPHER_REPETITION_DEFAULTS, makeGopherQualityRule, makeGopherRepetitionRule } from "./gopher.ts"
import { LANGUAGE_DEFAULTS, makeLanguageRule } from "./language.ts"
import { makeLengthRule } from "./length.ts"
import type { FilterRule } from "./rule.ts"
import { type FilterRuleConfig, FilterRulesSchema } from "./schema.ts"

export class FilterError extends Schema.TaggedError<FilterError>()("FilterError", {
  reason: Schema.Literals(["InvalidConfig", "InvalidInput"]),
  description: Schema.String
}) {
  override get message(): string {
    return `FilterError: ${this.description}`
  }
}

export interface FilterResult {
  readonly kept: Array<Row>
  /** Dropped row counts by reason, such as `{ "gopher_quality.word_count": 3 }`. */
  readonly dropped: Record<string, number>
}

const decodeRules = Schema.decodeUnknownSync(FilterRulesSchema, { onExcessProperty: "error" })

/**
 * Validates a `filter` node's `rules` array.
 *
 * @throws FilterError `InvalidConfig` with the path of the first invalid entry, such
 *   as `at [1]["minWords"]`.
 */
export const decodeFilterRules = (input: unknown): ReadonlyArray<FilterRuleConfig> => {
  try {
    return decodeRules(input)
  } catch (error) {
    throw new FilterError({
      reason: "InvalidConfig",
      description: `invalid filter rules: ${error instanceof Error ? error.message : String(error)}`
    })
  }
}

/** Returns the rule config with every omitted threshold set to its default. */
export const resolveFilterRule = (config: FilterRuleConfig): FilterRuleConfig => {
  switch (config.rule) {
    case "gopher_quality":
      return { ...GOPHER_QUALITY_DEFAULTS, ...config }
    case "gopher_repetition":
      return { ...GOPHER_REPETITION_DEFAULTS, ...config }
    case "c4":
      return { ...C4_DEFAULTS, ...config }
    case "fineweb":
      return { ...FINEWEB_DEFAULTS, ...config }
    case "language":
      return { ...LANGUAGE_DEFAULTS, ...config }
    case "length":
      return config
  }
}

/** Builds the rule a config describes. */
export const buildFilterRule = (config: FilterRuleConfig): FilterRule => {
  switch (config.rule) {
    case "gopher_quality":
      return makeGopherQualityRule(config)
    case "gopher_repetition":
      return makeGopherRepetitionRule(config)
    case "c4":
      return makeC4Rule(config)
    case "fineweb":
      return makeFineWebRule(config)
    case "language":
      return makeLanguageRule(config)
    case "length":
      return makeLengthRule(config)
  }
}

const isFilterRule = (value: unknown): value is FilterRule =>
  typeof value === "object" && value !== null && typeof (value as FilterRule).check === "function"

/**
 * Builds the batch function of a `filter` node.
 *
 * `rules` holds configs (validated here) or already built `FilterRule` objects, for
 * rules defined outside this module. Each row goes through the rules in order and
 * stops at the first failure, which is the reason it counts against. Rules with
 * `apply` (C4) replace the field's text in kept rows, and later rules see that text.
 *
 * @throws FilterError `InvalidConfig` here, or `InvalidInput` from the returned
 *   function when a row's field is not a string.
 */
export const makeFilter = (
  rules: ReadonlyArray<unknown>
): (rows: Batch, field: string) => FilterResult => {
  const configs = rules.filter((rule) => !isFilterRule(rule))
  const decoded = decodeFilterRules(configs)
  let next = 0
  const built = rules.map((rule) => isFilterRule(rule) ? rule : buildFilterRule(decoded[next++]))

  return (rows, field) => {
    const kept: Array<Row> = []
    const dropped: Record<string, number> = {}
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]
      const original = row[field]
      if (typeof original !== "string") {
        throw new FilterError({
          reason: "InvalidInput",
          description: `row ${i} of the batch: field "${field}" is ${original === undefined ? "missing" : typeof original}, expected a string; check the filter node's field and the source's fields.text`
        })
      }
      let text = original
      let reason: string | undefined
      for (const rule of built) {
        if (rule.apply === undefined) {
          reason = rule.check(text)
        } else {
          const outcome = rule.apply(text)
          if ("reason" in outcome) reason = outcome.reason
          else text = outcome.text
        }
        if (reason !== undefined) break
      }
      if (reason === undefined) {
        kept.push(text === original ? row : { ...row, [field]: text })
      } else {
        dropped[reason] = (dropped[reason] ?? 0) + 1
      }
    }
    return { kept, dropped }
  }
}
