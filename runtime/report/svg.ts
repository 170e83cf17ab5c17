/**
 * Inline SVG charts for the comparison report. Output is plain SVG markup with no scripts,
 * fonts or external references.
 */

export interface Series {
  readonly label: string
  readonly color: string
  readonly values: ReadonlyArray<number>
}

export interface BarChartSpec {
  /** Value of the `data-chart` attribute, used by tests and styles. */
  readonly id: string
  readonly title: string
  readonly categories: ReadonlyArray<string>
  readonly series: ReadonlyArray<Series>
  readonly yLabel: string
  readonly format: (value: number) => string
  readonly width?: number
  readonly height?: number
}

/** Escapes text for HTML and SVG content and attribute values. */
export const escapeXml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")

/** Rounds a maximum up to 1, 2 or 5 times a power of ten, so axis ticks are round numbers. */
export const niceMax = (value: number): number => {
  if (!(value > 0)) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power
  return 10 * power
}

/** Renders a grouped bar chart: one group per category, one bar per series. */
export const groupedBarChart = (spec: BarChartSpec): string => {
  const width = spec.width ?? 560
  const height = spec.height ?? 280
  const margin = { top: 36, right: 16, bottom: 64, left: 56 }
  const plotW = width - margin.left - margin.right
  const plotH = height - margin.top - margin.bottom
  const max = niceMax(Math.max(0, ...spec.series.flatMap((s) => s.values)))
  // 1 and 5 times a power of ten divide into 5 round ticks, 2 times one into 4.
  const tickCount = Math.abs(max / 10 ** Math.floor(Math.log10(max)) - 2) < 1e-9 ? 4 : 5
  const y = (v: number) => margin.top + plotH - (v / max) * plotH
  const groupW = plotW / Math.max(1, spec.categories.length)
  const barW = Math.max(2, (groupW * 0.8) / Math.max(1, spec.series.length))
  const parts: Array<string> = []

  parts.push(`<svg class="chart" data-chart="${escapeXml(spec.id)}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(spec.title)}">`)
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" class="chart-title">${escapeXml(spec.title)}</text>`)

  for (let t = 0; t <= tickCount; t++) {
    const v = (max * t) / tickCount
    const yy = y(v).toFixed(1)
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${yy}" y2="${yy}" class="grid"/>`)
    parts.push(`<text x="${margin.left - 6}" y="${yy}" dy="0.32em" text-anchor="end" class="tick">${escapeXml(spec.format(v))}</text>`)
  }
  parts.push(`<text transform="translate(14 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" class="axis-label">${escapeXml(spec.yLabel)}</text>`)

  const rotate = spec.categories.length > 8
  spec.categories.forEach((category, c) => {
    const gx = margin.left + c * groupW + groupW * 0.1
    spec.series.forEach((series, s) => {
      const value = series.values[c] ?? 0
      const x = gx + s * barW
      const top = y(value)
      const h = margin.top + plotH - top
      parts.push(
        `<rect class="bar" data-series="${escapeXml(series.label)}" x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${series.color}"><title>${escapeXml(`${series.label}, ${category}: ${spec.format(value)}`)}</title></rect>`
      )
    })
    const cx = margin.left + c * groupW + groupW / 2
    const ly = margin.top + plotH + 14
    parts.push(
      rotate
        ? `<text transform="translate(${cx.toFixed(1)} ${ly}) rotate(-40)" text-anchor="end" class="tick">${escapeXml(category)}</text>`
        : `<text x="${cx.toFixed(1)}" y="${ly}" text-anchor="middle" class="tick">${escapeXml(category)}</text>`
    )
  })
  parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" class="axis"/>`)

  spec.series.forEach((series, s) => {
    const lx = margin.left + s * 140
    const ly = height - 12
    parts.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${series.color}"/>`)
    parts.push(`<text x="${lx + 18}" y="${ly}" class="legend">${escapeXml(series.label)}</text>`)
  })
  parts.push("</svg>")
  return parts.join("\n")
}
