/**
 * Text normalisation for deduplication.
 *
 * Two documents are exact duplicates when their normalised forms are equal. The
 * normal form is: Unicode NFKC (so full-width letters, ligatures and compatibility
 * characters fold to their plain forms), lowercase, every Unicode punctuation
 * character (`\p{P}`) removed, every run of whitespace replaced by one space, and no
 * leading or trailing space. Symbols (`\p{S}`: `$`, `+`, emoji) and digits are kept.
 * So "Hello,  World!" and "hello world" are duplicates, and "don't" equals "dont".
 *
 * ASCII text takes a table-driven path with no intermediate strings; other text is
 * first passed through `String.prototype.normalize("NFKC")` and `toLowerCase()`.
 */

const KEEP = 1
const SPACE = 2
const DROP = 3

// Classification of each UTF-16 code unit, filled lazily for non-ASCII units.
const classes = new Uint8Array(65536)
const PUNCTUATION = /\p{P}/u
const WHITESPACE = /\s/u
const classify = (unit: number): number => {
  const cached = classes[unit]
  if (cached !== 0) return cached
  // Surrogate halves are kept: astral characters (emoji, rare scripts) stay as they are.
  const char = String.fromCharCode(unit)
  const found = unit >= 0xd800 && unit <= 0xdfff ? KEEP : WHITESPACE.test(char) ? SPACE : PUNCTUATION.test(char) ? DROP : KEEP
  classes[unit] = found
  return found
}
for (let unit = 0; unit < 128; unit++) classify(unit)

const NON_ASCII = /[^\x00-\x7f]/

let buffer = new Uint16Array(1 << 16)

/**
 * Writes the normal form of `text` as UTF-16 code units into a shared buffer and
 * returns the buffer and the number of units written. The buffer is reused by the
 * next call, so callers must consume it first.
 */
export const normalizeIntoBuffer = (text: string): { readonly units: Uint16Array; readonly length: number } => {
  const source = NON_ASCII.test(text) ? text.normalize("NFKC").toLowerCase() : text
  if (buffer.length < source.length) buffer = new Uint16Array(Math.max(source.length, buffer.length * 2))
  const units = buffer
  let length = 0
  let pendingSpace = false
  for (let i = 0; i < source.length; i++) {
    let unit = source.charCodeAt(i)
    const kind = classify(unit)
    if (kind === DROP) continue
    if (kind === SPACE) {
      pendingSpace = length > 0
      continue
    }
    if (pendingSpace) {
      units[length++] = 0x20
      pendingSpace = false
    }
    // ASCII uppercase to lowercase; non-ASCII text was lowercased above.
    if (unit >= 0x41 && unit <= 0x5a) unit += 0x20
    units[length++] = unit
  }
  return { units, length }
}

/** Returns the normal form of `text` as a string (for inspection and tests). */
export const normalizeForDedup = (text: string): string => {
  const { units, length } = normalizeIntoBuffer(text)
  let out = ""
  for (let start = 0; start < length; start += 8192) {
    out += String.fromCharCode(...units.subarray(start, Math.min(length, start + 8192)))
  }
  return out
}
