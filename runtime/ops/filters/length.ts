/** Document length bounds in characters (UTF-16 code units) and words. */
import type { LengthRuleConfig } from "./schema.ts"
import type { FilterRule } from "./rule.ts"
import { splitWords } from "./text.ts"

/** Builds the length rule; reasons are `length.min_chars`, `length.max_chars`, `length.min_words`, `length.max_words`. */
export const makeLengthRule = (config: Omit<LengthRuleConfig, "rule"> = {}): FilterRule => {
  const countWords = config.minWords !== undefined || config.maxWords !== undefined
  const check = (text: string): string | undefined => {
    if (config.minChars !== undefined && text.length < config.minChars) return "length.min_chars"
    if (config.maxChars !== undefined && text.length > config.maxChars) return "length.max_chars"
    if (!countWords) return undefined
    const words = splitWords(text).length
    if (config.minWords !== undefined && words < config.minWords) return "length.min_words"
    if (config.maxWords !== undefined && words > config.maxWords) return "length.max_words"
    return undefined
  }
  return { name: "length", check }
}
