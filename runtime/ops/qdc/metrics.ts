/**
 * Quality, diversity and complexity (QDC) metrics of a set of rows.
 *
 * Definitions, with worked examples, are in docs/qdc.md. In short:
 * - quality: verifier pass rate over rows that have a boolean `verified` field, and a
 *   heuristic score per row (mean of three checks, each in [0, 1]).
 * - diversity: distinct-n and n-gram entropy (n = 1, 2, 3) over all tokens of the corpus,
 *   the deflate compression ratio of the concatenated texts, and the MinHash
 *   near-duplicate rate.
 * - complexity: tokens, steps (non-empty lines) and, where rows carry them, search depth,
 *   backtracks and expanded nodes.
 */
import { deflateRawSync } from "node:zlib"
import type { Row } from "../../batch.ts"
import { clusterNearDuplicates, defaultMinHashOptions, type MinHashOptions } from "./minhash.ts"
import { nonEmptyLines, ngrams, type Tokenizer, whitespaceTokenizer } from "./text.ts"

export interface QdcOptions {
  /** Text column to measure. Default `text`. */
  readonly field?: string
  readonly tokenizer?: Tokenizer
  /** Boolean column with the verifier's verdict. Default `verified`. */
  readonly verifiedField?: string
  /** Token bounds for the heuristic quality score's length check. Default 1 and 100000. */
  readonly minTokens?: number
  readonly maxTokens?: number
  /** Per-row complexity for the complexity histogram: `steps` (default), `tokens` or a numeric column. */
  readonly complexityField?: string
  readonly minhash?: Partial<MinHashOptions>
}

/** Distribution summary; `p50` and `p90` are nearest-rank percentiles. */
export interface Summary {
  readonly count: number
  readonly mean: number
  readonly min: number
  readonly p50: number
  readonly p90: number
  readonly max: number
}

/** A histogram over power-of-two buckets [0,1), [1,2), [2,4), [4,8) ..., the same for every run. */
export interface Histogram {
  readonly metric: string
  readonly buckets: ReadonlyArray<{ readonly lo: number; readonly hi: number; readonly label: string; readonly count: number }>
}

export interface QdcReport {
  readonly field: string
  readonly rows: number
  readonly quality: {
    /** Passed / rows with a boolean verdict; `null` when no row has one. */
    readonly verifierPassRate: number | null
    readonly verifiedRows: number
    readonly judgedRows: number
    readonly heuristicScore: Summary
  }
  readonly diversity: {
    readonly distinct1: number
    readonly distinct2: number
    readonly distinct3: number
    /** Shannon entropy of the n-gram distribution, in bits. */
    readonly entropy1: number
    readonly entropy2: number
    readonly entropy3: number
    /** Raw UTF-8 bytes / deflate bytes of the texts joined by newlines; higher means more redundant. */
    readonly compressionRatio: number
    /** (rows - clusters) / rows. */
    readonly nearDuplicateRate: number
    readonly clusters: number
  }
  readonly complexity: {
    readonly tokens: Summary
    readonly steps: Summary
    /** Present when rows carry the numeric column of the same name. */
    readonly depth: Summary | null
    readonly backtracks: Summary | null
    readonly nodesExpanded: Summary | null
  }
  readonly histograms: {
    readonly length: Histogram
    readonly complexity: Histogram
  }
}

/** Per-row measurements that filters and selection use. */
export interface RowQdcMetrics {
  readonly tokens: number
  readonly steps: number
  readonly quality: number
  readonly verified: number | null
  readonly depth: number | null
  readonly backtracks: number | null
  readonly nodesExpanded: number | null
}

export const rowText = (row: Row, field: string): string => {
  const value = row[field]
  if (typeof value === "string") return value
  if (value === undefined || value === null) return ""
  return String(value)
}

const numericField = (row: Row, name: string): number | null => {
  const value = row[name]
  return typeof value === "number" && Number.isFinite(value) ? value : null
}

/**
 * Computes the heuristic quality score of one text: the mean of three checks in [0, 1].
 * 1. Length: 1 when the token count is within [minTokens, maxTokens], else 0.
 * 2. Line uniqueness: distinct non-empty lines / non-empty lines, 1 with no lines.
 * 3. Clean characters: the share of characters that are neither control characters (tab,
 *    newline and carriage return excepted) nor U+FFFD, 0 for empty text.
 */
export const heuristicQuality = (text: string, tokenCount: number, minTokens: number, maxTokens: number): number => {
  const lengthOk = tokenCount >= minTokens && tokenCount <= maxTokens ? 1 : 0
  const lines = nonEmptyLines(text)
  const lineUniqueness = lines.length === 0 ? 1 : new Set(lines.map((l) => l.trim())).size / lines.length
  let clean = 0
  let total = 0
  for (const ch of text) {
    total++
    const code = ch.codePointAt(0)!
    const control = (code < 32 && code !== 9 && code !== 10 && code !== 13) || code === 127
    if (!control && code !== 0xfffd) clean++
  }
  const printable = total === 0 ? 0 : clean / total
  return (lengthOk + lineUniqueness + printable) / 3
}

export const rowQdcMetrics = (row: Row, options: QdcOptions = {}): RowQdcMetrics => {
  const field = options.field ?? "text"
  const text = rowText(row, field)
  const tokens = (options.tokenizer ?? whitespaceTokenizer)(text).length
  const verdict = row[options.verifiedField ?? "verified"]
  let verified: number | null = null
  if (typeof verdict === "boolean") verified = verdict ? 1 : 0
  return {
    tokens,
    steps: nonEmptyLines(text).length,
    quality: heuristicQuality(text, tokens, options.minTokens ?? 1, options.maxTokens ?? 100_000),
    verified,
    depth: numericField(row, "depth"),
    backtracks: numericField(row, "backtracks"),
    nodesExpanded: numericField(row, "nodesExpanded")
  }
}

/** Summarizes values; an empty list gives zeros with `count` 0. */
export const summarize = (values: ReadonlyArray<number>): Summary => {
  if (values.length === 0) return { count: 0, mean: 0, min: 0, p50: 0, p90: 0, max: 0 }
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]
  return {
    count: sorted.length,
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    min: sorted[0],
    p50: rank(0.5),
    p90: rank(0.9),
    max: sorted[sorted.length - 1]
  }
}

/** The power-of-two bucket index of a value: 0 for [0,1), k for [2^(k-1), 2^k). */
export const log2Bucket = (value: number): number => (value < 1 ? 0 : Math.floor(Math.log2(value)) + 1)

const bucketBounds = (index: number): readonly [number, number] => (index === 0 ? [0, 1] : [2 ** (index - 1), 2 ** index])

/** Label of a power-of-two bucket: `0`, `1`, `2-3`, `4-7` ... */
export const bucketLabel = (index: number): string => {
  const [lo, hi] = bucketBounds(index)
  return hi - lo === 1 ? `${lo}` : `${lo}-${hi - 1}`
}

/** Builds a power-of-two histogram; buckets run from 0 to the largest value's bucket. */
export const log2Histogram = (metric: string, values: ReadonlyArray<number>): Histogram => {
  const top = values.reduce((m, v) => Math.max(m, log2Bucket(v)), 0)
  const counts = new Array<number>(top + 1).fill(0)
  for (const v of values) counts[log2Bucket(v)]++
  return {
    metric,
    buckets: counts.map((count, i) => {
      const [lo, hi] = bucketBounds(i)
      return { lo, hi, label: bucketLabel(i), count }
    })
  }
}

/** Distinct n-grams / all n-grams over a corpus (0 when there are no n-grams). */
export const distinctN = (corpus: ReadonlyArray<ArrayLike<string | number>>, n: number): number => {
  const seen = new Set<string>()
  let total = 0
  for (const tokens of corpus) {
    for (const gram of ngrams(tokens, n)) {
      seen.add(gram)
      total++
    }
  }
  return total === 0 ? 0 : seen.size / total
}

/** Shannon entropy, in bits, of the n-gram frequency distribution over a corpus. */
export const ngramEntropy = (corpus: ReadonlyArray<ArrayLike<string | number>>, n: number): number => {
  const counts = new Map<string, number>()
  let total = 0
  for (const tokens of corpus) {
    for (const gram of ngrams(tokens, n)) {
      counts.set(gram, (counts.get(gram) ?? 0) + 1)
      total++
    }
  }
  let entropy = 0
  for (const c of counts.values()) {
    const p = c / total
    entropy -= p * Math.log2(p)
  }
  return entropy
}

/** UTF-8 bytes / raw-deflate bytes (level 9) of the texts joined by newlines; 0 for no text. */
export const compressionRatio = (texts: ReadonlyArray<string>): number => {
  const raw = Buffer.from(texts.join("\n"), "utf8")
  if (raw.length === 0) return 0
  return raw.length / deflateRawSync(raw, { level: 9 }).length
}

const optionalSummary = (values: ReadonlyArray<number | null>): Summary | null => {
  const present = values.filter((v): v is number => v !== null)
  return present.length === 0 ? null : summarize(present)
}

/** Measures a set of rows. Rows missing the field count as empty text. */
export const computeQdc = (rows: ReadonlyArray<Row>, options: QdcOptions = {}): QdcReport => {
  const field = options.field ?? "text"
  const tokenizer = options.tokenizer ?? whitespaceTokenizer
  const texts = rows.map((row) => rowText(row, field))
  const corpus = texts.map((text) => tokenizer(text))
  const perRow = rows.map((row) => rowQdcMetrics(row, { ...options, tokenizer }))
  const minhash = { ...defaultMinHashOptions, ...options.minhash }
  const clusterIds = clusterNearDuplicates(texts, minhash)
  const clusters = new Set(clusterIds).size

  const judged = perRow.filter((m) => m.verified !== null)
  const passed = judged.filter((m) => m.verified === 1).length
  const complexityValues = perRow.map((m, i) => complexityOf(rows[i], m, options.complexityField ?? "steps"))

  return {
    field,
    rows: rows.length,
    quality: {
      verifierPassRate: judged.length === 0 ? null : passed / judged.length,
      verifiedRows: passed,
      judgedRows: judged.length,
      heuristicScore: summarize(perRow.map((m) => m.quality))
    },
    diversity: {
      distinct1: distinctN(corpus, 1),
      distinct2: distinctN(corpus, 2),
      distinct3: distinctN(corpus, 3),
      entropy1: ngramEntropy(corpus, 1),
      entropy2: ngramEntropy(corpus, 2),
      entropy3: ngramEntropy(corpus, 3),
      compressionRatio: compressionRatio(texts),
      nearDuplicateRate: rows.length === 0 ? 0 : (rows.length - clusters) / rows.length,
      clusters
    },
    complexity: {
      tokens: summarize(perRow.map((m) => m.tokens)),
      steps: summarize(perRow.map((m) => m.steps)),
      depth: optionalSummary(perRow.map((m) => m.depth)),
      backtracks: optionalSummary(perRow.map((m) => m.backtracks)),
      nodesExpanded: optionalSummary(perRow.map((m) => m.nodesExpanded))
    },
    histograms: {
      length: log2Histogram("tokens", perRow.map((m) => m.tokens)),
      complexity: log2Histogram(options.complexityField ?? "steps", complexityValues)
    }
  }
}

/** Reads a row's complexity: a metric name (`steps`, `tokens`) or a numeric column (0 when absent). */
export const complexityOf = (row: Row, metrics: RowQdcMetrics, name: string): number => {
  if (name === "steps") return metrics.steps
  if (name === "tokens") return metrics.tokens
  return numericField(row, name) ?? 0
}
