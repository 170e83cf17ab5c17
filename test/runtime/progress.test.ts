import { describe, expect, it } from "vitest"
import { formatCount, formatSeconds, formatSummary, makeTtyRenderer, renderEventJson } from "../../runtime/executor/progress.ts"
import type { RunSummary } from "../../runtime/executor/types.ts"

describe("progress renderers", () => {
  it("renders events as JSON lines", () => {
    const line = renderEventJson({ type: "run-finished", runId: "r1", status: "succeeded", seconds: 2 }, new Date("2026-01-02T03:04:05Z"))
    expect(JSON.parse(line)).toEqual({ time: "2026-01-02T03:04:05.000Z", type: "run-finished", runId: "r1", status: "succeeded", seconds: 2 })
  })

  it("numbers finished nodes on a terminal", () => {
    const tty = makeTtyRenderer()
    tty.render({ type: "run-started", runId: "r1", root: "/tmp/x", nodes: 2, at: "" })
    const progress = tty.render({ type: "node-progress", nodeId: "a", name: "read:web", shardsDone: 1, shards: 4, rowsOut: 10, bytesOut: 100, rowsPerSecond: 2500, megabytesPerSecond: 1.25, etaSeconds: 75 })
    expect(progress).toContain("1/4 shards 2.50k rows/s 1.3 MB/s ETA 1m15s")
    const done = tty.render({ type: "node-finished", nodeId: "a", name: "read:web", status: "computed", rowsOut: 1500, tokensOut: 0, seconds: 3.2 })
    expect(done).toMatch(/\[1\/2\] read:web\s+computed 1.50k rows 0 tokens 3.2s\n$/)
  })

  it("formats counts and durations", () => {
    expect(formatCount(999)).toBe("999")
    expect(formatCount(1_234_567)).toBe("1.23M")
    expect(formatSeconds(4.25)).toBe("4.3s")
    expect(formatSeconds(3725)).toBe("1h02m")
  })

  it("prints mix shares in the summary table", () => {
    const summary: RunSummary = {
      runId: "r1", root: "/tmp/x", status: "succeeded", startedAt: "", finishedAt: "", seconds: 1, toolVersion: "t",
      nodes: [{ id: "m", name: "mix:main", kind: "mix", status: "computed", rowsIn: 10, rowsOut: 2, tokensIn: 100, tokensOut: 200, bytesOut: 1, seconds: 0.5, drops: {}, skips: {} }],
      mixes: [{ nodeId: "m", name: "mix:main", sequenceLength: 128, sequences: 2, totalTokens: 200, components: [
        { name: "web", plannedShare: 0.75, measuredShare: 0.75, plannedTokens: 150, measuredTokens: 150, availableTokens: 100, epochs: 1.5 }
      ] }],
      qdc: [], outputs: {},
      totals: { computed: 1, cached: 0, failed: 0, external: 0, rowsOut: 2, tokensOut: 200, bytesOut: 1 }
    }
    const text = formatSummary(summary)
    expect(text).toContain("mix:main  computed")
    expect(text).toContain("web                      planned 75.00% measured 75.00% (150 tokens, 1.50 epochs)")
  })
})
