import { describe, expect, it } from "vitest"
import { baseRecipe, recipeErrorOf, writeRecipe } from "./support.ts"

describe("recipe errors", () => {
  it("names path, expectation and value for a bad weight", async () => {
    const recipe = baseRecipe()
    recipe.mixes.main.components[2].weight = 1.7
    const error = await recipeErrorOf(writeRecipe(recipe))
    expect(error.reason).toBe("Invalid")
    expect(error.issues).toContainEqual({ path: "mixes.main.components[2].weight", message: "expected a number in (0, 1], got 1.7" })
    expect(error.message).toContain("mixes.main.components[2].weight: expected a number in (0, 1], got 1.7")
  })

  it("reports the wrong type with the value found", async () => {
    const recipe = baseRecipe()
    recipe.mixes.main.seed = "seven"
    const error = await recipeErrorOf(writeRecipe(recipe))
    expect(error.issues[0]!.path).toBe("mixes.main.seed")
    expect(error.issues[0]!.message).toContain('got "seven"')
  })

  it("reports missing and unknown fields", async () => {
    const recipe = baseRecipe()
    delete recipe.sources.web.uri
    recipe.mixes.main.wieght = 1
    const error = await recipeErrorOf(writeRecipe(recipe))
    const paths = error.issues.map((i) => i.path)
    expect(paths).toContain("sources.web.uri")
    expect(paths).toContain("mixes.main.wieght")
    expect(error.issues.find((i) => i.path === "sources.web.uri")!.message).toBe("missing required field")
  })

  it("reports every problem, not only the first", async () => {
    const recipe = baseRecipe()
    recipe.mixes.main.components[0].weight = 0
    recipe.mixes.main.components[1].weight = 2
    const error = await recipeErrorOf(writeRecipe(recipe))
    expect(error.issues.length).toBe(2)
  })

  it("rejects malformed unit strings", async () => {
    const recipe = baseRecipe()
    recipe.mixes.main.totalTokens = "lots"
    recipe.sources.books.size.bytes = "8 parsecs"
    const error = await recipeErrorOf(writeRecipe(recipe))
    expect(error.issues.map((i) => i.path).sort()).toEqual(["mixes.main.totalTokens", "sources.books.size.bytes"])
  })

  it("suggests the closest name for an unknown reference", async () => {
    const recipe = baseRecipe()
    recipe.mixes.main.components[1].source = "bokos"
    const error = await recipeErrorOf(writeRecipe(recipe))
    expect(error.reason).toBe("UnknownReference")
    expect(error.issues[0]!.path).toBe("mixes.main.components[1].source")
    expect(error.issues[0]!.message).toBe(
      'unknown source or generator "bokos"; the recipe defines books, chat, code, prefs, web; did you mean "books"?'
    )
  })

  it("rejects unknown transform pipelines and stages", async () => {
    const recipe = baseRecipe()
    recipe.sources.web.transforms = "claen"
    recipe.stages.sft.from = "pree"
    const error = await recipeErrorOf(writeRecipe(recipe))
    expect(error.issues.find((i) => i.path === "sources.web.transforms")!.message).toContain('did you mean "clean"?')
    expect(error.issues.find((i) => i.path === "stages.sft.from")!.message).toContain('did you mean "pre"?')
  })

  it("catches a cycle between stages", async () => {
    const recipe = baseRecipe()
    recipe.stages.pre.from = "dpo"
    const error = await recipeErrorOf(writeRecipe(recipe))
    expect(error.reason).toBe("Cycle")
    expect(error.issues.map((i) => i.message)).toContain("cycle: pre -> dpo -> sft -> pre")
  })

  it("catches a cycle between generators", async () => {
    const recipe = baseRecipe()
    recipe.generators = {
      a: { type: "llm", endpoint: "http://127.0.0.1:1/v1", model: "m", prompt: "{{text}}", input: "b" },
      b: { type: "llm", endpoint: "http://127.0.0.1:1/v1", model: "m", prompt: "{{text}}", input: "a" }
    }
    const error = await recipeErrorOf(writeRecipe(recipe))
    expect(error.reason).toBe("Cycle")
    expect(error.issues[0]!.message).toMatch(/^cycle: a -> b -> a/)
  })

  it("requires prompt, chosen and rejected for DPO", async () => {
    const recipe = baseRecipe()
    recipe.stages.dpo.data = "chat"
    const error = await recipeErrorOf(writeRecipe(recipe))
    expect(error.reason).toBe("Incompatible")
    expect(error.issues[0]).toEqual({
      path: "stages.dpo.data",
      message: 'a dpo stage needs prompt/chosen/rejected fields, but "chat" has messages; map them under fields'
    })
  })

  it("requires messages or prompt and response for SFT", async () => {
    const recipe = baseRecipe()
    recipe.stages.sft.data = "web"
    const error = await recipeErrorOf(writeRecipe(recipe))
    expect(error.issues[0]!.message).toContain("a sft stage needs messages or prompt/response fields")
  })

  it("requires text or tokens for pretraining mixes", async () => {
    const recipe = baseRecipe()
    recipe.mixes.main.components.push({ source: "prefs", weight: 0.1 })
    const error = await recipeErrorOf(writeRecipe(recipe))
    expect(error.issues[0]!.path).toBe("mixes.main.components[3].source")
    expect(error.issues[0]!.message).toContain("needs a text or tokens field")
  })

  it("requires exactly one of weight, epochs or tokens", async () => {
    const recipe = baseRecipe()
    recipe.mixes.main.components[0].epochs = 2
    delete recipe.mixes.main.components[1].weight
    const error = await recipeErrorOf(writeRecipe(recipe))
    expect(error.issues).toContainEqual({ path: "mixes.main.components[0]", message: "give only one of weight, epochs or tokens, got weight and epochs" })
    expect(error.issues).toContainEqual({ path: "mixes.main.components[1]", message: "give one of weight, epochs or tokens" })
  })

  it("reports YAML syntax errors with a line", async () => {
    const error = await recipeErrorOf(writeRecipe(undefined, ".yaml", "name: x\nsources: [unclosed\n"))
    expect(error.reason).toBe("Syntax")
    expect(error.message).toMatch(/invalid YAML at line \d+/)
  })

  it("reports a missing file", async () => {
    const error = await recipeErrorOf("/nonexistent/recipe.yaml")
    expect(error.reason).toBe("NotFound")
    expect(error.message).toContain("/nonexistent/recipe.yaml: file not found")
  })

  it("validates --set overrides like the recipe", async () => {
    const file = writeRecipe(baseRecipe())
    const bad = await recipeErrorOf(file, { set: ["mixes.main.components[0].weight=1.7"] })
    expect(bad.issues[0]).toEqual({ path: "mixes.main.components[0].weight", message: "expected a number in (0, 1], got 1.7" })
    const unknown = await recipeErrorOf(file, { set: ["mixes.mian.seed=3"] })
    expect(unknown.reason).toBe("BadOverride")
    expect(unknown.issues[0]!.message).toContain('did you mean "main"?')
    const malformed = await recipeErrorOf(file, { set: ["no-equals-sign"] })
    expect(malformed.issues[0]!.message).toContain("write path=value")
  })

  it("rejects bad --set paths precisely", async () => {
    const file = writeRecipe(baseRecipe())
    const outOfRange = await recipeErrorOf(file, { set: ["mixes.main.components[9].weight=0.1"] })
    expect(outOfRange.issues).toEqual([
      { path: "mixes.main.components[9].weight", message: "index 9 is out of range; mixes.main.components has 3 entries (append with index 3)" }
    ])
    const empty = await recipeErrorOf(file, { set: ["mixes..main=1"] })
    expect(empty.issues[0]!.message).toContain("write path=value")
    const unknownMix = await recipeErrorOf(file, { set: ["mixes.nope.seed=3"] })
    expect(unknownMix.issues[0]!.message).toMatch(/^unknown mix "nope"/)
  })

  it("says a number was expected in plain words", async () => {
    const recipe = baseRecipe()
    recipe.mixes.main.seed = "abc"
    const error = await recipeErrorOf(writeRecipe(recipe))
    expect(error.issues[0]!.message).toBe('expected a number, got "abc"')
  })

  it("rejects fixed targets above the budget", async () => {
    const recipe = baseRecipe()
    recipe.mixes.main.components = [{ source: "web", tokens: "5M" }]
    const error = await recipeErrorOf(writeRecipe(recipe))
    expect(error.reason).toBe("Incompatible")
    expect(error.issues[0]!.path).toBe("mixes.main")
    expect(error.issues[0]!.message).toContain("above totalTokens 4.000M")
  })

  it("rejects an unknown profile", async () => {
    const error = await recipeErrorOf(writeRecipe(baseRecipe()), { profile: "smaple" })
    expect(error.issues[0]!.path).toBe("--profile")
  })
})
