/**
 * FineWeb's own quality rules (Penedo et al. 2024, "The FineWeb Datasets"), computed
 * as datatrove's `FineWebQualityFilter` computes them, including its comparisons:
 * a ratio equal to a `max*`/`min*` threshold fails all checks except the list check.
 */
import type { FineWebRuleConfig } from "./schema.ts"
import type { FilterRule } from "./rule.ts"
import { countDuplicates, splitTokens } from "./text.ts"

export const FINEWEB_DEFAULTS = {
  minLinePunctuationRatio: 0.12,
  allowNoPunctuation: false,
  maxShortLineRatio: 0.67,
  shortLineLength: 30,
  maxDuplicateLineCharRatio: 0.01,
  maxNewlineWordRatio: 0.3
}

const STOP_CHARS = [".", "'", "\"", "!", "?"]

/** Builds the FineWeb rule; reasons are `fineweb.<check>`. */
export const makeFineWebRule = (config: Omit<FineWebRuleConfig, "rule"> = {}): FilterRule => {
  const options = { ...FINEWEB_DEFAULTS, ...config }
  const check = (text: string): string | undefined => {
    // Blank lines count in the first two ratios, as in datatrove.
    const lines = text.split("\n")
    let punctuated = 0
    let short = 0
    for (const line of lines) {
      if (STOP_CHARS.some((mark) => line.endsWith(mark))) punctuated++
      if (line.length <= options.shortLineLength) short++
    }
    const punctuationRatio = punctuated / lines.length
    if (punctuationRatio <= options.minLinePunctuationRatio && !(punctuationRatio === 0 && options.allowNoPunctuation)) {
      return "fineweb.line_punctuation"
    }
    if (short / lines.length >= options.maxShortLineRatio) return "fineweb.short_lines"

    const newlines = lines.length - 1
    const charsWithoutNewlines = text.length - newlines
    const nonEmptyLines = lines.filter((line) => line.trim() !== "")
    if (countDuplicates(nonEmptyLines).chars / charsWithoutNewlines >= options.maxDuplicateLineCharRatio) {
      return "fineweb.duplicate_line_chars"
    }

    const words = splitTokens(text).length
    if (words === 0 || newlines / words > options.maxNewlineWordRatio) return "fineweb.list_like"
    return undefined
  }
  return { name: "fineweb", check }
}
