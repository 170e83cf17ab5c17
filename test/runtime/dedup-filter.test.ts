import * as fs from "node:fs"
import * as path from "node:path"
import { Stream } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { runPlan } from "../../runtime/executor/run.ts"
import { readArtifactRows } from "../../runtime/store/store.ts"
import { PlanBuilder, readParams, runLocal, tempRoot } from "./fixtures.ts"

const root = tempRoot("dedup-filter")
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

const writeJsonl = (name: string, texts: ReadonlyArray<string>): string => {
  const file = path.join(root, "inputs", name)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, texts.map((text) => JSON.stringify({ text })).join("\n") + "\n")
  return file
}

const texts = async (nodeId: string): Promise<Array<string>> =>
  (await runLocal(Stream.runCollect(readArtifactRows(root, nodeId)))).flat().map((row) => row.text as string)

const dedupParams = (method: "exact" | "minhash") => ({ method, field: "text", ngram: 3, bands: 16, rows: 4, threshold: 0.7, seed: 1 })

const sentence = (seed: number): string =>
  Array.from({ length: 40 }, (_, index) => `word${(seed * 7919 + index * 104729) % 5000}`).join(" ")

describe("dedup and filter operators", () => {
  it("keeps duplicates only in the earliest input", async () => {
    const plan = new PlanBuilder()
    const first = plan.add("read", "read:first", readParams("first", [writeJsonl("first.jsonl", ["shared text", "only first"])]))
    const second = plan.add("read", "read:second", readParams("second", [writeJsonl("second.jsonl", ["shared text", "only second", "only second"])]))
    const dedup = plan.add("dedup", "dedup:second", dedupParams("exact"), [first, second])
    const summary = await runLocal(runPlan(plan.plan(), { root }))
    const node = summary.nodes.find((candidate) => candidate.name === "dedup:second")!
    expect(await texts(dedup)).toEqual(["only second"])
    expect(node.rowsIn).toBe(3)
    expect(node.drops).toEqual({ exact: 2 })
  })

  it("drops near duplicates with MinHash", async () => {
    const base = sentence(1)
    const nearCopy = base.replace(/word\d+$/, "changed")
    const plan = new PlanBuilder()
    const read = plan.add("read", "read:near", readParams("near", [writeJsonl("near.jsonl", [base, sentence(2), nearCopy, sentence(3)])]))
    const dedup = plan.add("dedup", "dedup:near", dedupParams("minhash"), [read])
    const summary = await runLocal(runPlan(plan.plan(), { root }))
    expect(summary.nodes.find((candidate) => candidate.name === "dedup:near")!.drops).toEqual({ minhash: 1 })
    expect(await texts(dedup)).toEqual([base, sentence(2), sentence(3)])
  })

  it("counts drops per rule and per reason", async () => {
    const plan = new PlanBuilder()
    const read = plan.add("read", "read:lengths", readParams("lengths", [writeJsonl("lengths.jsonl", ["short", "a b c d e f", "x".repeat(200), "one two three four"])]))
    const filter = plan.add("filter", "filter:lengths", {
      field: "text",
      rules: [{ rule: "length", minChars: 6 }, { rule: "length", maxWords: 5 }]
    }, [read])
    const summary = await runLocal(runPlan(plan.plan(), { root }))
    const node = summary.nodes.find((candidate) => candidate.name === "filter:lengths")!
    expect(node.drops).toEqual({ length: 2, "length.min_chars": 1, "length.max_words": 1 })
    expect(await texts(filter)).toEqual(["x".repeat(200), "one two three four"])
  })

  it("rejects an invalid rule as an invalid plan", async () => {
    const plan = new PlanBuilder()
    const read = plan.add("read", "read:bad-rule", readParams("bad-rule", [writeJsonl("bad-rule.jsonl", ["text"])]))
    plan.add("filter", "filter:bad-rule", { field: "text", rules: [{ rule: "length", minChars: "six" }] }, [read])
    const summary = await runLocal(runPlan(plan.plan(), { root }))
    const node = summary.nodes.find((candidate) => candidate.name === "filter:bad-rule")!
    expect(node.status).toBe("failed")
    expect(node.error).toContain("RunError(InvalidPlan)")
    expect(node.error).toContain("minChars")
  })
})
