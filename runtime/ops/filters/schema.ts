/**
 * Configuration schemas of the filter rules, shared by the compiler and the runtime.
 *
 * Every threshold is optional in a recipe. Each rule exports its defaults, equal to
 * the published values (sources in `docs/filters.md`), and `resolveFilterRule` fills
 * them in so plans can print and hash the effective thresholds.
 */
import { Schema } from "effect"

const Ratio = Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 }))
const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Positive = Schema.Number.check(Schema.isGreaterThan(0))
const NgramSize = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 20 }))

/** One n-gram size and the maximum fraction of characters it may cover. */
export const NgramThresholdSchema = Schema.Struct({ n: NgramSize, maxCharRatio: Ratio })
export type NgramThreshold = typeof NgramThresholdSchema.Type

export const GopherQualityRuleSchema = Schema.Struct({
  rule: Schema.Literal("gopher_quality"),
  minWords: Schema.optionalKey(Count),
  maxWords: Schema.optionalKey(Count),
  minMeanWordLength: Schema.optionalKey(Positive),
  maxMeanWordLength: Schema.optionalKey(Positive),
  maxSymbolWordRatio: Schema.optionalKey(Positive),
  maxBulletLineRatio: Schema.optionalKey(Ratio),
  maxEllipsisLineRatio: Schema.optionalKey(Ratio),
  minAlphaWordRatio: Schema.optionalKey(Ratio),
  minStopWords: Schema.optionalKey(Count),
  stopWords: Schema.optionalKey(Schema.Array(Schema.String))
})
export type GopherQualityRuleConfig = typeof GopherQualityRuleSchema.Type

export const GopherRepetitionRuleSchema = Schema.Struct({
  rule: Schema.Literal("gopher_repetition"),
  maxDuplicateLineRatio: Schema.optionalKey(Ratio),
  maxDuplicateParagraphRatio: Schema.optionalKey(Ratio),
  maxDuplicateLineCharRatio: Schema.optionalKey(Ratio),
  maxDuplicateParagraphCharRatio: Schema.optionalKey(Ratio),
  topNgrams: Schema.optionalKey(Schema.Array(NgramThresholdSchema)),
  duplicateNgrams: Schema.optionalKey(Schema.Array(NgramThresholdSchema))
})
export type GopherRepetitionRuleConfig = typeof GopherRepetitionRuleSchema.Type

export const C4RuleSchema = Schema.Struct({
  rule: Schema.Literal("c4"),
  requireTerminalPunctuation: Schema.optionalKey(Schema.Boolean),
  minWordsPerLine: Schema.optionalKey(Count),
  minSentences: Schema.optionalKey(Count),
  maxWordLength: Schema.optionalKey(Count),
  removeCitations: Schema.optionalKey(Schema.Boolean),
  dropJavascriptLines: Schema.optionalKey(Schema.Boolean),
  dropPolicyLines: Schema.optionalKey(Schema.Boolean),
  dropLoremIpsum: Schema.optionalKey(Schema.Boolean),
  dropCurlyBraces: Schema.optionalKey(Schema.Boolean),
  badWords: Schema.optionalKey(Schema.Array(Schema.String))
})
export type C4RuleConfig = typeof C4RuleSchema.Type

export const FineWebRuleSchema = Schema.Struct({
  rule: Schema.Literal("fineweb"),
  minLinePunctuationRatio: Schema.optionalKey(Ratio),
  allowNoPunctuation: Schema.optionalKey(Schema.Boolean),
  maxShortLineRatio: Schema.optionalKey(Ratio),
  shortLineLength: Schema.optionalKey(Count),
  maxDuplicateLineCharRatio: Schema.optionalKey(Ratio),
  maxNewlineWordRatio: Schema.optionalKey(Positive)
})
export type FineWebRuleConfig = typeof FineWebRuleSchema.Type

export const LengthRuleSchema = Schema.Struct({
  rule: Schema.Literal("length"),
  minChars: Schema.optionalKey(Count),
  maxChars: Schema.optionalKey(Count),
  minWords: Schema.optionalKey(Count),
  maxWords: Schema.optionalKey(Count)
})
export type LengthRuleConfig = typeof LengthRuleSchema.Type

/** Languages the built-in detector can return. `other` is text it cannot place. */
export const LanguageCodeSchema = Schema.Literals(["en", "de", "es", "fr", "it", "nl", "pt", "code", "other"])
export type LanguageCode = typeof LanguageCodeSchema.Type

export const LanguageRuleSchema = Schema.Struct({
  rule: Schema.Literal("language"),
  /** Languages to keep. */
  languages: Schema.optionalKey(Schema.Array(LanguageCodeSchema)),
  /** Minimum detector confidence in [0, 1] for a kept document. */
  minConfidence: Schema.optionalKey(Ratio)
})
export type LanguageRuleConfig = typeof LanguageRuleSchema.Type

/** One entry of a `filter` node's `rules` array. */
export const FilterRuleSchema = Schema.Union([
  GopherQualityRuleSchema,
  GopherRepetitionRuleSchema,
  C4RuleSchema,
  FineWebRuleSchema,
  LengthRuleSchema,
  LanguageRuleSchema
])
export type FilterRuleConfig = typeof FilterRuleSchema.Type

export const FilterRulesSchema = Schema.Array(FilterRuleSchema)

/** Rule names a `filter` node may use, in the order of `FilterRuleSchema`. */
export const FILTER_RULE_NAMES = ["gopher_quality", "gopher_repetition", "c4", "fineweb", "length", "language"] as const
export type FilterRuleName = typeof FILTER_RULE_NAMES[number]
