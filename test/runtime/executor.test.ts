import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runPlan } from "../../runtime/executor/run.ts"
import type { RunEvent, RunSummary } from "../../runtime/executor/types.ts"
import { readArtifactRows, readManifest } from "../../runtime/store/store.ts"
import { dataFileHashes, hasData, pipelinePlan, runLocal, tempRoot } from "./fixtures.ts"

const byName = (summary: RunSummary) => new Map(summary.nodes.map((node) => [node.name, node]))

describe.skipIf(!hasData)("runPlan over real files", () => {
  const root = tempRoot("executor")
  const plan = pipelinePlan()
  const events: Array<RunEvent> = []
  let first: RunSummary
  let firstMs = 0

  beforeAll(async () => {
    const started = performance.now()
    first = await runLocal(runPlan(plan, { root, runId: "first", concurrency: 2, onEvent: (event) => events.push(event) }))
    firstMs = performance.now() - started
  })
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

  it("computes every node", () => {
    expect(first.status).toBe("succeeded")
    expect(first.nodes.map((node) => node.status)).toEqual(plan.nodes.map(() => "computed"))
    expect(first.totals.computed).toBe(plan.nodes.length)
  })

  it("counts filter drops per rule", () => {
    const filter = byName(first).get("filter:web")!
    expect(filter.rowsIn).toBe(300)
    const dropped = (filter.drops.gopher_quality ?? 0) + (filter.drops.gopher_repetition ?? 0)
    expect(dropped).toBeGreaterThan(0)
    expect(filter.rowsOut).toBe(300 - dropped)
  })

  it("writes mix tokens equal to the targets", async () => {
    const mix = first.mixes[0]
    expect(mix.totalTokens).toBe(120_000)
    for (const component of mix.components) {
      expect(component.measuredTokens).toBe(component.plannedTokens)
      expect(Math.abs(component.measuredShare - component.plannedShare)).toBeLessThan(0.01)
    }
    const mixNode = plan.nodes.find((node) => node.kind === "mix")!
    const rows = await runLocal(Stream.runCollect(readArtifactRows(root, mixNode.id)))
    const lengths = rows.flatMap((batch) => batch.map((row) => (row.tokens as Uint32Array).length))
    expect(lengths.reduce((sum, length) => sum + length, 0)).toBe(120_000)
    expect(lengths.slice(0, -1).every((length) => length === 1024)).toBe(true)
  })

  it("writes a Megatron dataset per component and a blend file", () => {
    const outputs = first.outputs["export:pretrain"]
    expect(outputs.map((uri) => path.basename(uri)).sort()).toEqual(["blend.json", "blend.txt", "mixture.bin", "mixture.idx", "web.bin", "web.idx"])
    const exportDir = path.dirname(outputs[0])
    expect(fs.readFileSync(path.join(exportDir, "blend.txt"), "utf8")).toBe("0.3 web 0.7 mixture\n")
    const idx = fs.readFileSync(path.join(exportDir, "web.idx"))
    expect(idx.subarray(0, 9).toString("latin1")).toBe("MMIDIDX\0\0")
    const tokenizeWeb = first.nodes.find((node) => node.name === "tokenize:web")!
    expect(fs.statSync(path.join(exportDir, "web.bin")).size).toBe(tokenizeWeb.tokensOut * 4)
  })

  it("writes the summary and the plan under runs/<run-id>", () => {
    const summary = JSON.parse(fs.readFileSync(path.join(root, "runs/first/summary.json"), "utf8"))
    expect(summary.runId).toBe("first")
    expect(summary.nodes).toHaveLength(plan.nodes.length)
    expect(JSON.parse(fs.readFileSync(path.join(root, "runs/first/plan.json"), "utf8"))).toEqual(plan)
  })

  it("emits started, progress and finished events", () => {
    const types = new Set(events.map((event) => event.type))
    expect([...types].sort()).toEqual(["node-finished", "node-progress", "node-started", "run-finished", "run-started"])
    expect(events.filter((event) => event.type === "node-finished")).toHaveLength(plan.nodes.length)
  })

  it("skips every node on a second run", async () => {
    const started = performance.now()
    const second = await runLocal(runPlan(plan, { root, runId: "second" }))
    const secondMs = performance.now() - started
    expect(second.nodes.map((node) => node.status)).toEqual(plan.nodes.map(() => "cached"))
    expect(second.mixes).toEqual(first.mixes)
    expect(secondMs).toBeLessThan(firstMs / 3)
  })

  it("recomputes only a changed node and its descendants", async () => {
    const changed = pipelinePlan({ minWords: 80 })
    const summary = await runLocal(runPlan(changed, { root, runId: "changed" }))
    const status = Object.fromEntries(summary.nodes.map((node) => [node.name, node.status]))
    expect(status).toEqual({
      "read:web": "cached",
      "filter:web": "computed",
      "dedup:web": "computed",
      "tokenize:web": "computed",
      "read:mixture": "cached",
      "dedup:mixture": "cached",
      "tokenize:mixture": "cached",
      "mix:pretrain": "computed",
      "export:pretrain": "computed"
    })
  })

  it("recomputes a forced node with identical bytes", async () => {
    const mixNode = plan.nodes.find((node) => node.kind === "mix")!
    const before = dataFileHashes(path.join(root, "artifacts", mixNode.id))
    const summary = await runLocal(runPlan(plan, { root, runId: "forced", force: ["mix:pretrain"] }))
    expect(summary.nodes.find((node) => node.name === "mix:pretrain")!.status).toBe("computed")
    expect(summary.nodes.filter((node) => node.status === "computed")).toHaveLength(1)
    expect(dataFileHashes(path.join(root, "artifacts", mixNode.id))).toEqual(before)
  })

  it("writes identical files with worker threads", async () => {
    const other = tempRoot("executor-again")
    try {
      await runLocal(runPlan(plan, { root: other, runId: "again", concurrency: 2, workers: 2 }))
      for (const node of plan.nodes) {
        const manifest = await runLocal(readManifest(other, node.id))
        expect(manifest?.shards.length).toBeGreaterThan(0)
        expect(dataFileHashes(path.join(other, "artifacts", node.id))).toEqual(dataFileHashes(path.join(root, "artifacts", node.id)))
      }
    } finally {
      fs.rmSync(other, { recursive: true, force: true })
    }
  })

  it("rejects an unknown node kind", async () => {
    const bogus = { nodes: [{ ...plan.nodes[0], kind: "train" as never }] }
    const error = await runLocal(Effect.flip(runPlan(bogus, { root })))
    expect(error.reason).toBe("InvalidPlan")
    expect(error.message).toContain("unknown node kind \"train\"")
  })

  it("rejects a plan whose inputs are out of order", async () => {
    const reversed = { nodes: [...plan.nodes].reverse() }
    const error = await runLocal(Effect.flip(runPlan(reversed, { root })))
    expect(error.reason).toBe("InvalidPlan")
    expect(error.message).toContain("topological order")
  })
})
