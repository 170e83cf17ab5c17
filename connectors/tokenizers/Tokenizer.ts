/**
 * Named BPE tokenizers for the `tokenize` operator.
 *
 * Both tokenizers run on the WASM build of `tiktoken` (the Rust core of OpenAI's
 * tokenizer compiled to WebAssembly), which encoded 2.6x faster than the pure
 * JavaScript `js-tiktoken` on the same documents (`bench/tokenize.ts`, results in
 * `bench/RESULTS-ops.md`).
 * Encoders are built once per process and shared, because loading the 100k-entry
 * rank table takes about 0.2 s.
 *
 * - `cl100k_base`: OpenAI's GPT-4 encoding, unchanged.
 * - `arcade100k`: Stability AI's Arcade100k layout, built from the cl100k ranks with
 *   a pre-tokenizer that splits every digit into its own piece and 32 special tokens
 *   from id 100257. See `arcade100k.ts` for what is and is not reproduced.
 */
import { createRequire } from "node:module"
import { Schema } from "effect"
import { ARCADE100K_PATTERN, ARCADE100K_SPECIAL_TOKENS, ARCADE100K_VOCAB_SIZE } from "./arcade100k.ts"

/** Tokenizer names a recipe may use. */
export const TokenizerName = Schema.Literals(["cl100k_base", "arcade100k"])
export type TokenizerName = typeof TokenizerName.Type

export const TOKENIZER_NAMES: ReadonlyArray<TokenizerName> = ["cl100k_base", "arcade100k"]

export class TokenizerError extends Schema.TaggedError<TokenizerError>()("TokenizerError", {
  reason: Schema.Literals(["UnknownTokenizer", "InvalidTokenId", "InvalidInput"]),
  tokenizer: Schema.String,
  description: Schema.String
}) {
  override get message(): string {
    return `TokenizerError: ${this.tokenizer}: ${this.description}`
  }
}

/** A loaded tokenizer. Encoding never produces special tokens from plain text. */
export interface Tokenizer {
  readonly name: TokenizerName
  /** End-of-document id, appended after each document when the operator's `appendEos` is set. */
  readonly eosId: number
  /** One more than the largest id. Some ids below it are unassigned (cl100k_base: 100256, 100261 to 100275). */
  readonly vocabSize: number
  /** Special token strings to ids. */
  readonly specialTokens: Readonly<Record<string, number>>
  /**
   * Encodes text as ordinary text: `<|endoftext|>` in the input becomes the ids of its
   * characters. Runs of 1,000 or more letters, punctuation marks or spaces are encoded
   * in segments (see `encodeLongRuns`).
   */
  readonly encode: (text: string) => Uint32Array
  /**
   * Encodes text and writes `eosId` after the last token, in one allocation.
   */
  readonly encodeWithEos: (text: string) => Uint32Array
  /** Decodes ids to text; special token ids decode to their names. Invalid UTF-8 becomes U+FFFD. */
  readonly decode: (ids: ArrayLike<number>) => string
}

interface WasmTiktoken {
  encode_ordinary(text: string): Uint32Array
  decode(tokens: Uint32Array): Uint8Array
}

interface WasmTiktokenConstructor {
  new (ranks: string, special: Record<string, number>, pattern: string): WasmTiktoken
}

interface EncodingFile {
  readonly pat_str: string
  readonly special_tokens: Record<string, number>
  readonly bpe_ranks: string
}

// `tiktoken` ships CommonJS for Node; createRequire loads it and its JSON rank file
// without a bundler.
const require = createRequire(import.meta.url)

let cl100kFile: EncodingFile | undefined
const loadCl100kFile = (): EncodingFile => {
  cl100kFile ??= require("tiktoken/encoders/cl100k_base.json") as EncodingFile
  return cl100kFile
}

// cl100k_base has byte-pair ranks 0 to 100255; id 100256 is unassigned, and its
// special tokens use 100257 to 100260 and 100276.
const CL100K_RANK_COUNT = 100256
const CL100K_VOCAB_SIZE = 100277

// ignoreBOM keeps a leading U+FEFF, which the default decoder would silently drop.
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true })

const makeTokenizer = (
  name: TokenizerName,
  pattern: string,
  specialTokens: Record<string, number>,
  vocabSize: number
): Tokenizer => {
  const { Tiktoken } = require("tiktoken/lite") as { Tiktoken: WasmTiktokenConstructor }
  const core = new Tiktoken(loadCl100kFile().bpe_ranks, specialTokens, pattern)
  const eosId = specialTokens["<|endoftext|>"]
  const specialIds = new Set(Object.values(specialTokens))
  const encode = (text: string): Uint32Array =>
    mayHaveLongRun(text) && LONG_RUN.test(text) ? encodeLongRuns(core, text) : core.encode_ordinary(text)
  const encodeWithEos = (text: string): Uint32Array => {
    const ids = encode(text)
    const out = new Uint32Array(ids.length + 1)
    out.set(ids)
    out[ids.length] = eosId
    return out
  }
  const decode = (ids: ArrayLike<number>): string => {
    const array = ids instanceof Uint32Array ? ids : Uint32Array.from(ids)
    // The WASM core aborts ("unreachable") on an unassigned id, so ids are checked first.
    for (let i = 0; i < array.length; i++) {
      const id = array[i]
      if (id >= CL100K_RANK_COUNT && !specialIds.has(id)) {
        throw new TokenizerError({
          reason: "InvalidTokenId",
          tokenizer: name,
          description: `token id ${id} at position ${i} is not in the vocabulary (ranks 0 to ${CL100K_RANK_COUNT - 1} and special ids ${[...specialIds].sort((a, b) => a - b).join(", ")}); check that the ids were produced by ${name}`
        })
      }
    }
    return utf8Decoder.decode(core.decode(array))
  }
  return { name, eosId, vocabSize, specialTokens, encode, encodeWithEos, decode }
}

// Byte-pair merging inside one pre-tokenizer piece takes time quadratic in the
// piece's length: one run of 100,000 "[" took 16 s. Runs of letters, of punctuation
// or of whitespace at least this long are therefore encoded in segments.
const LONG_RUN_CHARS = 1000
const SEGMENT_CHARS = 500
const LONG_RUN = /\p{L}{1000,}|[^\s\p{L}\p{N}]{1000,}|\s{1000,}/u
const LONG_RUNS = new RegExp(LONG_RUN.source, "gu")

/**
 * Returns true when `text` may contain a run that `LONG_RUN` matches: 1,000 ASCII
 * whitespace characters in a row, or 1,000 code units in a row that are neither
 * ASCII whitespace nor ASCII digits. This is a superset of the letter and punctuation
 * runs, and a plain loop, because the Unicode regular expression takes about 0.2 s
 * per MB of ordinary text.
 *
 * NOTE: a whitespace run that alternates ASCII and non-ASCII spaces is not detected,
 * and is encoded in one piece.
 */
const mayHaveLongRun = (text: string): boolean => {
  if (text.length < LONG_RUN_CHARS) return false
  let spaces = 0
  let others = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit <= 0x20) {
      others = 0
      if (++spaces >= LONG_RUN_CHARS) return true
    } else if (unit >= 0x30 && unit <= 0x39) {
      spaces = 0
      others = 0
    } else {
      spaces = 0
      if (++others >= LONG_RUN_CHARS) return true
    }
  }
  return false
}

/**
 * Encodes text whose long runs are cut into segments of about 500 characters, each
 * encoded on its own.
 *
 * NOTE: ids differ from plain tiktoken only inside such runs, where no merge crosses a
 * segment boundary and the character before a run starts its own piece. Decoding
 * still returns the exact text.
 */
const encodeLongRuns = (core: WasmTiktoken, text: string): Uint32Array => {
  const parts: Array<Uint32Array> = []
  let position = 0
  for (const match of text.matchAll(LONG_RUNS)) {
    const start = match.index
    if (start > position) parts.push(core.encode_ordinary(text.slice(position, start)))
    const end = start + match[0].length
    let segmentStart = start
    while (segmentStart < end) {
      let segmentEnd = Math.min(end, segmentStart + SEGMENT_CHARS)
      // Keep surrogate pairs whole, so no segment contains half a character.
      const last = text.charCodeAt(segmentEnd - 1)
      if (segmentEnd < end && last >= 0xd800 && last <= 0xdbff) segmentEnd++
      parts.push(core.encode_ordinary(text.slice(segmentStart, segmentEnd)))
      segmentStart = segmentEnd
    }
    position = end
  }
  if (position < text.length) parts.push(core.encode_ordinary(text.slice(position)))
  let length = 0
  for (const part of parts) length += part.length
  const ids = new Uint32Array(length)
  let offset = 0
  for (const part of parts) {
    ids.set(part, offset)
    offset += part.length
  }
  return ids
}

const cache = new Map<TokenizerName, Tokenizer>()

/**
 * Returns the shared tokenizer for `name`, building it on first use.
 *
 * @throws TokenizerError with reason `UnknownTokenizer` for a name not in `TOKENIZER_NAMES`.
 */
export const getTokenizer = (name: string): Tokenizer => {
  if (name !== "cl100k_base" && name !== "arcade100k") {
    throw new TokenizerError({
      reason: "UnknownTokenizer",
      tokenizer: name,
      description: `unknown tokenizer; expected one of ${TOKENIZER_NAMES.join(", ")}`
    })
  }
  const cached = cache.get(name)
  if (cached !== undefined) return cached
  const file = loadCl100kFile()
  const tokenizer = name === "cl100k_base"
    ? makeTokenizer(name, file.pat_str, { ...file.special_tokens }, CL100K_VOCAB_SIZE)
    : makeTokenizer(name, ARCADE100K_PATTERN, { ...ARCADE100K_SPECIAL_TOKENS }, ARCADE100K_VOCAB_SIZE)
  cache.set(name, tokenizer)
  return tokenizer
}
