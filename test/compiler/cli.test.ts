import { Schema } from "effect"
import { execFileSync, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { PlanSchema } from "../../compiler/plan-schema.ts"
import { baseRecipe, ROOT, writeRecipe } from "./support.ts"

const CLI = path.join(ROOT, "cli", "entry.ts")
const STABLELM = path.join(ROOT, "recipes", "stablelm-2-1_6b.ts")

const mixwright = (...args: Array<string>) => spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: ROOT })

describe("mixwright plan", () => {
  it("prints every Table 1 row of the StableLM 2 recipe", () => {
    const result = mixwright("plan", STABLELM)
    expect(result.status).toBe(0)
    for (const row of ["RefinedWeb", "CulturaX NL", "PhilPapers", "FanFics", "StarCoder", "PileOfLaw", "DM Math", "RedPajama Wiki", "Restruct-v1"]) {
      expect(result.stdout).toContain(row)
    }
    expect(result.stdout).toMatch(/Mix pretrain: 2\.000T tokens, arcade100k, sequence length 4096/)
    expect(result.stdout).toContain("stage:gguf")
  })

  it("emits JSON that matches the documented schema", () => {
    const result = mixwright("plan", STABLELM, "--profile", "sample", "--json")
    expect(result.status).toBe(0)
    const plan = Schema.decodeUnknownSync(PlanSchema)(JSON.parse(result.stdout), { onExcessProperty: "error" })
    const mix = plan.mixes[0]!
    expect(mix.components.length).toBe(28)
    expect(mix.totalTokens).toBe(2_000_000)
    const shares = mix.components.reduce((sum, c) => sum + c.weight!, 0)
    expect(shares).toBeCloseTo(1, 3)
    expect(mix.components.every((c) => c.marks.size === "declared" && c.marks.tokens === "derived")).toBe(true)
    expect(plan.nodes.some((n) => n.kind === "export")).toBe(true)
  })

  it("marks Table 1 numbers missing in the full plan", () => {
    const result = mixwright("plan", STABLELM, "--json")
    const plan = JSON.parse(result.stdout)
    const component = plan.mixes[0].components[0]
    expect(component.marks).toEqual({ size: "missing", weight: "missing", tokens: "missing", epochs: "declared" })
    expect(component.epochs).toBe(2)
  })

  it("prints a recipe error without a stack trace", () => {
    const recipe = baseRecipe()
    recipe.mixes.main.components[0].weight = 1.7
    const result = mixwright("plan", writeRecipe(recipe))
    expect(result.status).toBe(1)
    expect(result.stderr).toContain("mixes.main.components[0].weight: expected a number in (0, 1], got 1.7")
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })

  it("lists nodes a swap invalidates with --diff", () => {
    const before = writeRecipe(baseRecipe())
    const recipe = baseRecipe()
    recipe.mixes.main.seed = 99
    const after = writeRecipe(recipe)
    const result = mixwright("plan", "--diff", before, after, "--json")
    expect(result.status).toBe(0)
    const diff = JSON.parse(result.stdout)
    expect(diff.invalidated.map((n: { name: string }) => n.name)).toEqual(["mix:main"])
    expect(diff.added).toEqual([])
  })

  it("answers --help for every command", () => {
    for (const command of [[], ["plan"], ["emit"], ["run"], ["ls"], ["gc"], ["status"], ["report"], ["task"]]) {
      const result = mixwright(...command, "--help")
      expect(result.status, `mixwright ${command.join(" ")} --help`).toBe(0)
      expect(result.stdout).toContain("USAGE")
    }
  })
})

describe("mixwright emit gpt-neox", () => {
  it("writes data paths and weights from the compiled mix", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "mixwright-emit-"))
    const out = path.join(dir, "neox.json")
    execFileSync(process.execPath, [CLI, "emit", "gpt-neox", STABLELM, "--stage", "pretrain", "--profile", "sample", "--out", out], { cwd: ROOT })
    const config = JSON.parse(readFileSync(out, "utf8"))
    expect(config.num_layers).toBe(24)
    expect(config.hidden_size).toBe(2048)
    expect(config.num_attention_heads).toBe(32)
    expect(config.seq_length).toBe(4096)
    expect(config.rotary_pct).toBe(0.25)
    expect(config.optimizer).toEqual({ type: "Adam", params: { lr: 1e-3, betas: [0.9, 0.95], eps: 1e-8 } })
    expect(config.min_lr).toBe(1e-4)
    expect(config.train_iters).toBe(540_000)
    expect(config.lr_decay_style).toBe("hybrid_cosine_inv_sqrt_2")
    expect(config.train_data_paths.length).toBe(28)
    expect(config.train_data_weights.length).toBe(28)
    expect(config.train_data_weights.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 3)
    expect(config.train_data_paths[0]).toMatch(/\/artifacts\/[0-9a-f]{64}\/RefinedWeb$/)
  })

  it("rejects a stage that is not pretraining", () => {
    const result = mixwright("emit", "gpt-neox", STABLELM, "--stage", "dpo")
    expect(result.status).toBe(1)
    expect(result.stderr).toContain("gpt-neox configs are for pretrain stages; dpo is a dpo stage")
  })

  it("explains missing weights in the full plan", () => {
    const result = mixwright("emit", "gpt-neox", STABLELM, "--stage", "pretrain")
    expect(result.status).toBe(1)
    expect(result.stderr).toContain("has components without a weight")
  })
})
