import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import * as readline from "node:readline"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { runPlan } from "../../runtime/executor/run.ts"
import { isCommitted } from "../../runtime/store/store.ts"
import { dataFileHashes, hasData, pipelinePlan, runLocal, tempRoot } from "./fixtures.ts"

const CHILD = path.join(import.meta.dirname, "run-plan-child.ts")

/** Starts the child and SIGKILLs it right after the first node reports `computed`. */
const runAndKill = (planPath: string, root: string): Promise<{ killed: boolean; finishedNodes: number }> =>
  new Promise((resolve, reject) => {
    // detached: the child leads its own process group, so one kill reaches npx and the node it starts.
    const child = spawn("npx", ["node", CHILD, planPath, root], { stdio: ["ignore", "pipe", "pipe"], detached: true })
    let finishedNodes = 0
    let killed = false
    let stderr = ""
    child.stderr.on("data", (chunk) => (stderr += chunk))
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      const event = JSON.parse(line)
      if (event.type === "node-finished" && event.status === "computed") {
        finishedNodes++
        if (!killed) {
          killed = true
          process.kill(-child.pid!, "SIGKILL")
        }
      }
    })
    child.on("error", reject)
    child.on("exit", (code, signal) => {
      if (!killed && code !== 0) reject(new Error(`child exited with ${code ?? signal}: ${stderr}`))
      else resolve({ killed, finishedNodes })
    })
  })

describe.skipIf(!hasData)("interrupted run", () => {
  const roots: Array<string> = []
  afterAll(() => roots.forEach((root) => fs.rmSync(root, { recursive: true, force: true })))

  it("resumes after SIGKILL to byte-identical outputs", async () => {
    const plan = pipelinePlan({ seed: 99 })
    const killedRoot = tempRoot("killed")
    const cleanRoot = tempRoot("clean")
    roots.push(killedRoot, cleanRoot)
    const planPath = path.join(killedRoot, "plan-input.json")
    fs.writeFileSync(planPath, JSON.stringify(plan))

    const outcome = await runAndKill(planPath, killedRoot)
    expect(outcome.killed).toBe(true)
    const committedAfterKill = await runLocal(Effect.forEach(plan.nodes, (node) => isCommitted(killedRoot, node.id)))
    expect(committedAfterKill.filter(Boolean).length).toBeGreaterThan(0)
    expect(committedAfterKill.filter(Boolean).length).toBeLessThan(plan.nodes.length)

    const resumed = await runLocal(runPlan(plan, { root: killedRoot, runId: "resumed" }))
    expect(resumed.status).toBe("succeeded")
    expect(resumed.totals.cached).toBe(committedAfterKill.filter(Boolean).length)

    await runLocal(runPlan(plan, { root: cleanRoot, runId: "clean" }))
    const killedFiles = dataFileHashes(path.join(killedRoot, "artifacts"))
    expect(Object.keys(killedFiles).length).toBeGreaterThan(plan.nodes.length)
    const cleanFiles = dataFileHashes(path.join(cleanRoot, "artifacts"))
    expect(killedFiles).toEqual(cleanFiles)
  })
})

describe.skipIf(!hasData)("aborted run", () => {
  const root = tempRoot("aborted")
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

  it("stops on abort and commits no partial node", async () => {
    const plan = pipelinePlan({ seed: 5 })
    const controller = new AbortController()
    const error = await runLocal(Effect.flip(runPlan(plan, {
      root,
      runId: "aborted",
      concurrency: 1,
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === "node-finished" && event.status === "computed") controller.abort()
      }
    })))
    expect(error.reason).toBe("Interrupted")
    const committed = await runLocal(Effect.forEach(plan.nodes, (node) => isCommitted(root, node.id)))
    expect(committed.filter(Boolean).length).toBeGreaterThan(0)
    expect(committed.filter(Boolean).length).toBeLessThan(plan.nodes.length)
    expect(fs.existsSync(path.join(root, "runs/aborted/plan.json"))).toBe(true)
    expect(fs.existsSync(path.join(root, "runs/aborted/summary.json"))).toBe(false)
    const resumed = await runLocal(runPlan(plan, { root }))
    expect(resumed.status).toBe("succeeded")
  })
})
