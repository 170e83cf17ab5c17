import * as fs from "node:fs"
import * as path from "node:path"
import { Stream } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { runPlan } from "../../runtime/executor/run.ts"
import { readArtifactRows } from "../../runtime/store/store.ts"
import { PlanBuilder, runLocal, tempRoot } from "./fixtures.ts"

const root = tempRoot("synthetic")
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

/** generate (search traces) -> filter (qdc rule + selection) -> qdc, tokenize -> mix. */
const syntheticPlan = () => {
  const plan = new PlanBuilder()
  const generated = plan.add("generate", "generate:countdown", {
    generator: { type: "search-trace", task: "countdown", search: "dfs", count: 40, seed: 3, maxNodes: 500 },
    verify: "verified"
  })
  const selected = plan.add("filter", "select:countdown", {
    field: "trace",
    rules: [{ rule: "qdc", metric: "steps", min: 2 }],
    select: { limit: 10, seed: 5, stratifyBy: "depth" }
  }, [generated])
  plan.add("qdc", "qdc:countdown", { metrics: ["quality", "diversity", "complexity"], field: "trace" }, [selected])
  const tokens = plan.add("tokenize", "tokenize:countdown", { tokenizer: "cl100k_base", field: "text", appendEos: true }, [selected])
  plan.add("mix", "mix:sft", {
    seed: 1,
    sequenceLength: 256,
    packing: "none",
    totalTokens: null,
    components: [{ name: "countdown", weight: null, tokens: null, epochs: 2 }]
  }, [tokens])
  return plan.plan()
}

describe("generated data", () => {
  it("runs generate, select, qdc and an epochs-based mix", async () => {
    const plan = syntheticPlan()
    const summary = await runLocal(runPlan(plan, { root, runId: "synthetic" }))
    const byName = new Map(summary.nodes.map((node) => [node.name, node]))
    expect(summary.status).toBe("succeeded")

    const generate = byName.get("generate:countdown")!
    expect(generate.rowsOut + (generate.drops["verify.verified"] ?? 0)).toBe(40)
    expect(generate.rowsOut).toBeGreaterThan(0)

    const select = byName.get("select:countdown")!
    expect(select.rowsOut).toBe(10)
    expect(select.rowsIn).toBe(generate.rowsOut)

    expect(summary.qdc).toHaveLength(1)
    const report = summary.qdc[0].report as { rows: number; diversity: { distinct1: number } }
    expect(report.rows).toBe(10)
    expect(report.diversity.distinct1).toBeGreaterThan(0)
    expect(path.basename(summary.outputs["qdc:countdown"][0])).toBe("qdc.json")

    const tokens = byName.get("tokenize:countdown")!
    const mix = summary.mixes[0]
    expect(mix.components[0].plannedTokens).toBe(tokens.tokensOut * 2)
    expect(mix.components[0].measuredTokens).toBe(tokens.tokensOut * 2)
    const mixNode = plan.nodes.find((node) => node.kind === "mix")!
    const rows = await runLocal(Stream.runCollect(readArtifactRows(root, mixNode.id)))
    const lengths = rows.flatMap((batch) => batch.map((row) => (row.tokens as Uint32Array).length))
    expect(lengths.every((length) => length <= 256)).toBe(true)
    expect(lengths.reduce((sum, length) => sum + length, 0)).toBe(tokens.tokensOut * 2)
  })
})
