/**
 * Parsers for the unit-bearing numbers recipes use: token counts and byte sizes.
 */

const TOKEN_SUFFIX: Record<string, number> = { "": 1, k: 1e3, K: 1e3, M: 1e6, B: 1e9, G: 1e9, T: 1e12 }

/**
 * Parses `"2T"`, `"300B"`, `"1.5M"`, `"40k"` or `"2e12"` (an optional `tokens` word may
 * follow) into a token count. Returns `undefined` for anything else.
 */
export const parseTokenCount = (text: string): number | undefined => {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?(?:e[0-9]+)?)\s*([kKMBGT]?)\s*(?:tokens?)?\s*$/.exec(text)
  if (match === null) return undefined
  const value = Number(match[1]) * TOKEN_SUFFIX[match[2]!]!
  return Number.isFinite(value) && value > 0 ? value : undefined
}

const BYTE_UNIT: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  pb: 1e15,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  pib: 2 ** 50
}

/** Parses `"1.5 GiB"`, `"800 MB"` or `"42 B"` into bytes (SI and IEC units). */
export const parseByteSize = (text: string): number | undefined => {
  const match = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]+)\s*$/.exec(text)
  if (match === null) return undefined
  const unit = BYTE_UNIT[match[2]!.toLowerCase()]
  if (unit === undefined) return undefined
  const value = Number(match[1]) * unit
  return Number.isFinite(value) && value > 0 ? value : undefined
}

/** A token count from a recipe value; the value was already validated by the Schema. */
export const tokensOf = (value: number | string): number =>
  typeof value === "number" ? value : parseTokenCount(value)!

export const bytesOf = (value: number | string): number =>
  typeof value === "number" ? value : parseByteSize(value)!

/** Formats a token count with a suffix: 2.000T, 1.234B, 56.7M. */
export const formatTokens = (n: number | undefined): string => {
  if (n === undefined) return "-"
  const abs = Math.abs(n)
  if (abs >= 1e12) return `${(n / 1e12).toPrecision(4)}T`
  if (abs >= 1e9) return `${(n / 1e9).toPrecision(4)}B`
  if (abs >= 1e6) return `${(n / 1e6).toPrecision(4)}M`
  if (abs >= 1e3) return `${(n / 1e3).toPrecision(4)}k`
  return String(Math.round(n))
}

export const formatBytes = (n: number | undefined): string => {
  if (n === undefined) return "-"
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}
