/**
 * Side-by-side QDC report of two runs (generator A against generator B) as one
 * self-contained HTML page with inline SVG charts, plus the same numbers as JSON.
 */
import type { Histogram, QdcReport, Summary } from "../ops/qdc/metrics.ts"
import { escapeXml, groupedBarChart } from "./svg.ts"

export type LabeledQdcReport = QdcReport & { readonly label: string }

export interface ComparisonRow {
  readonly metric: string
  readonly a: number | null
  readonly b: number | null
  /** `b - a`, or `null` when either is missing. */
  readonly delta: number | null
}

export interface ComparisonJson {
  readonly labels: readonly [string, string]
  readonly rows: ReadonlyArray<ComparisonRow>
  readonly reports: readonly [LabeledQdcReport, LabeledQdcReport]
}

const COLORS = ["#2b6cb0", "#dd6b20"] as const

const summaryEntries = (prefix: string, summary: Summary | null): Array<readonly [string, number | null]> =>
  (["mean", "p50", "p90", "max"] as const).map((k) => [`${prefix}.${k}`, summary === null ? null : summary[k]] as const)

/** Lists every number of a report under a dotted name, in display order. */
export const flattenQdcReport = (report: QdcReport): Array<readonly [string, number | null]> => [
  ["rows", report.rows],
  ["quality.verifierPassRate", report.quality.verifierPassRate],
  ["quality.verifiedRows", report.quality.verifiedRows],
  ["quality.judgedRows", report.quality.judgedRows],
  ...summaryEntries("quality.heuristicScore", report.quality.heuristicScore),
  ["diversity.distinct1", report.diversity.distinct1],
  ["diversity.distinct2", report.diversity.distinct2],
  ["diversity.distinct3", report.diversity.distinct3],
  ["diversity.entropy1", report.diversity.entropy1],
  ["diversity.entropy2", report.diversity.entropy2],
  ["diversity.entropy3", report.diversity.entropy3],
  ["diversity.compressionRatio", report.diversity.compressionRatio],
  ["diversity.nearDuplicateRate", report.diversity.nearDuplicateRate],
  ["diversity.clusters", report.diversity.clusters],
  ...summaryEntries("complexity.tokens", report.complexity.tokens),
  ...summaryEntries("complexity.steps", report.complexity.steps),
  ...summaryEntries("complexity.depth", report.complexity.depth),
  ...summaryEntries("complexity.backtracks", report.complexity.backtracks),
  ...summaryEntries("complexity.nodesExpanded", report.complexity.nodesExpanded)
]

const formatNumber = (value: number | null): string => {
  if (value === null) return "n/a"
  if (Number.isInteger(value)) return value.toLocaleString("en-US")
  return Math.abs(value) >= 100 ? value.toFixed(1) : value.toFixed(4)
}

const percent = (v: number) => `${(v * 100).toFixed(0)}%`

/**
 * Aligns two histograms on the longer bucket list, as fractions of each run's rows, and
 * leaves out the leading buckets that are empty in both runs.
 */
const histogramChart = (id: string, title: string, a: LabeledQdcReport, b: LabeledQdcReport, pick: (r: QdcReport) => Histogram): string => {
  const ha = pick(a)
  const hb = pick(b)
  const longer = ha.buckets.length >= hb.buckets.length ? ha : hb
  let first = 0
  while (first < longer.buckets.length - 1 && (ha.buckets[first]?.count ?? 0) === 0 && (hb.buckets[first]?.count ?? 0) === 0) first++
  const shown = longer.buckets.slice(first)
  const fractions = (h: Histogram, rows: number) =>
    shown.map((_, i) => (rows === 0 ? 0 : (h.buckets[first + i]?.count ?? 0) / rows))
  return groupedBarChart({
    id,
    title: `${title} (${longer.metric})`,
    categories: shown.map((bucket) => bucket.label),
    series: [
      { label: a.label, color: COLORS[0], values: fractions(ha, a.rows) },
      { label: b.label, color: COLORS[1], values: fractions(hb, b.rows) }
    ],
    yLabel: "share of rows",
    format: percent
  })
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px; color: #1a202c; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.sub { color: #4a5568; margin: 0 0 16px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.chart { border: 1px solid #e2e8f0; border-radius: 6px; background: #fff; }
.chart-title { font-size: 13px; font-weight: 600; fill: #1a202c; }
.tick, .legend, .axis-label { font-size: 11px; fill: #4a5568; }
.grid { stroke: #edf2f7; } .axis { stroke: #a0aec0; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border-bottom: 1px solid #e2e8f0; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; font-family: ui-monospace, monospace; }
thead th { background: #f7fafc; }
.run-a { color: ${COLORS[0]}; } .run-b { color: ${COLORS[1]}; }
`

/** Renders the comparison page and its JSON; `json.rows` contains the same numbers as the HTML table. */
export const renderComparisonReport = (a: LabeledQdcReport, b: LabeledQdcReport): { readonly html: string; readonly json: ComparisonJson } => {
  const flatA = flattenQdcReport(a)
  const flatB = new Map(flattenQdcReport(b))
  const rows: Array<ComparisonRow> = flatA.map(([metric, va]) => {
    const vb = flatB.get(metric) ?? null
    return { metric, a: va, b: vb, delta: va === null || vb === null ? null : vb - va }
  })

  const series = (pick: (r: QdcReport) => ReadonlyArray<number>) => [
    { label: a.label, color: COLORS[0], values: pick(a) },
    { label: b.label, color: COLORS[1], values: pick(b) }
  ]
  const charts = [
    histogramChart("length-histogram", "Length", a, b, (r) => r.histograms.length),
    histogramChart("complexity-histogram", "Complexity", a, b, (r) => r.histograms.complexity)
  ]
  const diversityCharts = [
    groupedBarChart({
      id: "diversity-bars",
      title: "Lexical diversity and redundancy",
      categories: ["distinct-1", "distinct-2", "distinct-3", "near-dup rate"],
      series: series((r) => [r.diversity.distinct1, r.diversity.distinct2, r.diversity.distinct3, r.diversity.nearDuplicateRate]),
      yLabel: "fraction",
      format: (v) => v.toFixed(2)
    }),
    groupedBarChart({
      id: "entropy-bars",
      title: "N-gram entropy and compression ratio",
      categories: ["entropy-1 (bits)", "entropy-2 (bits)", "entropy-3 (bits)", "compression ratio"],
      series: series((r) => [r.diversity.entropy1, r.diversity.entropy2, r.diversity.entropy3, r.diversity.compressionRatio]),
      yLabel: "bits / ratio",
      format: (v) => v.toFixed(1)
    }),
    groupedBarChart({
      id: "quality-bars",
      title: "Quality",
      categories: ["verifier pass rate", "heuristic score (mean)"],
      series: series((r) => [r.quality.verifierPassRate ?? 0, r.quality.heuristicScore.mean]),
      yLabel: "fraction",
      format: (v) => v.toFixed(2)
    })
  ]

  const tableRows = rows.map((row) =>
    `<tr data-metric="${escapeXml(row.metric)}"><td>${escapeXml(row.metric)}</td><td class="run-a">${formatNumber(row.a)}</td><td class="run-b">${formatNumber(row.b)}</td><td>${row.delta === null ? "n/a" : (row.delta > 0 ? "+" : "") + formatNumber(row.delta)}</td></tr>`
  )

  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>QDC comparison: ${escapeXml(a.label)} vs ${escapeXml(b.label)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>QDC comparison: <span class="run-a">${escapeXml(a.label)}</span> vs <span class="run-b">${escapeXml(b.label)}</span></h1>
<p class="sub">Field <code>${escapeXml(a.field)}</code> (${formatNumber(a.rows)} rows) and <code>${escapeXml(b.field)}</code> (${formatNumber(b.rows)} rows). Histograms show the share of each run's rows per power-of-two bucket.</p>
<h2>Length and complexity</h2>
<div class="charts">
${charts.join("\n")}
</div>
<h2>Diversity and quality</h2>
<div class="charts">
${diversityCharts.join("\n")}
</div>
<h2>All numbers</h2>
<table id="metrics">
<thead><tr><th>metric</th><th class="run-a">${escapeXml(a.label)}</th><th class="run-b">${escapeXml(b.label)}</th><th>${escapeXml(b.label)} − ${escapeXml(a.label)}</th></tr></thead>
<tbody>
${tableRows.join("\n")}
</tbody>
</table>
</body>
</html>
`
  return { html, json: { labels: [a.label, b.label], rows, reports: [a, b] } }
}
