import { describe, expect, it } from "vitest"
import { stringify as toYaml } from "yaml"
import { canonicalJson, nodeId } from "../../compiler/hash.ts"
import { diffPlans, type Plan } from "../../compiler/plan.ts"
import { baseRecipe, planOf, writeRecipe } from "./support.ts"

/** Reverses key order at every level, to prove order does not matter. */
const reverseKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(reverseKeys)
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)]))
  }
  return value
}

const idsByName = (plan: Plan) => new Map(plan.nodes.map((n) => [n.name, n.id]))

describe("canonical JSON", () => {
  it("sorts keys and drops undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}')
  })

  it("rejects values JSON cannot carry", () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow("cannot hash $.a: non-finite number NaN")
    expect(() => canonicalJson({ a: new Map() })).toThrow("an instance of Map")
    expect(() => canonicalJson({ f: () => 1 })).toThrow("a function")
  })

  it("gives a node id independent of key order", () => {
    const a = nodeId({ kind: "filter", params: { field: "text", rules: [] }, inputs: ["x"], version: "1" })
    const b = nodeId({ kind: "filter", params: { rules: [], field: "text" }, inputs: ["x"], version: "1" })
    expect(a).toBe(b)
    expect(a).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe("node identity", () => {
  it("ignores key order and file format", async () => {
    const recipe = baseRecipe()
    const json = await planOf(writeRecipe(recipe))
    const reversed = await planOf(writeRecipe(reverseKeys(recipe)))
    const yaml = await planOf(writeRecipe(undefined, ".yaml", toYaml(recipe)))
    expect(reversed.nodes.map((n) => n.id).sort()).toEqual(json.nodes.map((n) => n.id).sort())
    expect(yaml.nodes.map((n) => n.id).sort()).toEqual(json.nodes.map((n) => n.id).sort())
  })

  it("is stable across runs", async () => {
    const first = await planOf(writeRecipe(baseRecipe()))
    const second = await planOf(writeRecipe(baseRecipe()))
    expect(second.nodes.map((n) => n.id)).toEqual(first.nodes.map((n) => n.id))
  })

  // Each row changes one field; `changed` lists exactly the nodes whose ids must change.
  const cases: ReadonlyArray<{ name: string; edit: (r: any) => void; changed: ReadonlyArray<string> }> = [
    { name: "description only", edit: (r) => (r.description = "new words"), changed: [] },
    { name: "source license and category", edit: (r) => ((r.sources.books.license = "CC0"), (r.sources.books.category = "Novels")), changed: [] },
    {
      name: "books uri",
      edit: (r) => (r.sources.books.uri = "other.parquet"),
      changed: ["read:books", "tokenize:books:cl100k_base", "mix:main", "export:main", "stage:pre", "stage:sft", "stage:dpo"]
    },
    {
      name: "dedup threshold",
      edit: (r) => (r.transforms.clean[1].dedup.threshold = 0.9),
      changed: ["dedup:web", "tokenize:web:cl100k_base", "mix:main", "export:main", "stage:pre", "stage:sft", "stage:dpo"]
    },
    { name: "mix seed", edit: (r) => (r.mixes.main.seed = 7), changed: ["mix:main"] },
    { name: "dpo beta", edit: (r) => (r.stages.dpo.beta = 0.1), changed: ["stage:dpo"] },
    { name: "sft data mapping", edit: (r) => (r.sources.chat.fields.messages = "conversation"), changed: ["read:chat", "stage:sft", "stage:dpo"] }
  ]

  for (const row of cases) {
    it(`changes exactly the affected nodes: ${row.name}`, async () => {
      const before = await planOf(writeRecipe(baseRecipe()))
      const recipe = baseRecipe()
      row.edit(recipe)
      const after = await planOf(writeRecipe(recipe))
      const beforeIds = idsByName(before)
      const changed = after.nodes.filter((n) => beforeIds.get(n.name) !== n.id).map((n) => n.name)
      expect(changed.sort()).toEqual([...row.changed].sort())
      const diff = diffPlans(before, after)
      expect(diff.invalidated.map((n) => n.name).sort()).toEqual([...row.changed].sort())
      expect(diff.unchanged).toBe(after.nodes.length - row.changed.length)
    })
  }

  it("plans a recipe without mixes", async () => {
    const recipe = baseRecipe()
    delete recipe.mixes
    delete recipe.stages.pre
    delete recipe.stages.sft.from
    const plan = await planOf(writeRecipe(recipe))
    expect(plan.mixes).toEqual([])
    expect(plan.nodes.map((n) => n.name)).toContain("stage:sft")
  })

  it("applies --set like an edited file", async () => {
    const file = writeRecipe(baseRecipe())
    const recipe = baseRecipe()
    recipe.mixes.main.seed = 7
    const edited = await planOf(writeRecipe(recipe))
    const overridden = await planOf(file, { set: ["mixes.main.seed=7"] })
    expect(overridden.nodes.map((n) => n.id)).toEqual(edited.nodes.map((n) => n.id))
  })
})
