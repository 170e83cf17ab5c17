import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { chromium } from "playwright-core"
import { afterAll, describe, expect, it } from "vitest"
import { decodeSearchTraceConfig, generateSearchTraces } from "../../connectors/generators/countdown/index.ts"
import { computeQdc } from "../../runtime/ops/qdc/index.ts"
import { escapeXml, flattenQdcReport, niceMax, renderComparisonReport } from "../../runtime/report/index.ts"

const CHROMIUM = "/usr/bin/chromium"
const outDir = mkdtempSync(join(tmpdir(), "mixwright-report-"))
afterAll(() => rmSync(outDir, { recursive: true, force: true }))

const base = decodeSearchTraceConfig({ type: "search-trace", task: "game24", search: "bfs", count: 40, seed: 11 })
const qdcOptions = { field: "trace", complexityField: "backtracks" }
const reportA = { ...computeQdc([...generateSearchTraces(base)], qdcOptions), label: "BFS" }
const reportB = { ...computeQdc([...generateSearchTraces({ ...base, search: "best-first" })], qdcOptions), label: "best-first <distance>" }

describe("renderComparisonReport", () => {
  it("helpers escape and round", () => {
    expect(escapeXml(`<a href="x">&'`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&#39;")
    expect(niceMax(0.37)).toBe(0.5)
    expect(niceMax(130)).toBe(200)
    expect(niceMax(0)).toBe(1)
  })

  it("json holds every number with deltas", () => {
    const { json } = renderComparisonReport(reportA, reportB)
    expect(json.labels).toEqual(["BFS", "best-first <distance>"])
    expect(json.rows.length).toBe(flattenQdcReport(reportA).length)
    const tokens = json.rows.find((r) => r.metric === "complexity.tokens.mean")!
    expect(tokens.a).toBe(reportA.complexity.tokens.mean)
    expect(tokens.b).toBe(reportB.complexity.tokens.mean)
    expect(tokens.delta).toBeCloseTo(reportB.complexity.tokens.mean - reportA.complexity.tokens.mean, 9)
    expect(JSON.parse(JSON.stringify(json)).rows.length).toBe(json.rows.length)
  })

  it("html is self-contained", () => {
    const { html } = renderComparisonReport(reportA, reportB)
    expect(html).not.toMatch(/<script/i)
    expect(html).not.toMatch(/<link/i)
    expect(html).not.toMatch(/(src|href)=["']https?:/i)
    expect(html).not.toMatch(/@import|@font-face|url\(/i)
    expect(html).toContain("best-first &lt;distance&gt;")
    expect(html).not.toContain("best-first <distance>")
  })

  it("renders in headless chromium", async (ctx) => {
    if (!existsSync(CHROMIUM)) return ctx.skip(`chromium not found at ${CHROMIUM}; install the Debian package 'chromium'`)
    const { html } = renderComparisonReport(reportA, reportB)
    const file = join(outDir, "report.html")
    writeFileSync(file, html)
    // Playwright sets --user-data-dir itself from the first argument: a fresh profile per run.
    const context = await chromium.launchPersistentContext(mkdtempSync(join(outDir, "profile-")), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"
      ]
    })
    try {
      const page = await context.newPage()
      const requests: Array<string> = []
      page.on("request", (request) => requests.push(request.url()))
      await page.goto(`file://${file}`)
      const screenshot = join(process.env.MIXWRIGHT_REPORT_SCREENSHOT_DIR ?? outDir, "report.png")
      await page.screenshot({ path: screenshot, fullPage: true })
      expect(existsSync(screenshot)).toBe(true)

      const charts = await page.locator("svg.chart").evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-chart")))
      expect(charts).toEqual(["length-histogram", "complexity-histogram", "diversity-bars", "entropy-bars", "quality-bars"])
      for (const id of ["length-histogram", "complexity-histogram"]) {
        const bars = page.locator(`svg[data-chart="${id}"] rect.bar`)
        expect(await bars.count()).toBeGreaterThan(2)
        const seriesNames = new Set(await bars.evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-series"))))
        expect(seriesNames).toEqual(new Set(["BFS", "best-first <distance>"]))
        const box = await page.locator(`svg[data-chart="${id}"]`).boundingBox()
        expect(box!.width).toBeGreaterThan(300)
      }
      expect(await page.locator("#metrics thead th").allTextContents()).toEqual(["metric", "BFS", "best-first <distance>", "best-first <distance> − BFS"])
      const metricRows = await page.locator("#metrics tbody tr").count()
      expect(metricRows).toBe(flattenQdcReport(reportA).length)
      const rowsCells = await page.locator('#metrics tr[data-metric="rows"] td').allTextContents()
      expect(rowsCells).toEqual(["rows", "40", "40", "0"])
      // The page loads nothing besides itself.
      expect(requests).toEqual([`file://${file}`])
    } finally {
      await context.close()
    }
  })
})
