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

let lastText: string | undefined
let lastTokens: ReadonlyArray<string> = []

/**
 * Splits text into word and symbol tokens in order. The rules of one filter call this
 * on the same document one after another, so the last result is reused. Callers must
 * not modify the returned array, because later calls share it.
 */
export const splitTokens = (text: string): ReadonlyArray<string> => {
  if (text !== lastText) {
    lastTokens = text.match(TOKEN_PATTERN) ?? []
    lastText = text
  }
  return lastTokens
}

/** True for ASCII letters and digits, which start words. */
const isAsciiAlphanumeric = (code: number): boolean =>
  (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57)

/** True when a token from `splitTokens` is a word rather than punctuation or symbols. */
export const isWordToken = (token: string): boolean => {
  const code = token.charCodeAt(0)
  return code < 128 ? isAsciiAlphanumeric(code) : WORD_START.test(token[0]!)
}

/** Splits text into words only, dropping punctuation and symbol tokens. */
export const splitWords = (text: string): Array<string> => splitTokens(text).filter(isWordToken)

/** True when the string contains at least one letter in any script. */
export const hasLetter = (token: string): boolean => {
  let ascii = true
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i)
    if ((code >= 97 && code <= 122) || (code >= 65 && code <= 90)) return true
    if (code >= 128) ascii = false
  }
  return ascii ? false : LETTER.test(token)
}

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
