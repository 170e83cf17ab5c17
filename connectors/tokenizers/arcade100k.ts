/**
 * The Arcade100k layout (Stability AI, StableLM 2), rebuilt from cl100k_base.
 *
 * Arcade100k extends OpenAI's cl100k_base: the pre-tokenizer splits numbers into
 * single digits (`\p{N}` where cl100k allows `\p{N}{1,3}`), and 32 special tokens
 * start at id 100257, with `<|endoftext|>` = 100257 serving as both BOS and EOS.
 *
 * NOTE: two parts of the real tokenizer are not available offline, so this is a
 * compatible variant, not a byte-exact copy. The merges Arcade100k adds beyond
 * cl100k are missing, so encodings use only cl100k ranks and are longer on text those
 * merges cover. Apart from `<|endoftext|>`, the FIM tokens and the chat tokens, the
 * names and ids of the other special tokens are placeholders
 * (`<|reserved_special_token_N|>`), and the ids assigned to the named tokens other
 * than the four cl100k defines are this module's choice.
 */

/** cl100k's pattern with `\p{N}{1,3}` replaced by `\p{N}`, so every digit is its own piece. */
export const ARCADE100K_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

export const ARCADE100K_FIRST_SPECIAL_ID = 100257
export const ARCADE100K_SPECIAL_TOKEN_COUNT = 32
export const ARCADE100K_VOCAB_SIZE = ARCADE100K_FIRST_SPECIAL_ID + ARCADE100K_SPECIAL_TOKEN_COUNT

const buildSpecialTokens = (): Record<string, number> => {
  // The first four keep their cl100k ids, and `<|endofprompt|>` keeps cl100k's 100276.
  const named: Record<number, string> = {
    100257: "<|endoftext|>",
    100258: "<|fim_prefix|>",
    100259: "<|fim_middle|>",
    100260: "<|fim_suffix|>",
    100261: "<|fim_pad|>",
    100262: "<|im_start|>",
    100263: "<|im_end|>",
    100276: "<|endofprompt|>"
  }
  const tokens: Record<string, number> = {}
  let reserved = 0
  for (let id = ARCADE100K_FIRST_SPECIAL_ID; id < ARCADE100K_VOCAB_SIZE; id++) {
    const token = named[id] ?? `<|reserved_special_token_${reserved++}|>`
    tokens[token] = id
  }
  return tokens
}

/** Special token strings to ids: 32 tokens, ids 100257 to 100288. */
export const ARCADE100K_SPECIAL_TOKENS: Readonly<Record<string, number>> = buildSpecialTokens()
