/**
 * C4 cleaning rules (Raffel et al. 2020, "Exploring the Limits of Transfer Learning
 * with a Unified Text-to-Text Transformer", Section 2.2).
 *
 * C4 works line by line: it keeps lines that end in terminal punctuation and have
 * enough words, drops lines about JavaScript or cookie and privacy policies, and then
 * rejects the page when too few sentences remain, when a line contains "lorem ipsum"
 * or a curly brace, or when a bad word occurs. Kept pages carry only the kept lines.
 * The details (citation removal, the policy phrases, the long-word guard) follow the
 * TensorFlow Datasets C4 code as ported to datatrove's `C4QualityFilter`.
 */
import type { C4RuleConfig } from "./schema.ts"
import type { FilterRule } from "./rule.ts"

export const C4_DEFAULTS = {
  requireTerminalPunctuation: true,
  minWordsPerLine: 3,
  minSentences: 5,
  maxWordLength: 1000,
  removeCitations: true,
  dropJavascriptLines: true,
  dropPolicyLines: true,
  dropLoremIpsum: true,
  dropCurlyBraces: true,
  badWords: [] as ReadonlyArray<string>
}

const TERMINAL_PUNCTUATION = [".", "?", "!", "\"", "'"]
const POLICY_PHRASES = ["terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies"]
const CITATION = /\[\d*\]|\[edit\]|\[citation needed\]/gi
// A sentence ends at terminal punctuation followed by optional closing quotes or
// brackets and then whitespace or the end of the line.
const SENTENCE_END = /[.!?]+["'”’)\]]*(?=\s|$)/g

const endsWithTerminalPunctuation = (line: string): boolean =>
  !line.endsWith("...") && TERMINAL_PUNCTUATION.some((mark) => line.endsWith(mark))

const countSentences = (line: string): number => Math.max(1, line.match(SENTENCE_END)?.length ?? 0)

const escapeRegExp = (word: string): string => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** Builds the C4 rule; reasons are `c4.<check>`, and kept documents lose their dropped lines. */
export const makeC4Rule = (config: Omit<C4RuleConfig, "rule"> = {}): FilterRule => {
  const options = { ...C4_DEFAULTS, ...config }
  const badWordPattern = options.badWords.length === 0
    ? undefined
    : new RegExp(`(?<![\\p{L}\\p{N}])(?:${options.badWords.map(escapeRegExp).join("|")})(?![\\p{L}\\p{N}])`, "iu")

  const apply = (text: string): { readonly reason: string } | { readonly text: string } => {
    if (badWordPattern !== undefined && badWordPattern.test(text)) return { reason: "c4.bad_words" }
    const kept: Array<string> = []
    let sentences = 0
    for (const rawLine of text.split(/\r?\n/)) {
      let line = rawLine.trim()
      if (line === "") continue
      const words = line.split(/\s+/)
      if (words.some((word) => word.length > options.maxWordLength)) continue
      if (options.removeCitations) line = line.replace(CITATION, "").trim()
      if (options.requireTerminalPunctuation && !endsWithTerminalPunctuation(line)) continue
      if (words.length < options.minWordsPerLine) continue
      const lower = line.toLowerCase()
      if (options.dropLoremIpsum && lower.includes("lorem ipsum")) return { reason: "c4.lorem_ipsum" }
      if (options.dropJavascriptLines && lower.includes("javascript")) continue
      if (options.dropCurlyBraces && line.includes("{")) return { reason: "c4.curly_brace" }
      if (options.dropPolicyLines && POLICY_PHRASES.some((phrase) => lower.includes(phrase))) continue
      sentences += countSentences(line)
      kept.push(line)
    }
    if (sentences < options.minSentences) return { reason: "c4.too_few_sentences" }
    return { text: kept.join("\n") }
  }
  const check = (text: string): string | undefined => {
    const outcome = apply(text)
    return "reason" in outcome ? outcome.reason : undefined
  }
  return { name: "c4", check, apply }
}
