/**
 * Gopher quality and repetition rules (Rae et al. 2021, "Scaling Language Models:
 * Methods, Analysis & Insights from Training Gopher", Appendix A.1.1).
 *
 * The computations follow datatrove's `GopherQualityFilter` and
 * `GopherRepetitionFilter`, the reference implementation used for FineWeb, except
 * where a comment says otherwise. Thresholds and their sources are in `docs/filters.md`.
 */
import type { GopherQualityRuleConfig, GopherRepetitionRuleConfig, NgramThreshold } from "./schema.ts"
import type { FilterRule } from "./rule.ts"
import { countDuplicates, countOccurrences, hasLetter, isWordToken, splitTokens } from "./text.ts"

export const GOPHER_STOP_WORDS: ReadonlyArray<string> = ["the", "be", "to", "of", "and", "that", "have", "with"]

export const GOPHER_QUALITY_DEFAULTS = {
  minWords: 50,
  maxWords: 100_000,
  minMeanWordLength: 3,
  maxMeanWordLength: 10,
  maxSymbolWordRatio: 0.1,
  maxBulletLineRatio: 0.9,
  maxEllipsisLineRatio: 0.3,
  minAlphaWordRatio: 0.8,
  minStopWords: 2,
  stopWords: GOPHER_STOP_WORDS
} as const

export const GOPHER_REPETITION_DEFAULTS = {
  maxDuplicateLineRatio: 0.3,
  maxDuplicateParagraphRatio: 0.3,
  maxDuplicateLineCharRatio: 0.2,
  maxDuplicateParagraphCharRatio: 0.2,
  topNgrams: [
    { n: 2, maxCharRatio: 0.2 },
    { n: 3, maxCharRatio: 0.18 },
    { n: 4, maxCharRatio: 0.16 }
  ] as ReadonlyArray<NgramThreshold>,
  duplicateNgrams: [
    { n: 5, maxCharRatio: 0.15 },
    { n: 6, maxCharRatio: 0.14 },
    { n: 7, maxCharRatio: 0.13 },
    { n: 8, maxCharRatio: 0.12 },
    { n: 9, maxCharRatio: 0.11 },
    { n: 10, maxCharRatio: 0.1 }
  ] as ReadonlyArray<NgramThreshold>
}

const BULLETS = ["•", "-"]
const startsWithBullet = (line: string): boolean => {
  const trimmed = line.trimStart()
  return BULLETS.some((bullet) => trimmed.startsWith(bullet))
}
const endsWithEllipsis = (line: string): boolean => {
  const trimmed = line.trimEnd()
  return trimmed.endsWith("...") || trimmed.endsWith("…")
}

/** Builds the Gopher quality rule; reasons are `gopher_quality.<check>`. */
export const makeGopherQualityRule = (config: Omit<GopherQualityRuleConfig, "rule"> = {}): FilterRule => {
  const options = { ...GOPHER_QUALITY_DEFAULTS, ...config }
  const stopWords = new Set(options.stopWords.map((word) => word.toLowerCase()))
  const check = (text: string): string | undefined => {
    const tokens = splitTokens(text)
    let wordCount = 0
    let wordChars = 0
    let alphaTokens = 0
    let stopWordCount = 0
    for (const token of tokens) {
      if (hasLetter(token)) alphaTokens++
      if (!isWordToken(token)) continue
      wordCount++
      wordChars += token.length
      if (stopWords.has(token.toLowerCase())) stopWordCount++
    }
    if (wordCount < options.minWords) return "gopher_quality.word_count"
    if (wordCount > options.maxWords) return "gopher_quality.word_count"
    const meanWordLength = wordChars / wordCount
    if (meanWordLength < options.minMeanWordLength || meanWordLength > options.maxMeanWordLength) {
      return "gopher_quality.mean_word_length"
    }
    const tokenCount = tokens.length
    if (countOccurrences(text, "#") / tokenCount > options.maxSymbolWordRatio) return "gopher_quality.hash_ratio"
    const ellipses = countOccurrences(text, "...") + countOccurrences(text, "…")
    if (ellipses / tokenCount > options.maxSymbolWordRatio) return "gopher_quality.ellipsis_ratio"
    const lines = text.split(/\r?\n/)
    let bulletLines = 0
    let ellipsisLines = 0
    for (const line of lines) {
      if (startsWithBullet(line)) bulletLines++
      if (endsWithEllipsis(line)) ellipsisLines++
    }
    if (bulletLines / lines.length > options.maxBulletLineRatio) return "gopher_quality.bullet_lines"
    if (ellipsisLines / lines.length > options.maxEllipsisLineRatio) return "gopher_quality.ellipsis_lines"
    if (alphaTokens / tokenCount < options.minAlphaWordRatio) return "gopher_quality.alpha_words"
    if (stopWordCount < options.minStopWords) return "gopher_quality.stop_words"
    return undefined
  }
  return { name: "gopher_quality", check }
}

// Two 32-bit hashes of an id sequence, packed into one 53-bit Map key. Two different
// n-grams share a key with probability about 2^-53 per pair, far below any ratio
// threshold's resolution.
const ngramKey = (ids: Int32Array, start: number, n: number): number => {
  let h1 = 0x9e3779b9
  let h2 = 0x85ebca6b
  for (let i = start; i < start + n; i++) {
    h1 = Math.imul(h1 ^ ids[i], 0x01000193)
    h1 ^= h1 >>> 15
    h2 = Math.imul(h2 + ids[i], 0xcc9e2d51)
    h2 ^= h2 >>> 13
  }
  return (h1 >>> 0) * 0x200000 + (h2 >>> 11)
}

/** Characters covered by the most frequent n-gram, counting the spaces between its words. */
const topNgramChars = (ids: Int32Array, lengths: Int32Array, n: number): number => {
  const counts = new Map<number, number>()
  let bestCount = 0
  let bestStart = -1
  for (let start = 0; start + n <= ids.length; start++) {
    const key = ngramKey(ids, start, n)
    const count = (counts.get(key) ?? 0) + 1
    counts.set(key, count)
    if (count > bestCount) {
      bestCount = count
      bestStart = start
    }
  }
  if (bestStart < 0) return 0
  let chars = n - 1
  for (let i = bestStart; i < bestStart + n; i++) chars += lengths[i]
  return chars * bestCount
}

/**
 * Characters in n-grams that repeat an earlier n-gram. After a repeat the scan jumps
 * past it, so overlapping repeats are counted once.
 */
const duplicateNgramChars = (ids: Int32Array, lengths: Int32Array, n: number): number => {
  const seen = new Set<number>()
  let chars = 0
  let start = 0
  while (start + n <= ids.length) {
    const key = ngramKey(ids, start, n)
    if (seen.has(key)) {
      for (let i = start; i < start + n; i++) chars += lengths[i]
      start += n
    } else {
      seen.add(key)
      start++
    }
  }
  return chars
}

/** Builds the Gopher repetition rule; reasons are `gopher_repetition.<check>`. */
export const makeGopherRepetitionRule = (config: Omit<GopherRepetitionRuleConfig, "rule"> = {}): FilterRule => {
  const options = { ...GOPHER_REPETITION_DEFAULTS, ...config }
  const check = (text: string): string | undefined => {
    const totalChars = text.length
    if (totalChars === 0) return undefined

    const paragraphs = text.trim().split(/\n{2,}/)
    const duplicateParagraphs = countDuplicates(paragraphs)
    if (duplicateParagraphs.count / paragraphs.length > options.maxDuplicateParagraphRatio) {
      return "gopher_repetition.duplicate_paragraphs"
    }
    if (duplicateParagraphs.chars / totalChars > options.maxDuplicateParagraphCharRatio) {
      return "gopher_repetition.duplicate_paragraph_chars"
    }

    const lines = text.split(/\n+/)
    const duplicateLines = countDuplicates(lines)
    if (duplicateLines.count / lines.length > options.maxDuplicateLineRatio) return "gopher_repetition.duplicate_lines"
    if (duplicateLines.chars / totalChars > options.maxDuplicateLineCharRatio) {
      return "gopher_repetition.duplicate_line_chars"
    }

    // Words become integer ids once, so n-gram keys hash ids instead of joined strings.
    const words = splitTokens(text).filter(isWordToken)
    const vocabulary = new Map<string, number>()
    const ids = new Int32Array(words.length)
    const lengths = new Int32Array(words.length)
    for (let i = 0; i < words.length; i++) {
      let id = vocabulary.get(words[i])
      if (id === undefined) {
        id = vocabulary.size
        vocabulary.set(words[i], id)
      }
      ids[i] = id
      lengths[i] = words[i].length
    }
    for (const { n, maxCharRatio } of options.topNgrams) {
      if (topNgramChars(ids, lengths, n) / totalChars > maxCharRatio) return `gopher_repetition.top_${n}_gram`
    }
    for (const { n, maxCharRatio } of options.duplicateNgrams) {
      if (duplicateNgramChars(ids, lengths, n) / totalChars > maxCharRatio) {
        return `gopher_repetition.duplicate_${n}_grams`
      }
    }
    return undefined
  }
  return { name: "gopher_repetition", check }
}
