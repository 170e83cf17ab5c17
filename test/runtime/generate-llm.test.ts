import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runPlan } from "../../runtime/executor/run.ts"
import { type OpenAiTestServer, startOpenAiServer } from "../support/openai-server.ts"
import { PlanBuilder, readParams, runLocal, tempRoot } from "./fixtures.ts"

const root = tempRoot("generate-llm")
let server: OpenAiTestServer

beforeAll(async () => {
  server = await startOpenAiServer()
})
afterAll(async () => {
  await server?.close()
  fs.rmSync(root, { recursive: true, force: true })
})

const problems = [
  { numbers: [4, 7, 8, 8], target: 24 },
  { numbers: [1, 2, 3, 4], target: 24 },
  { numbers: [3, 3, 8, 8], target: 24 }
]

const llmPlan = () => {
  const file = path.join(root, "inputs/problems.jsonl")
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, problems.map((problem) => JSON.stringify({
    ...problem,
    prompt: `Use the numbers [${problem.numbers.join(", ")}] and the operations + - * / to reach ${problem.target}.`
  })).join("\n") + "\n")
  const plan = new PlanBuilder()
  const read = plan.add("read", "read:problems", readParams("problems", [file], { fields: { text: "prompt", prompt: "prompt", numbers: "numbers", target: "target" } }))
  plan.add("generate", "generate:answers", {
    generator: { type: "llm", endpoint: server.url, model: "test-model", prompt: "{{prompt}}", n: 2, seed: 0, concurrency: 2 },
    verify: "verified"
  }, [read])
  return plan.plan()
}

describe("llm generate node", () => {
  it("keeps verified samples and reuses the response cache", async () => {
    const plan = llmPlan()
    const first = await runLocal(runPlan(plan, { root, runId: "first" }))
    const generate = first.nodes.find((node) => node.name === "generate:answers")!
    expect(first.status).toBe("succeeded")
    expect(generate.rowsIn).toBe(3)
    expect(generate.rowsOut + generate.drops.verify).toBe(6)
    expect(generate.rowsOut).toBeGreaterThan(0)
    const requests = server.requests.length
    expect(requests).toBe(6)

    const again = await runLocal(runPlan(plan, { root, runId: "again", force: ["generate:answers"] }))
    expect(again.nodes.find((node) => node.name === "generate:answers")!.rowsOut).toBe(generate.rowsOut)
    expect(server.requests.length).toBe(requests)
  })
})
