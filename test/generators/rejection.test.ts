import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { countdownPrompt } from "../../connectors/generators/countdown/index.ts"
import { decodeLlmGeneratorConfig, makeLlmGenerator } from "../../connectors/generators/llm/index.ts"
import { countdownVerifier, extractAnswer, rejectionSample } from "../../connectors/generators/rejection.ts"
import { type OpenAiTestServer, startOpenAiServer } from "../support/openai-server.ts"

const rows = [
  { prompt: "p1", sampleIndex: 0, completion: "bad" },
  { prompt: "p1", sampleIndex: 1, completion: "good" },
  { prompt: "p1", sampleIndex: 2, completion: "good too" },
  { prompt: "p2", sampleIndex: 0, completion: "bad" },
  { prompt: "p2", sampleIndex: 1, completion: "bad" }
]
const isGood = (row: Record<string, unknown>) => String(row.completion).startsWith("good")

describe("rejectionSample", () => {
  it("verified keeps passing rows", () => {
    const result = rejectionSample(rows, isGood, { mode: "verified" })
    expect(result.rows.map((r) => r.completion)).toEqual(["good", "good too"])
    expect(result.stats).toEqual({ input: 5, kept: 2, groups: 2, groupsWithoutPass: 1 })
  })

  it("best-of-n keeps one per prompt", () => {
    const result = rejectionSample(rows, isGood, { mode: "best-of-n", n: 3 })
    expect(result.rows).toEqual([{ prompt: "p1", sampleIndex: 1, completion: "good", score: 1 }])
    expect(result.stats.groupsWithoutPass).toBe(1)
  })

  it("best-of-n considers only n samples", () => {
    expect(rejectionSample(rows, isGood, { mode: "best-of-n", n: 1 }).rows).toEqual([])
    const kept = rejectionSample(rows, isGood, { mode: "best-of-n", n: 1, keepFailed: true }).rows
    expect(kept.map((r) => [r.prompt, r.sampleIndex, r.score])).toEqual([["p1", 0, 0], ["p2", 0, 0]])
  })

  it("best-of-n picks the highest score", () => {
    const scored = rows.map((r, i) => ({ ...r, quality: [3, 1, 5, 2, 2][i] }))
    const result = rejectionSample(scored, (r) => Number(r.quality), { mode: "best-of-n", n: 3, groupBy: "prompt" })
    expect(result.rows.map((r) => [r.prompt, r.sampleIndex])).toEqual([["p1", 2], ["p2", 0]])
  })

  it("best-of-n requires n", () => {
    expect(() => rejectionSample(rows, isGood, { mode: "best-of-n" })).toThrow(/needs 'n'/)
  })

  it("extracts answers", () => {
    expect(extractAnswer("think\nAnswer: 3+4\nbye")).toBe("3+4")
    expect(extractAnswer("one\n 2+2 \n")).toBe("2+2")
  })
})

describe("rejection over the LLM generator", () => {
  let server: OpenAiTestServer
  beforeAll(async () => {
    server = await startOpenAiServer()
  })
  afterAll(async () => {
    await server.close()
  })

  it("keeps verified countdown answers", async () => {
    const problems = [{ numbers: [25, 5, 4], target: 24 }, { numbers: [6, 6, 5, 9], target: 24 }]
    const config = decodeLlmGeneratorConfig({ type: "llm", endpoint: server.url, model: "m", prompt: "{{prompt}}", n: 4 })
    const generator = makeLlmGenerator(config, { cache: null })
    const out = await Effect.runPromise(generator.generate(problems.map((problem) => ({ problem, prompt: countdownPrompt(problem) }))))
    expect(out.length).toBe(8)
    const verified = rejectionSample(out, countdownVerifier(), { mode: "verified" })
    // The test server solves on even seeds (sample indexes 0 and 2).
    expect(verified.rows.map((r) => r.sampleIndex)).toEqual([0, 2, 0, 2])
    const best = rejectionSample(out, countdownVerifier(), { mode: "best-of-n", n: 4 })
    expect(best.rows.length).toBe(2)
    expect(best.rows.every((r) => r.sampleIndex === 0)).toBe(true)
  })
})
