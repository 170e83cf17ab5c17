/**
 * Text splitting shared by the quality rules.
 *
 * A word is a maximal run of letters, marks, digits and connector characters
 * (apostrophe, hyphen, underscore) between them, as in "don't" or "well-known".
 * Punctuation and symbols form their own tokens ("...", "#", "--"), which is how the
 * word tokenizers used by Gopher and datatrove treat them, so "word." counts one
 * word and one symbol token.
 */

const TOKEN_PATTERN = /[\p{L}\p{M}\p{N}]+(?:['’\-_][\p{L}\p{M}\p{N}]+)*|[^\s\p{L}\p{M}\p{N}]+/gu
const WORD_START = /[\p{L}\p{M}\p{N}]/u
const LETTER = /\p{L}/u

/** Splits text into word and symbol tokens in order. */
export const splitTokens = (text: string): Array<string> => text.match(TOKEN_PATTERN) ?? []

/** True when a token from `splitTokens` is a word rather than punctuation or symbols. */
export const isWordToken = (token: string): boolean => WORD_START.test(token[0])

/** Splits text into words only, dropping punctuation and symbol tokens. */
export const splitWords = (text: string): Array<string> => splitTokens(text).filter(isWordToken)

/** True when the string contains at least one letter in any script. */
export const hasLetter = (token: string): boolean => LETTER.test(token)

/** Counts non-overlapping occurrences of `needle`. */
export const countOccurrences = (text: string, needle: string): number => {
  let count = 0
  let from = text.indexOf(needle)
  while (from !== -1) {
    count++
    from = text.indexOf(needle, from + needle.length)
  }
  return count
}

/**
 * Counts repeated elements after their first occurrence, and their total length.
 */
export const countDuplicates = (elements: ReadonlyArray<string>): { readonly count: number; readonly chars: number } => {
  const seen = new Set<string>()
  let count = 0
  let chars = 0
  for (const element of elements) {
    if (seen.has(element)) {
      count++
      chars += element.length
    } else {
      seen.add(element)
    }
  }
  return { count, chars }
}
