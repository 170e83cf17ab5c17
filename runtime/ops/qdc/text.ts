/**
 * Tokens and n-grams for QDC metrics.
 *
 * The default tokenizer splits on whitespace and keeps case and punctuation attached, so
 * "Try" and "try," are different tokens. A caller may pass its own tokenizer, such as a
 * BPE encoder returning ids; ids are compared as numbers.
 */

/** Splits text into tokens: strings, or token ids from a BPE tokenizer. */
export type Tokenizer = (text: string) => ReadonlyArray<string | number> | Uint32Array

export const whitespaceTokenizer: Tokenizer = (text) => text.split(/\s+/).filter((t) => t.length > 0)

/** Lists the n-grams of a token sequence as strings joined by U+0001. */
export const ngrams = (tokens: ArrayLike<string | number>, n: number): Array<string> => {
  const out: Array<string> = []
  for (let i = 0; i + n <= tokens.length; i++) {
    let gram = String(tokens[i])
    for (let k = 1; k < n; k++) gram += "\u0001" + String(tokens[i + k])
    out.push(gram)
  }
  return out
}

/** Non-empty lines of a text; one line of a search trace is one step. */
export const nonEmptyLines = (text: string): Array<string> => text.split("\n").filter((line) => line.trim().length > 0)
