/**
 * Swapping a synthetic generator: `plan --diff` names the generator node and its
 * descendants, `run` recomputes exactly those, and `report` compares the two runs.
 */
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import type { PlanDiff } from "../../compiler/plan.ts"
import type { RunSummary } from "../../runtime/executor/types.ts"

const ROOT = path.join(import.meta.dirname, "..", "..")
const CLI = path.join(ROOT, "cli", "entry.ts")
const RECIPE = path.join(ROOT, "recipes", "meta-cot-countdown.ts")
const SWAP = "generators.traces.search=bfs"

const mixwright = (args: ReadonlyArray<string>) => {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: ROOT, maxBuffer: 64 << 20 })
  if (result.status !== 0) throw new Error(`mixwright ${args.join(" ")} exited ${result.status}:\n${result.stderr.slice(-3000)}`)
  return result.stdout
}

let store: string
let diff: PlanDiff
let dfs: RunSummary
let bfs: RunSummary

beforeAll(() => {
  store = path.join(mkdtempSync(path.join(tmpdir(), "mixwright-swap-")), "store")
  diff = JSON.parse(mixwright(["plan", "--diff", RECIPE, RECIPE, "--set", SWAP, "--json"]))
  dfs = JSON.parse(mixwright(["run", RECIPE, "--store", store, "--run-id", "dfs", "--json"]))
  bfs = JSON.parse(mixwright(["run", RECIPE, "--store", store, "--run-id", "bfs", "--set", SWAP, "--json"]))
}, 600_000)

describe("generator swap", () => {
  it("invalidates the generator and its descendants", () => {
    const invalidated = diff.invalidated.map((n) => n.name).sort()
    expect(invalidated).toEqual(
      ["filter:traces", "generate:traces", "mix:search_pretrain", "qdc:traces", "select:traces", "stage:rl", "stage:sft", "tokenize:traces:cl100k_base"]
    )
    expect(diff.invalidated.find((n) => n.name === "generate:traces")!.changed).toEqual(["params.generator"])
    expect(diff.added).toEqual([])
    expect(diff.removed).toEqual([])
  })

  it("recomputes exactly the invalidated data nodes", () => {
    expect(dfs.status).toBe("succeeded")
    expect(bfs.status).toBe("succeeded")
    const invalidated = new Set(diff.invalidated.map((n) => n.name))
    const computed = bfs.nodes.filter((n) => n.status === "computed").map((n) => n.name).sort()
    const expected = [...invalidated].filter((name) => !name.startsWith("stage:")).sort()
    expect(computed).toEqual(expected)
    const cached = bfs.nodes.filter((n) => n.status === "cached").map((n) => n.name)
    expect(cached.length).toBe(dfs.totals.computed - expected.length)
    for (const name of cached) expect(invalidated.has(name), name).toBe(false)
  })

  it("changes the generated traces", () => {
    const dfsTokens = dfs.mixes[0]!.totalTokens
    const bfsTokens = bfs.mixes[0]!.totalTokens
    expect(dfsTokens).toBeGreaterThan(0)
    expect(bfsTokens).not.toBe(dfsTokens)
  })

  it("reports the two generators side by side", () => {
    const out = path.join(path.dirname(store), "report.html")
    mixwright(["report", "dfs", "bfs", "--store", store, "--out", out])
    const html = readFileSync(out, "utf8")
    expect(html).toContain("dfs (qdc:traces)")
    expect(html).toContain("bfs (qdc:traces)")
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(4)
    const json = JSON.parse(readFileSync(out.replace(/\.html$/, ".json"), "utf8"))
    expect(JSON.stringify(json)).toContain("distinct")
    expect(existsSync(out)).toBe(true)
  })
})
