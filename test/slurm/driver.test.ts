/**
 * Runs the Slurm driver against a real cluster: real sbatch, squeue, scontrol and
 * scancel, with tiny shell tasks. Skips when no Slurm node is idle.
 */
import { execFileSync, spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Effect, Exit, Fiber } from "effect"
import { describe, expect, it } from "vitest"
import { StorageLive } from "../../connectors/storage/layer.ts"
import { runNodesOnSlurm, type SlurmEvent, type SlurmNode } from "../../runtime/backends/slurm/index.ts"
import { clusterUnavailableReason, makeWorkspace, taskState, type Workspace } from "./helpers.ts"

const unavailable = clusterUnavailableReason()
if (unavailable !== undefined) console.warn(`test/slurm: skipping the cluster tests: ${unavailable}`)

const POLL = "300 millis"

// Other test files may share the cluster's few cores at the same time, so jobs can
// queue for a while before they start.
const CLUSTER_TEST_TIMEOUT_MS = 180_000

const node = (name: string, shards: number, dependsOn: ReadonlyArray<string> = []): SlurmNode => ({
  id: name,
  name,
  shards,
  dependsOn,
  resources: { cpus: 1, memMB: 64, timeLimit: "5:00" }
})

const run = (workspace: Workspace, nodes: ReadonlyArray<SlurmNode>, extra: { retries?: number; onEvent?: (event: SlurmEvent) => void } = {}) =>
  runNodesOnSlurm({
    nodes,
    taskCommand: (nodeId) => workspace.taskCommand(nodeId, nodes.find((candidate) => candidate.id === nodeId)!.shards),
    storeDir: workspace.dir,
    retries: extra.retries ?? 2,
    pollInterval: POLL,
    onEvent: extra.onEvent
  }).pipe(Effect.provide(StorageLive))

/** Polls `check` every 100 ms until it returns true or `timeoutMs` passes. */
const waitFor = async (what: string, check: () => boolean, timeoutMs = 120_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe.skipIf(unavailable !== undefined)("slurm driver on a real cluster", () => {
  it("starts a dependent node only after its parent's array", async () => {
    const workspace = makeWorkspace()
    workspace.mark("sleep-a", "1")
    const events: Array<SlurmEvent> = []
    const summary = await Effect.runPromise(run(workspace, [node("a", 3), node("b", 2, ["a"])], { onEvent: (event) => events.push(event) }))

    expect(summary.nodes.map((entry) => entry.status)).toEqual(["completed", "completed"])
    expect(summary.submittedJobs).toBe(2)
    const lastEndOfA = Math.max(...[0, 1, 2].map((shard) => workspace.time("a", shard, "end")))
    const firstStartOfB = Math.min(...[0, 1].map((shard) => workspace.time("b", shard, "start")))
    expect(firstStartOfB).toBeGreaterThanOrEqual(lastEndOfA)

    const submittedB = events.find((event) => event._tag === "JobSubmitted" && event.nodeId === "b")
    expect(submittedB?._tag).toBe("JobSubmitted")
    expect(submittedB?._tag === "JobSubmitted" ? submittedB.dependencies : undefined).toEqual([summary.nodes[0].jobIds[0]])
    for (const shard of [0, 1, 2]) expect(workspace.output("a", shard)).toBe(`a shard ${shard} of 3\n`)
    expect(existsSync(join(workspace.dir, "artifacts", "b", "_manifest.json"))).toBe(true)
    // The script is kept in the store as submitted, and each task wrote its own log.
    const script = readFileSync(join(workspace.dir, "slurm", "scripts", "b.0.sbatch"), "utf8")
    expect(script).toContain("#SBATCH --array=0-1")
    const jobA = summary.nodes[0].jobIds[0]
    expect(readFileSync(join(workspace.dir, "slurm", "logs", "a", `${jobA}_2.log`), "utf8")).toContain("shard 2 exited with status 0")
  }, CLUSTER_TEST_TIMEOUT_MS)

  it("retries a cancelled array task and its dependent still runs", async () => {
    const workspace = makeWorkspace()
    workspace.mark("slow-a-1")
    const program = run(workspace, [node("a", 2), node("b", 2, ["a"])])
    const fiber = Effect.runFork(program)

    await waitFor("shard a/1 to start", () => existsSync(join(workspace.dir, "started-a-1")))
    const [firstJob] = workspace.runs("a", 1)[0].split("_")
    execFileSync("scancel", [`${firstJob}_1`])

    const exit = await Effect.runPromise(Fiber.await(fiber))
    expect(Exit.isSuccess(exit)).toBe(true)
    const summary = Exit.isSuccess(exit) ? exit.value : undefined
    expect(summary?.retriedTasks).toBe(1)
    expect(summary?.nodes[0].failedAttempts).toBe(1)
    expect(summary?.nodes[0].jobIds).toHaveLength(2)
    expect(taskState(firstJob, 1)).toBe("CANCELLED")
    expect(workspace.runs("a", 1)).toHaveLength(2)
    expect(workspace.runs("a", 0)).toHaveLength(1)
    // The same outputs as an undisturbed run, and b ran after the retried shard.
    expect(workspace.output("a", 1)).toBe("a shard 1 of 2\n")
    expect(workspace.output("b", 0)).toBe("b shard 0 of 2\n")
    expect(workspace.time("b", 0, "start")).toBeGreaterThanOrEqual(workspace.time("a", 1, "end"))
  }, CLUSTER_TEST_TIMEOUT_MS)

  it("resubmits only the failed shards", async () => {
    const workspace = makeWorkspace()
    workspace.mark("failonce-a-0")
    workspace.mark("failonce-a-2")
    const nodes = [node("a", 3)]
    const summary = await Effect.runPromise(
      runNodesOnSlurm({
        nodes,
        taskCommand: (nodeId) => workspace.taskCommand(nodeId, 3),
        storeDir: workspace.dir,
        // A slow poll, so both failures usually land in one poll and one retry job.
        pollInterval: "3 seconds"
      }).pipe(Effect.provide(StorageLive))
    )

    expect(summary.retriedTasks).toBe(2)
    expect(summary.nodes[0].failedAttempts).toBe(2)
    const state = JSON.parse(readFileSync(join(workspace.dir, "slurm", "state.json"), "utf8"))
    const retries: Array<{ shards: Array<number>; script: string }> = state.nodes.a.jobs.slice(1)
    expect(retries.flatMap((job) => job.shards).sort()).toEqual([0, 2])
    for (const job of retries) {
      expect(readFileSync(job.script, "utf8")).toContain(`#SBATCH --array=${job.shards.join(",")}\n`)
    }
    for (const shard of [0, 1, 2]) expect(workspace.output("a", shard)).toBe(`a shard ${shard} of 3\n`)
    expect(workspace.runs("a", 1)).toHaveLength(1)
  }, CLUSTER_TEST_TIMEOUT_MS)

  it("splits nodes larger than MaxArraySize", async () => {
    const workspace = makeWorkspace()
    workspace.mark("failonce-big-3")
    const nodes = [node("big", 5), node("after", 1, ["big"])]
    const summary = await Effect.runPromise(
      runNodesOnSlurm({
        nodes,
        taskCommand: (nodeId) => workspace.taskCommand(nodeId, nodes.find((candidate) => candidate.id === nodeId)!.shards),
        storeDir: workspace.dir,
        pollInterval: POLL,
        maxArraySize: 2
      }).pipe(Effect.provide(StorageLive))
    )

    // Shards 0-1, 2-3 and 4 go to three arrays with offsets 0, 2 and 4; shard 3 is
    // retried as index 1 of an array with offset 2.
    const state = JSON.parse(readFileSync(join(workspace.dir, "slurm", "state.json"), "utf8"))
    const jobs: Array<{ shards: Array<number>; offset?: number; script: string }> = state.nodes.big.jobs
    expect(jobs.map((job) => [job.shards, job.offset ?? 0])).toEqual([[[0, 1], 0], [[2, 3], 2], [[4], 4], [[3], 2]])
    expect(readFileSync(jobs[3].script, "utf8")).toContain("#SBATCH --array=1\n")
    expect(readFileSync(jobs[3].script, "utf8")).toContain('shard="$((SLURM_ARRAY_TASK_ID + 2))"')
    expect(summary.nodes[0].failedAttempts).toBe(1)
    for (const shard of [0, 1, 2, 3, 4]) expect(workspace.output("big", shard)).toBe(`big shard ${shard} of 5\n`)
    expect(workspace.runs("big", 3)).toHaveLength(2)
    const lastEndOfBig = Math.max(...[0, 1, 2, 3, 4].map((shard) => workspace.time("big", shard, "end")))
    expect(workspace.time("after", 0, "start")).toBeGreaterThanOrEqual(lastEndOfBig)
  }, CLUSTER_TEST_TIMEOUT_MS)

  it("names node, shard and log when a task keeps failing", async () => {
    const workspace = makeWorkspace()
    workspace.mark("fail-broken-1")
    const error = await Effect.runPromise(Effect.flip(run(workspace, [node("broken", 2), node("after", 1, ["broken"])], { retries: 1 })))

    expect(error.reason).toBe("TaskFailed")
    expect(error.nodeName).toBe("broken")
    expect(error.shard).toBe(1)
    expect(error.logPath).toBeDefined()
    expect(readFileSync(error.logPath!, "utf8")).toContain("task broken shard 1: deliberate failure")
    expect(error.message).toContain("node broken")
    expect(error.message).toContain("shard 1")
    expect(error.message).toContain(error.logPath!)
    expect(error.message).toContain("after 2 attempts")
    // One first attempt plus one retry, and the waiting dependent was cancelled.
    expect(workspace.runs("broken", 1)).toHaveLength(2)
    expect(workspace.runs("after", 0)).toHaveLength(0)
    const state = JSON.parse(readFileSync(join(workspace.dir, "slurm", "state.json"), "utf8"))
    const afterJob = state.nodes.after.jobs[0].jobId
    await waitFor("the dependent job to be cancelled", () => taskState(afterJob, 0) === "CANCELLED", 10_000)
  }, CLUSTER_TEST_TIMEOUT_MS)

  it("re-attaches after a restart without resubmitting", async () => {
    const workspace = makeWorkspace()
    workspace.mark("sleep-b", "5")
    const nodes = [node("a", 2), node("b", 2, ["a"])]
    const config = join(workspace.dir, "driver.json")
    const { writeFileSync } = await import("node:fs")
    writeFileSync(config, JSON.stringify({ nodes, storeDir: workspace.dir, taskScript: workspace.taskScript }))

    // The first driver runs as its own process and is killed with SIGKILL, so it
    // cannot cancel anything: its jobs keep running without it.
    const nodeBinary = join(process.cwd(), "node_modules", ".bin", "node")
    const child = spawn(nodeBinary, [join(import.meta.dirname, "fixtures", "run-driver.ts"), config], { stdio: "ignore" })
    await waitFor("node b to start", () => existsSync(join(workspace.dir, "times", "b-0.start")) && existsSync(join(workspace.dir, "times", "b-1.start")))
    child.kill("SIGKILL")
    await new Promise((resolve) => child.once("exit", resolve))
    expect(existsSync(join(workspace.dir, "artifacts", "b", "_manifest.json"))).toBe(false)
    const before = JSON.parse(readFileSync(join(workspace.dir, "slurm", "state.json"), "utf8"))

    const summary = await Effect.runPromise(run(workspace, nodes))
    expect(summary.submittedJobs).toBe(0)
    expect(summary.reattachedJobs).toBe(1)
    expect(summary.nodes[0].status).toBe("skipped")
    expect(summary.nodes[1].status).toBe("completed")
    expect(summary.nodes[1].jobIds).toEqual(before.nodes.b.jobs.map((job: { jobId: string }) => job.jobId))
    for (const shard of [0, 1]) {
      expect(workspace.runs("a", shard)).toHaveLength(1)
      expect(workspace.runs("b", shard)).toHaveLength(1)
      expect(workspace.output("b", shard)).toBe(`b shard ${shard} of 2\n`)
    }
  }, CLUSTER_TEST_TIMEOUT_MS)

  it("holds dependents until the parent is committed", async () => {
    const workspace = makeWorkspace()
    const nodes = [node("a", 2), node("b", 1, ["a"])]
    const events: Array<SlurmEvent> = []
    let committedAt = 0
    const summary = await Effect.runPromise(
      runNodesOnSlurm({
        nodes,
        taskCommand: (nodeId) => workspace.taskCommand(nodeId, nodes.find((candidate) => candidate.id === nodeId)!.shards),
        storeDir: workspace.dir,
        pollInterval: POLL,
        onEvent: (event) => events.push(event),
        // A slow commit: without the hold, b would start while it runs.
        commitNode: (nodeId) =>
          Effect.gen(function*() {
            yield* Effect.sleep("1500 millis")
            if (nodeId === "a") committedAt = Date.now() / 1000
          })
      }).pipe(Effect.provide(StorageLive))
    )

    expect(summary.nodes.map((entry) => entry.status)).toEqual(["completed", "completed"])
    const submittedB = events.find((event) => event._tag === "JobSubmitted" && event.nodeId === "b")
    expect(submittedB?._tag === "JobSubmitted" ? submittedB.held : undefined).toBe(true)
    expect(events.some((event) => event._tag === "JobReleased" && event.nodeId === "b")).toBe(true)
    expect(committedAt).toBeGreaterThan(0)
    expect(workspace.time("b", 0, "start")).toBeGreaterThanOrEqual(committedAt)
  }, CLUSTER_TEST_TIMEOUT_MS)

  it("cancels its jobs when interrupted", async () => {
    const workspace = makeWorkspace()
    workspace.mark("slow-a-0")
    const submitted: Array<string> = []
    const fiber = Effect.runFork(run(workspace, [node("a", 1), node("b", 1, ["a"])], {
      onEvent: (event) => {
        if (event._tag === "JobSubmitted") submitted.push(event.jobId)
      }
    }))
    await waitFor("shard a/0 to start", () => existsSync(join(workspace.dir, "started-a-0")))
    await Effect.runPromise(Fiber.interrupt(fiber))

    expect(submitted).toHaveLength(2)
    await waitFor("both jobs to be cancelled", () => submitted.every((jobId) => taskState(jobId, 0) === "CANCELLED"), 10_000)
    expect(existsSync(join(workspace.dir, "artifacts", "a", "0.txt"))).toBe(false)
  }, CLUSTER_TEST_TIMEOUT_MS)
})
