/**
 * Runs the executor's real pipeline plan with `runPlan` on the Slurm backend, each
 * shard as an array task running `runShard` in its own Node process, and compares
 * the artifacts with a local run of the same plan.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { makeSlurmBackend, type SlurmEvent } from "../../runtime/backends/slurm/index.ts"
import { runPlan } from "../../runtime/executor/run.ts"
import type { RunEvent } from "../../runtime/executor/types.ts"
import { dataFileHashes, hasData, pipelinePlan, runLocal, tempRoot } from "../runtime/fixtures.ts"
import { clusterUnavailableReason } from "./helpers.ts"
import { SHARED_DATA } from "../support/data.ts"

const unavailable = clusterUnavailableReason()
if (unavailable !== undefined) console.warn(`test/slurm: skipping the Slurm backend test: ${unavailable}`)
if (!hasData) console.warn(`test/slurm: skipping the Slurm backend test: ${SHARED_DATA} is missing`)

describe.skipIf(unavailable !== undefined || !hasData)("slurm backend under runPlan", () => {
  it("matches a local run of the pipeline", async () => {
    const plan = pipelinePlan({ totalTokens: 20_000 })
    const localRoot = tempRoot("slurm-local")
    const slurmRoot = tempRoot("slurm-backend")
    const nodeBinary = path.join(process.cwd(), "node_modules", ".bin", "node")
    const runShardScript = path.join(import.meta.dirname, "fixtures", "run-shard.ts")
    const events: Array<SlurmEvent> = []
    const backend = makeSlurmBackend({
      storeDir: slurmRoot,
      taskCommand: ({ planPath, root, nodeId }) => [nodeBinary, runShardScript, planPath, root, nodeId],
      resources: () => ({ cpus: 1, memMB: 2000, timeLimit: "10:00" }),
      pollInterval: "300 millis",
      onEvent: (event) => events.push(event)
    })

    const local = await runLocal(runPlan(plan, { root: localRoot, runId: "local", concurrency: 2 }))
    const runEvents: Array<RunEvent> = []
    const slurm = await runLocal(runPlan(plan, { root: slurmRoot, runId: "slurm", onEvent: (event) => runEvents.push(event) }, backend))

    expect(slurm.status).toBe("succeeded")
    expect(slurm.nodes.map((node) => node.status)).toEqual(plan.nodes.map(() => "computed"))
    expect(slurm.nodes.map((node) => node.rowsOut)).toEqual(local.nodes.map((node) => node.rowsOut))
    expect(slurm.nodes.map((node) => node.tokensOut)).toEqual(local.nodes.map((node) => node.tokensOut))
    expect(dataFileHashes(path.join(slurmRoot, "artifacts"))).toEqual(dataFileHashes(path.join(localRoot, "artifacts")))
    // Every node ran as Slurm jobs, one array per node, with logs in the store.
    const submitted = events.filter((event) => event._tag === "JobSubmitted")
    expect(new Set(submitted.map((event) => event.nodeId))).toEqual(new Set(plan.nodes.map((node) => node.id)))
    expect(fs.readdirSync(path.join(slurmRoot, "slurm", "logs", plan.nodes[0].id)).length).toBeGreaterThan(0)
    // Each shard's commit record reached the executor as a progress event.
    for (const node of plan.nodes) {
      const progress = runEvents.filter((event) => event.type === "node-progress" && event.nodeId === node.id)
      const started = runEvents.find((event) => event.type === "node-started" && event.nodeId === node.id)
      expect(started?.type === "node-started" ? progress.length : undefined, node.name).toBe(started?.type === "node-started" ? started.shards : -1)
    }
  }, 180_000)
})
