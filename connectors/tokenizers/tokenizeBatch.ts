/**
 * The `tokenize` operator's per-batch work: text rows in, `{ tokens, source }` rows out.
 */
import type { Batch, Row } from "../../runtime/batch.ts"
import { getTokenizer, TokenizerError } from "./Tokenizer.ts"

export interface TokenizeOptions {
  /** A name from `TOKENIZER_NAMES`. */
  readonly tokenizer: string
  /** Column holding the text, usually `text`. */
  readonly field: string
  /** Writes the tokenizer's EOS id after every document, so packed documents stay separated. */
  readonly appendEos: boolean
}

/**
 * Builds the batch function of a `tokenize` node.
 *
 * Each output row is `{ tokens: Uint32Array, source }`, with `source` copied from the
 * input row (absent stays absent). The tokenizer is loaded when this is called, not
 * per batch.
 *
 * @throws TokenizerError `UnknownTokenizer` here, or `InvalidInput` from the returned
 *   function when a row's field is not a string.
 */
export const makeTokenizeBatch = (options: TokenizeOptions): (rows: Batch) => Array<Row> => {
  const tokenizer = getTokenizer(options.tokenizer)
  const encode = options.appendEos ? tokenizer.encodeWithEos : tokenizer.encode
  const field = options.field
  return (rows) => {
    const out = new Array<Row>(rows.length)
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]
      const text = row[field]
      if (typeof text !== "string") {
        throw new TokenizerError({
          reason: "InvalidInput",
          tokenizer: tokenizer.name,
          description: `row ${i} of the batch: field "${field}" is ${text === undefined ? "missing" : typeof text}, expected a string; map the text column with the source's fields.text`
        })
      }
      out[i] = row.source === undefined ? { tokens: encode(text) } : { tokens: encode(text), source: row.source }
    }
    return out
  }
}
