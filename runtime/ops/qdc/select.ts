/**
 * QDC filters and diversity-aware selection.
 *
 * Filters drop rows whose per-row metric falls outside `[min, max]`. Selection caps the rows
 * per MinHash cluster, then samples `limit` rows, stratified by a field or a complexity
 * bucket. Both are deterministic for a seed; selected rows keep their input order.
 */
import { Schema } from "effect"
import { makeRng, shuffleInPlace } from "../../../connectors/generators/random.ts"
import type { Row } from "../../batch.ts"
import { bucketLabel, complexityOf, log2Bucket, type QdcOptions, rowQdcMetrics, type RowQdcMetrics } from "./metrics.ts"
import { clusterNearDuplicates, defaultMinHashOptions } from "./minhash.ts"

export const RowMetricNames = ["tokens", "steps", "quality", "verified", "depth", "backtracks", "nodesExpanded"] as const
export type RowMetricName = (typeof RowMetricNames)[number]

/** The `qdc` rule of a `filter` node: keep rows with `min <= metric <= max`. */
export const QdcFilterRuleSchema = Schema.Struct({
  rule: Schema.Literal("qdc"),
  metric: Schema.Literals(RowMetricNames),
  min: Schema.optionalKey(Schema.Finite),
  max: Schema.optionalKey(Schema.Finite)
})
export type QdcFilterRule = typeof QdcFilterRuleSchema.Type

/** Parameters of a `qdc` node. */
export const QdcNodeParamsSchema = Schema.Struct({
  metrics: Schema.Array(Schema.Literals(["quality", "diversity", "complexity"])),
  field: Schema.String
})
export type QdcNodeParams = typeof QdcNodeParamsSchema.Type

/**
 * Returns the reason a row fails the rule (`qdc.<metric>`, or `qdc.<metric>.missing` when
 * the row has no value for the metric), or `undefined` when it passes.
 */
export const checkQdcRow = (row: Row, rule: QdcFilterRule, options: QdcOptions = {}, metrics?: RowQdcMetrics): string | undefined => {
  const value = (metrics ?? rowQdcMetrics(row, options))[rule.metric]
  if (value === null) return `qdc.${rule.metric}.missing`
  if (rule.min !== undefined && value < rule.min) return `qdc.${rule.metric}`
  if (rule.max !== undefined && value > rule.max) return `qdc.${rule.metric}`
  return undefined
}

/** Applies several rules; a dropped row counts against the first rule that failed it. */
export const filterByQdc = (
  rows: ReadonlyArray<Row>,
  rules: ReadonlyArray<QdcFilterRule>,
  options: QdcOptions = {}
): { readonly rows: Array<Row>; readonly dropped: Record<string, number> } => {
  const kept: Array<Row> = []
  const dropped: Record<string, number> = {}
  for (const row of rows) {
    const metrics = rowQdcMetrics(row, options)
    let reason: string | undefined
    for (const rule of rules) {
      reason = checkQdcRow(row, rule, options, metrics)
      if (reason !== undefined) break
    }
    if (reason === undefined) kept.push(row)
    else dropped[reason] = (dropped[reason] ?? 0) + 1
  }
  return { rows: kept, dropped }
}

export const QdcSelectSchema = Schema.Struct({
  /** Text column for clustering and metrics. Default `text`. */
  field: Schema.optionalKey(Schema.String),
  /** At most this many rows per MinHash cluster. */
  maxPerCluster: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  /**
   * Strata for sampling: a row metric (`tokens`, `steps`, `backtracks`, `depth`,
   * `nodesExpanded`) bucketed by powers of two, or any other column by its value.
   */
  stratifyBy: Schema.optionalKey(Schema.String),
  /** `equal`: the same quota per stratum, leftovers to strata with rows to spare; `proportional`: quota by stratum size. */
  allocation: Schema.optionalKey(Schema.Literals(["equal", "proportional"])),
  /** Rows to select after the cluster cap; all when absent. */
  limit: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  seed: Schema.optionalKey(Schema.Int),
  ngram: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  bands: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  rows: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  threshold: Schema.optionalKey(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })))
})
export type QdcSelect = typeof QdcSelectSchema.Type

export interface SelectionResult {
  readonly rows: Array<Row>
  readonly stats: {
    readonly input: number
    readonly clusters: number
    readonly afterClusterCap: number
    readonly selected: number
    /** Selected rows per stratum. */
    readonly strata: Record<string, number>
  }
}

const METRIC_STRATA = new Set(["tokens", "steps", "depth", "backtracks", "nodesExpanded"])

const stratumOf = (row: Row, name: string, options: QdcOptions): string => {
  if (METRIC_STRATA.has(name)) {
    const value = complexityOf(row, rowQdcMetrics(row, options), name)
    return bucketLabel(log2Bucket(value))
  }
  const value = row[name]
  if (value === undefined || value === null) return "(missing)"
  if (typeof value === "string") return value
  return JSON.stringify(value)
}

/** Quotas per stratum that sum to `min(limit, total)`. */
const allocate = (sizes: ReadonlyArray<number>, limit: number, mode: "equal" | "proportional"): Array<number> => {
  const total = sizes.reduce((a, b) => a + b, 0)
  const target = Math.min(limit, total)
  const quotas = new Array<number>(sizes.length).fill(0)
  if (mode === "proportional") {
    // Largest remainder method.
    const exact = sizes.map((s) => (s / total) * target)
    exact.forEach((e, i) => (quotas[i] = Math.floor(e)))
    let left = target - quotas.reduce((a, b) => a + b, 0)
    const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1])
    for (const [, i] of order) {
      if (left === 0) break
      quotas[i]++
      left--
    }
    return quotas
  }
  // Equal: hand out one row per stratum in turn, skipping strata that have run out.
  let left = target
  while (left > 0) {
    for (let i = 0; i < sizes.length && left > 0; i++) {
      if (quotas[i] < sizes[i]) {
        quotas[i]++
        left--
      }
    }
  }
  return quotas
}

/** Selects rows per the settings. */
export const selectDiverse = (rows: ReadonlyArray<Row>, settings: QdcSelect, options: QdcOptions = {}): SelectionResult => {
  const field = settings.field ?? options.field ?? "text"
  const metricOptions = { ...options, field }
  const seed = settings.seed ?? 0
  const rng = makeRng(seed)
  let candidates = rows.map((_, i) => i)

  let clusters = rows.length
  if (settings.maxPerCluster !== undefined) {
    const minhash = {
      ...defaultMinHashOptions,
      ...options.minhash,
      seed,
      ...(settings.ngram !== undefined ? { ngram: settings.ngram } : {}),
      ...(settings.bands !== undefined ? { bands: settings.bands } : {}),
      ...(settings.rows !== undefined ? { rows: settings.rows } : {}),
      ...(settings.threshold !== undefined ? { threshold: settings.threshold } : {})
    }
    const ids = clusterNearDuplicates(rows.map((row) => String(row[field] ?? "")), minhash)
    const members = new Map<number, Array<number>>()
    ids.forEach((id, i) => {
      const list = members.get(id)
      if (list === undefined) members.set(id, [i])
      else list.push(i)
    })
    clusters = members.size
    const keep: Array<number> = []
    for (const list of members.values()) keep.push(...shuffleInPlace([...list], rng).slice(0, settings.maxPerCluster))
    candidates = keep.sort((a, b) => a - b)
  }
  const afterClusterCap = candidates.length

  const strataCounts: Record<string, number> = {}
  let chosen: Array<number>
  if (settings.stratifyBy !== undefined) {
    const byStratum = new Map<string, Array<number>>()
    for (const i of candidates) {
      const key = stratumOf(rows[i], settings.stratifyBy, metricOptions)
      const list = byStratum.get(key)
      if (list === undefined) byStratum.set(key, [i])
      else list.push(i)
    }
    const keys = [...byStratum.keys()].sort()
    const lists = keys.map((k) => shuffleInPlace([...byStratum.get(k)!], rng))
    const quotas = allocate(lists.map((l) => l.length), settings.limit ?? candidates.length, settings.allocation ?? "equal")
    chosen = []
    keys.forEach((key, k) => {
      strataCounts[key] = quotas[k]
      chosen.push(...lists[k].slice(0, quotas[k]))
    })
  } else if (settings.limit !== undefined && settings.limit < candidates.length) {
    chosen = shuffleInPlace([...candidates], rng).slice(0, settings.limit)
  } else {
    chosen = candidates
  }
  chosen.sort((a, b) => a - b)
  return {
    rows: chosen.map((i) => rows[i]),
    stats: { input: rows.length, clusters, afterClusterCap, selected: chosen.length, strata: strataCounts }
  }
}
