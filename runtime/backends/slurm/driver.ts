/**
 * Runs plan nodes on Slurm: one job array per node over its shards, chained with
 * `--dependency=afterok:`, polled with squeue, with failed shards resubmitted.
 *
 * Layout under `<storeDir>/slurm/`:
 * - `state.json`: submitted jobs and per-node progress, rewritten atomically after
 *   every change, so a restarted driver re-attaches instead of resubmitting.
 * - `scripts/<node-id>.<n>.sbatch`: each script exactly as submitted.
 * - `logs/<node-id>/<array job id>_<array index>.log`: one log per task attempt.
 * - `done/<node-id>/<shard>`: written by a task whose command exited 0.
 *
 * Slurm and the tasks write the logs and done markers themselves, so `storeDir` must
 * be a path on a file system that the driver and every compute node share.
 * Artifacts may still go to S3 through the task command.
 */
import { mkdirSync } from "node:fs"
import { Duration, Effect } from "effect"
import { joinUri, Storage } from "../../../connectors/storage/Storage.ts"
import * as Cli from "./cli.ts"
import { SlurmError } from "./errors.ts"
import { renderSbatchScript } from "./script.ts"
import { type DriverState, type NodeState, readState, type SubmittedJob, writeState } from "./state.ts"

/** Resources of every array task of one node. Memory is in MB. */
export interface SlurmResources {
  readonly cpus?: number
  readonly memMB?: number
  readonly gpus?: number
  readonly partition?: string
  /** Slurm `--time` value, such as `30:00` or `1-00:00:00`. */
  readonly timeLimit?: string
  /** Maximum number of this node's tasks running at once. */
  readonly arrayParallelism?: number
  readonly extraFlags?: ReadonlyArray<string>
}

/** One plan node, as the driver runs it. `dependsOn` contains ids of nodes earlier in the list. */
export interface SlurmNode {
  readonly id: string
  readonly name: string
  readonly shards: number
  /**
   * Shards to run; the others count as done (committed earlier). When given, it
   * replaces the saved state's done shards and failure counts for this node.
   * Defaults to every shard not done in the saved state.
   */
  readonly pendingShards?: ReadonlyArray<number>
  readonly dependsOn: ReadonlyArray<string>
  readonly resources?: SlurmResources
}

/** Progress reports; the driver also logs each one through Effect logging. */
export type SlurmEvent =
  | { readonly _tag: "NodeSkipped"; readonly nodeId: string }
  | {
    readonly _tag: "JobSubmitted"
    readonly nodeId: string
    readonly jobId: string
    readonly shards: ReadonlyArray<number>
    readonly dependencies: ReadonlyArray<string>
    readonly held: boolean
  }
  | { readonly _tag: "JobReleased"; readonly nodeId: string; readonly jobId: string }
  | { readonly _tag: "JobReattached"; readonly nodeId: string; readonly jobId: string }
  | {
    readonly _tag: "TaskFailed"
    readonly nodeId: string
    readonly shard: number
    readonly jobId: string
    readonly state: string
    readonly logPath: string
    readonly willRetry: boolean
  }
  | { readonly _tag: "NodeCompleted"; readonly nodeId: string }

export interface RunNodesOnSlurmOptions<E = never, R = never> {
  /** Nodes in topological order. */
  readonly nodes: ReadonlyArray<SlurmNode>
  /** Program and arguments for one node's tasks; the shard index is appended. */
  readonly taskCommand: (nodeId: string) => ReadonlyArray<string>
  /** Shared-file-system directory for the driver's state, scripts, logs and markers. */
  readonly storeDir: string
  /**
   * Driver state file (default `<storeDir>/slurm/state.json`). Drivers that run at
   * the same time over one `storeDir` need separate files.
   */
  readonly stateFile?: string
  /**
   * Largest array index plus one that the cluster accepts. Defaults to the
   * `MaxArraySize` that `scontrol show config` reports.
   */
  readonly maxArraySize?: number
  /** Resubmissions allowed per shard after its first attempt (default 2). */
  readonly retries?: number
  /** Time between two squeue polls (default 2 seconds). */
  readonly pollInterval?: Duration.Input
  /** Environment exported in every task. */
  readonly env?: Readonly<Record<string, string>>
  /**
   * Whether a node's output is already committed, so that the node is skipped.
   * Defaults to the existence of `<storeDir>/artifacts/<node-id>/_manifest.json`.
   */
  readonly isCommitted?: (nodeId: string) => Effect.Effect<boolean, E, R>
  /**
   * Commits a node once all its shards succeeded, such as the executor's
   * `commitNode`. With it, dependents are submitted held (`sbatch --hold`) and
   * released only after every parent is committed. Without it, the task command
   * must write the commit marker itself.
   */
  readonly commitNode?: (nodeId: string) => Effect.Effect<void, E, R>
  /** Runs once for each shard that succeeded, in the poll that first detects it. */
  readonly onShardDone?: (nodeId: string, shard: number) => Effect.Effect<void, E, R>
  /** Cancel this run's jobs with scancel when the driver is interrupted (default true). */
  readonly cancelOnInterrupt?: boolean
  readonly onEvent?: (event: SlurmEvent) => void
}

export interface SlurmNodeSummary {
  readonly id: string
  readonly name: string
  readonly status: "completed" | "skipped"
  readonly shards: number
  /** Every array job submitted for the node, first submission first. */
  readonly jobIds: ReadonlyArray<string>
  readonly failedAttempts: number
}

export interface SlurmRunSummary {
  readonly nodes: ReadonlyArray<SlurmNodeSummary>
  /** sbatch calls made by this driver process. */
  readonly submittedJobs: number
  /** Jobs from an earlier driver process that were still queued or running. */
  readonly reattachedJobs: number
  /** Shard attempts that failed and were resubmitted. */
  readonly retriedTasks: number
}

const invalid = (description: string) => new SlurmError({ reason: "InvalidArgument", description })

const validateNodes = (nodes: ReadonlyArray<SlurmNode>, storeDir: string): Effect.Effect<void, SlurmError> =>
  Effect.gen(function*() {
    if (storeDir.startsWith("s3://") || /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(storeDir) && !storeDir.startsWith("file://")) {
      return yield* invalid(`storeDir ${storeDir} must be a path on a shared file system, because Slurm writes task logs there`)
    }
    const seen = new Set<string>()
    for (const [position, node] of nodes.entries()) {
      if (seen.has(node.id)) return yield* invalid(`nodes[${position}].id ${node.id} appears twice`)
      if (!Number.isInteger(node.shards) || node.shards < 1) {
        return yield* invalid(`nodes[${position}].shards must be a positive integer, got ${node.shards} (node ${node.name})`)
      }
      for (const shard of node.pendingShards ?? []) {
        if (!Number.isInteger(shard) || shard < 0 || shard >= node.shards) {
          return yield* invalid(`nodes[${position}].pendingShards contains ${shard}, outside [0, ${node.shards - 1}] (node ${node.name})`)
        }
      }
      for (const dependency of node.dependsOn) {
        if (!seen.has(dependency)) {
          return yield* invalid(
            `nodes[${position}].dependsOn names ${dependency}, which is not an earlier node (node ${node.name}); pass nodes in topological order`
          )
        }
      }
      seen.add(node.id)
    }
  })

/** Adds the node (and job) a Slurm command failed for to its error. */
const withNode = (error: SlurmError, node: SlurmNode, jobId?: string): SlurmError =>
  new SlurmError({
    reason: error.reason,
    description: error.description,
    command: error.command,
    nodeId: node.id,
    nodeName: node.name,
    jobId: jobId ?? error.jobId,
    cause: error.cause
  })

const toLocalPath = (uri: string): string => (uri.startsWith("file://") ? new URL(uri).pathname : uri)

/** Mutable per-node bookkeeping during one driver run; `NodeState` is its saved form. */
interface NodeRun {
  readonly node: SlurmNode
  status: NodeState["status"]
  jobs: Array<SubmittedJob>
  failures: Map<number, number>
  done: Set<number>
  /** Shards that must be (re)submitted on the next pass. */
  toSubmit: Set<number>
  /** Array jobs of this node with at least one task squeue reported queued. */
  queuedJobs: Set<string>
}

/** Slurm's id of the array task that ran `shard` in `job`: `<job id>_<array index>`. */
const taskId = (job: SubmittedJob, shard: number): string => `${job.jobId}_${shard - (job.offset ?? 0)}`

const latestJob = (run: NodeRun, shard: number): SubmittedJob | undefined => {
  for (let i = run.jobs.length - 1; i >= 0; i--) if (run.jobs[i].shards.includes(shard)) return run.jobs[i]
  return undefined
}

const toNodeState = (run: NodeRun): NodeState => ({
  name: run.node.name,
  shards: run.node.shards,
  jobs: run.jobs,
  failures: Object.fromEntries([...run.failures].map(([shard, count]) => [String(shard), count])),
  done: [...run.done].sort((a, b) => a - b),
  status: run.status
})

/**
 * Runs `nodes` on Slurm and returns when every node has completed or was skipped.
 *
 * Details: each node becomes one array job over its shards (`--array=0-N`), submitted
 * once all its dependencies are submitted, with `--dependency=afterok:` on their jobs.
 * The driver polls squeue every `pollInterval`. A shard whose task fails (non-zero
 * exit, cancelled, timed out, or gone from squeue without a done marker) is
 * resubmitted together with the other failed shards of the same poll, as
 * `--array=3,7`. Pending dependents then get their dependency rewritten to the new
 * task ids with `scontrol update`. After `retries` resubmissions the run fails with a `TaskFailed`
 * error naming the node, the shard and the log of the last attempt, and the
 * driver cancels its other jobs.
 *
 * A node completes when every shard's task exited 0 and `commitNode`, when given,
 * succeeded. Dependents of a node with a commit step are submitted held and
 * released once all their parents completed.
 *
 * Gotchas: without `commitNode`, dependents start as soon as every parent task
 * succeeded, so the task command itself must write the node's commit marker (for
 * example, the last shard to finish writes `_manifest.json`).
 * Killing the driver process leaves its jobs running, and a new driver with the same
 * `storeDir` re-attaches to them; interrupting the Effect cancels them.
 */
export const runNodesOnSlurm = <E = never, R = never>(
  options: RunNodesOnSlurmOptions<E, R>
): Effect.Effect<SlurmRunSummary, SlurmError | E, Storage | R> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    yield* validateNodes(options.nodes, options.storeDir)
    const retries = options.retries ?? 2
    if (!Number.isInteger(retries) || retries < 0) return yield* invalid(`retries must be a non-negative integer, got ${retries}`)
    if (options.maxArraySize !== undefined && (!Number.isInteger(options.maxArraySize) || options.maxArraySize < 1)) {
      return yield* invalid(`maxArraySize must be a positive integer, got ${options.maxArraySize}`)
    }
    const pollInterval = options.pollInterval ?? Duration.seconds(2)
    // Failures and retries are warnings; routine progress is logged at debug level.
    const emit = (event: SlurmEvent) =>
      Effect.sync(() => options.onEvent?.(event)).pipe(
        Effect.andThen(
          (event._tag === "TaskFailed" ? Effect.logWarning : Effect.logDebug)(`slurm: ${event._tag}`).pipe(Effect.annotateLogs({ ...event }))
        )
      )

    const slurmDir = joinUri(options.storeDir, "slurm")
    const stateUri = options.stateFile ?? joinUri(slurmDir, "state.json")
    const logDir = (nodeId: string) => toLocalPath(joinUri(slurmDir, "logs", nodeId))
    const doneDir = (nodeId: string) => joinUri(slurmDir, "done", nodeId)
    const logPath = (nodeId: string, task: string) => `${logDir(nodeId)}/${task}.log`

    // Slurm opens the log files itself and fails the task when the directory is
    // missing, so the directories must exist as real directories before submitting.
    yield* Effect.try({
      try: () => {
        for (const node of options.nodes) mkdirSync(logDir(node.id), { recursive: true })
      },
      catch: (cause) => invalid(`cannot create the log directories under ${slurmDir}: ${String(cause)}`)
    })

    // Slurm's MaxArraySize, read once from `scontrol show config` unless given.
    const maxArraySize = yield* Effect.cached(
      options.maxArraySize !== undefined ? Effect.succeed(options.maxArraySize) : Cli.readMaxArraySize
    )

    const isCommitted = options.isCommitted ?? ((nodeId: string) =>
      storage.stat(joinUri(options.storeDir, "artifacts", nodeId, "_manifest.json")).pipe(
        Effect.map((info) => info !== undefined),
        Effect.mapError((cause) => new SlurmError({ reason: "InvalidArgument", description: `cannot check the commit marker of node ${nodeId}`, cause }))
      ))

    const readDoneMarkers = (nodeId: string) =>
      storage.list(doneDir(nodeId)).pipe(
        Effect.map((objects) => {
          const shards: Array<number> = []
          for (const object of objects) {
            const base = object.uri.slice(object.uri.lastIndexOf("/") + 1)
            if (/^\d+$/.test(base)) shards.push(Number(base))
          }
          return shards
        }),
        Effect.mapError((cause) => new SlurmError({ reason: "InvalidArgument", description: `cannot list the done markers of node ${nodeId}`, cause }))
      )

    // --- load the previous state and decide what is left --------------------------------
    const saved = yield* readState(stateUri)
    const runs = new Map<string, NodeRun>()
    for (const node of options.nodes) {
      const previous = saved.nodes[node.id]
      const run: NodeRun = {
        node,
        status: "pending",
        jobs: previous !== undefined && previous.shards === node.shards ? [...previous.jobs] : [],
        failures: new Map(
          previous !== undefined && previous.shards === node.shards
            ? Object.entries(previous.failures).map(([shard, count]) => [Number(shard), count])
            : []
        ),
        done: new Set(previous !== undefined && previous.shards === node.shards ? previous.done : []),
        toSubmit: new Set(),
        queuedJobs: new Set()
      }
      if (node.pendingShards !== undefined) {
        const pending = new Set(node.pendingShards)
        run.done.clear()
        run.failures.clear()
        for (let shard = 0; shard < node.shards; shard++) if (!pending.has(shard)) run.done.add(shard)
      }
      runs.set(node.id, run)
      if (yield* isCommitted(node.id)) {
        run.status = "skipped"
        yield* emit({ _tag: "NodeSkipped", nodeId: node.id })
      }
    }
    const active = () => [...runs.values()].filter((run) => run.status === "pending")

    let submittedJobs = 0
    let retriedTasks = 0
    const reattached = new Set<string>()
    let firstPoll = true
    let dirty = true

    const saveState = Effect.suspend(() => {
      if (!dirty) return Effect.void
      dirty = false
      const state: DriverState = { version: 1, nodes: Object.fromEntries([...runs].map(([id, run]) => [id, toNodeState(run)])) }
      return writeState(stateUri, state)
    })

    /**
     * Job ids a dependent of `parent` must wait for; empty when the parent has finished.
     *
     * A job none of whose shards was resubmitted can still satisfy `afterok`, so the
     * dependent waits for the whole job. A job with a resubmitted (failed) shard never
     * can, so the dependent waits for its live tasks one by one (`<job>_<shard>`).
     */
    const dependencyIds = (parent: NodeRun): Array<string> => {
      if (parent.status !== "pending") return []
      const ids: Array<string> = []
      for (const job of parent.jobs) {
        const liveShards = job.shards.filter((shard) => !parent.done.has(shard) && latestJob(parent, shard) === job)
        if (liveShards.length === 0) continue
        const resubmitted = job.shards.some((shard) => latestJob(parent, shard) !== job)
        if (resubmitted) ids.push(...liveShards.map((shard) => taskId(job, shard)))
        else ids.push(job.jobId)
      }
      return ids
    }

    const dependenciesOf = (run: NodeRun): Array<string> =>
      run.node.dependsOn.flatMap((parentId) => dependencyIds(runs.get(parentId)!))

    /**
     * Submits `shards` of one node: one array job per block of `maxArraySize` shard
     * indices, because Slurm rejects array indices of `MaxArraySize` or more.
     */
    const submitShards = (run: NodeRun, shards: ReadonlyArray<number>) =>
      Effect.gen(function*() {
        const arrayLimit = yield* maxArraySize
        const blocks = new Map<number, Array<number>>()
        for (const shard of shards) {
          const offset = Math.floor(shard / arrayLimit) * arrayLimit
          blocks.set(offset, [...(blocks.get(offset) ?? []), shard])
        }
        for (const [offset, blockShards] of [...blocks].sort(([a], [b]) => a - b)) {
          yield* submitBlock(run, offset, blockShards, arrayLimit)
        }
      })

    const submitBlock = (run: NodeRun, offset: number, shards: ReadonlyArray<number>, arrayLimit: number) =>
      Effect.gen(function*() {
        const resources = run.node.resources ?? {}
        const script = yield* Effect.try({
          try: () =>
            renderSbatchScript({
              jobName: `mw-${run.node.name}`,
              arraySize: Math.min(arrayLimit, run.node.shards - offset),
              arrayIndices: shards.map((shard) => shard - offset),
              shardOffset: offset,
              command: options.taskCommand(run.node.id),
              ...resources,
              logDir: logDir(run.node.id),
              doneDir: toLocalPath(doneDir(run.node.id)),
              env: options.env
            }),
          catch: (cause) => cause instanceof SlurmError ? cause : invalid(`cannot render the script of node ${run.node.name}: ${String(cause)}`)
        })
        const scriptUri = joinUri(slurmDir, "scripts", `${run.node.id}.${run.jobs.length}.sbatch`)
        yield* storage.write(scriptUri, new TextEncoder().encode(script)).pipe(
          Effect.mapError((cause) => new SlurmError({ reason: "InvalidArgument", description: `cannot write ${scriptUri}`, cause }))
        )
        const dependencies = dependenciesOf(run)
        const held = options.commitNode !== undefined && run.node.dependsOn.some((parentId) => runs.get(parentId)!.status === "pending")
        const jobId = yield* Cli.submit(toLocalPath(scriptUri), { dependencies, hold: held }).pipe(
          Effect.mapError((error) => withNode(error, run.node))
        )
        const job: SubmittedJob = { jobId, shards: [...shards], script: scriptUri, submittedAt: new Date().toISOString(), held }
        run.jobs.push(offset === 0 ? job : { ...job, offset })
        run.queuedJobs.add(jobId)
        submittedJobs++
        dirty = true
        yield* saveState
        yield* emit({ _tag: "JobSubmitted", nodeId: run.node.id, jobId, shards, dependencies, held })
      })

    const liveJobIds = () => [...new Set(active().flatMap((run) => run.jobs.map((job) => job.jobId)))]

    const cancelAll = Effect.suspend(() => Cli.cancel(liveJobIds())).pipe(Effect.ignore)

    /** One poll: read squeue and the done markers, and classify every live shard. */
    const poll = Effect.gen(function*() {
      const records = yield* Cli.queryTasks
      const byTask = new Map(records.map((record) => [`${record.arrayJobId}_${record.index}`, record]))
      const permanentFailures: Array<SlurmError> = []

      for (const run of active()) {
        const newlyDone: Array<number> = []
        for (const shard of yield* readDoneMarkers(run.node.id)) {
          if (shard < run.node.shards && !run.done.has(shard)) {
            run.done.add(shard)
            newlyDone.push(shard)
            dirty = true
          }
        }
        run.queuedJobs.clear()
        for (let shard = 0; shard < run.node.shards; shard++) {
          if (run.done.has(shard) || run.toSubmit.has(shard)) continue
          const job = latestJob(run, shard)
          if (job === undefined) {
            run.toSubmit.add(shard)
            continue
          }
          const record = byTask.get(taskId(job, shard))
          const state = record === undefined ? "LOST" : record.state
          const outcome = record === undefined ? "failed" : Cli.classifyState(record.state)
          if (firstPoll && outcome !== "failed" && outcome !== "succeeded" && !reattached.has(job.jobId) && submittedJobs === 0) {
            reattached.add(job.jobId)
            yield* emit({ _tag: "JobReattached", nodeId: run.node.id, jobId: job.jobId })
          }
          if (outcome === "queued") run.queuedJobs.add(job.jobId)
          if (outcome === "succeeded") {
            run.done.add(shard)
            newlyDone.push(shard)
            dirty = true
          }
          if (outcome !== "failed") continue

          const failures = (run.failures.get(shard) ?? 0) + 1
          run.failures.set(shard, failures)
          dirty = true
          const willRetry = failures <= retries
          const log = logPath(run.node.id, taskId(job, shard))
          yield* emit({ _tag: "TaskFailed", nodeId: run.node.id, shard, jobId: job.jobId, state, logPath: log, willRetry })
          if (willRetry) {
            run.toSubmit.add(shard)
            retriedTasks++
          } else {
            permanentFailures.push(
              new SlurmError({
                reason: "TaskFailed",
                nodeId: run.node.id,
                nodeName: run.node.name,
                shard,
                jobId: taskId(job, shard),
                logPath: log,
                description: `task ended ${record === undefined ? "without a done marker and is no longer known to squeue" : `in state ${state}${record.reason === "None" || record.reason === "" ? "" : ` (${record.reason})`}`} after ${failures} attempt${failures === 1 ? "" : "s"}`
              })
            )
          }
        }
        if (options.onShardDone !== undefined) {
          for (const shard of newlyDone.sort((a, b) => a - b)) yield* options.onShardDone(run.node.id, shard)
        }
        if (run.done.size === run.node.shards && permanentFailures.length === 0) {
          if (options.commitNode !== undefined) yield* options.commitNode(run.node.id)
          run.status = "completed"
          dirty = true
          yield* emit({ _tag: "NodeCompleted", nodeId: run.node.id })
        }
      }
      firstPoll = false
      return permanentFailures
    })

    /** Releases held jobs whose parents have all completed. */
    const releaseReady = Effect.gen(function*() {
      for (const run of active()) {
        if (run.node.dependsOn.some((parentId) => runs.get(parentId)!.status === "pending")) continue
        for (const [position, job] of run.jobs.entries()) {
          if (job.held !== true) continue
          yield* Cli.release(job.jobId).pipe(Effect.mapError((error) => withNode(error, run.node, job.jobId)))
          run.jobs[position] = { ...job, held: false }
          dirty = true
          yield* emit({ _tag: "JobReleased", nodeId: run.node.id, jobId: job.jobId })
        }
      }
    })

    /** Submits every node's pending shards in topological order and fixes dependents. */
    const submitPending = Effect.gen(function*() {
      const resubmitted: Array<NodeRun> = []
      for (const run of active()) {
        if (run.toSubmit.size === 0) continue
        const shards = [...run.toSubmit].sort((a, b) => a - b)
        const isRetry = run.jobs.length > 0
        yield* submitShards(run, shards)
        run.toSubmit.clear()
        if (isRetry) resubmitted.push(run)
      }
      // A dependent that waits on a failed task would never start; point it at the retries.
      const parents = new Set(resubmitted.map((run) => run.node.id))
      for (const run of active()) {
        if (!run.node.dependsOn.some((parentId) => parents.has(parentId))) continue
        const dependencies = dependenciesOf(run)
        for (const jobId of run.queuedJobs) {
          yield* Cli.updateDependency(jobId, dependencies).pipe(
            Effect.mapError((error) => withNode(error, run.node, jobId))
          )
        }
      }
    })

    const loop = Effect.gen(function*() {
      while (active().length > 0) {
        const failures = yield* poll
        if (failures.length > 0) {
          yield* saveState
          return yield* failures[0]
        }
        yield* submitPending
        yield* releaseReady
        yield* saveState
        if (active().length === 0) break
        yield* Effect.sleep(pollInterval)
      }
      yield* saveState
    })

    // A failed run cancels its jobs: dependents of a failed shard could never start.
    const guarded = loop.pipe(Effect.tapError(() => cancelAll))
    yield* (options.cancelOnInterrupt ?? true ? guarded.pipe(Effect.onInterrupt(() => cancelAll)) : guarded)

    return {
      nodes: options.nodes.map((node): SlurmNodeSummary => {
        const run = runs.get(node.id)!
        return {
          id: node.id,
          name: node.name,
          status: run.status === "skipped" ? "skipped" : "completed",
          shards: node.shards,
          jobIds: run.jobs.map((job) => job.jobId),
          failedAttempts: [...run.failures.values()].reduce((sum, count) => sum + count, 0)
        }
      }),
      submittedJobs,
      reattachedJobs: reattached.size,
      retriedTasks
    }
  })
