/**
 * Thin Effect wrappers over the Slurm command-line tools: sbatch, squeue, scontrol
 * and scancel. Every call runs the real binary; nothing here keeps state.
 */
import { execFile } from "node:child_process"
import { Effect, Schedule } from "effect"
import { SlurmError } from "./errors.ts"

/** Output of a finished command. */
interface CommandOutput {
  readonly stdout: string
  readonly stderr: string
}

/** Runs one program without a shell; interrupting the effect kills the process. */
export const runCommand = (program: string, args: ReadonlyArray<string>): Effect.Effect<CommandOutput, SlurmError> =>
  Effect.callback<CommandOutput, SlurmError>((resume) => {
    const command = [program, ...args].join(" ")
    const child = execFile(program, [...args], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) {
        resume(Effect.succeed({ stdout, stderr }))
        return
      }
      const notFound = (error as NodeJS.ErrnoException).code === "ENOENT"
      resume(Effect.fail(new SlurmError({
        reason: notFound ? "CommandNotFound" : "CommandFailed",
        command,
        description: notFound
          ? `${program} is not on PATH; install Slurm or start the test cluster with \`bash scripts/slurm/start-cluster.sh\``
          : `exited with ${error.code ?? error.signal}: ${stderr.trim() || stdout.trim() || error.message}`,
        cause: error
      })))
    })
    return Effect.sync(() => {
      child.kill("SIGTERM")
    })
  })

/** A job id as sbatch prints it; array tasks are addressed as `<id>_<index>`. */
export type JobId = string

/**
 * Submits a script file with `sbatch --parsable` and returns the job id.
 *
 * `dependencies` are job ids (`123`) or array task ids (`123_4`); the job starts
 * only after all of them complete with exit status 0 (`--dependency=afterok:...`).
 * With `hold`, the job also waits for `release` (`sbatch --hold`).
 */
export const submit = (
  scriptPath: string,
  options: { readonly dependencies?: ReadonlyArray<JobId>; readonly hold?: boolean } = {}
): Effect.Effect<JobId, SlurmError> =>
  Effect.gen(function*() {
    const args = ["--parsable"]
    if (options.hold === true) args.push("--hold")
    const dependency = renderDependency(options.dependencies ?? [])
    if (dependency !== undefined) args.push(`--dependency=${dependency}`)
    args.push(scriptPath)
    const { stdout } = yield* runCommand("sbatch", args)
    // --parsable prints `<job id>` or `<job id>;<cluster>`.
    const jobId = stdout.trim().split(";")[0]
    if (!/^\d+$/.test(jobId)) {
      return yield* new SlurmError({
        reason: "InvalidOutput",
        command: `sbatch ${args.join(" ")}`,
        description: `expected a job id, got ${JSON.stringify(stdout.trim())}`
      })
    }
    return jobId
  })

/** Renders `afterok:a:b`; `undefined` when there is nothing to wait for. */
export const renderDependency = (dependencies: ReadonlyArray<JobId>): string | undefined =>
  dependencies.length === 0 ? undefined : `afterok:${[...new Set(dependencies)].join(":")}`

/** Replaces the dependency of a pending job; an empty list clears it. */
export const updateDependency = (jobId: JobId, dependencies: ReadonlyArray<JobId>): Effect.Effect<void, SlurmError> =>
  Effect.asVoid(runCommand("scontrol", ["update", `JobId=${jobId}`, `Dependency=${renderDependency(dependencies) ?? ""}`]))

/** Releases a job submitted with `hold` (`scontrol release`). */
export const release = (jobId: JobId): Effect.Effect<void, SlurmError> => Effect.asVoid(runCommand("scontrol", ["release", jobId]))

/** Cancels jobs or array tasks. Cancelling a job that already ended is not an error for scancel. */
export const cancel = (jobIds: ReadonlyArray<JobId>): Effect.Effect<void, SlurmError> =>
  jobIds.length === 0 ? Effect.void : Effect.asVoid(runCommand("scancel", [...jobIds]))

/** Slurm's default `MaxArraySize`, used when `scontrol show config` does not report one. */
const DEFAULT_MAX_ARRAY_SIZE = 1001

/** Reads `MaxArraySize` from `scontrol show config`: array indices must stay below it. */
export const readMaxArraySize: Effect.Effect<number, SlurmError> = Effect.map(
  runCommand("scontrol", ["show", "config"]),
  ({ stdout }) => {
    const match = /^MaxArraySize\s*=\s*(\d+)/m.exec(stdout)
    return match === null ? DEFAULT_MAX_ARRAY_SIZE : Number(match[1])
  }
)

/** Slurm job states, as squeue prints them. */
export type SlurmJobState = string

/** One array task as squeue reports it. */
export interface TaskRecord {
  readonly arrayJobId: JobId
  readonly index: number
  readonly state: SlurmJobState
  /** Slurm's reason code for a pending or ended task, such as `Dependency` or `NonZeroExitCode`. */
  readonly reason: string
  /** ISO start time, or `undefined` when the task never started. */
  readonly startTime: string | undefined
}

/**
 * Lists the array tasks of the current user that slurmctld still keeps, including
 * finished ones (`--states=all`). Finished tasks drop out after `MinJobAge` seconds.
 * Pending tasks of an array are expanded one record per index (`--array`).
 */
export const queryTasks: Effect.Effect<ReadonlyArray<TaskRecord>, SlurmError> = Effect.gen(function*() {
  const format = "%F|%K|%T|%r|%S"
  // A busy slurmctld can time out a request, so a failed squeue is retried a few times.
  const { stdout } = yield* runCommand("squeue", ["--me", "--array", "--states=all", "--noheader", `--format=${format}`]).pipe(
    Effect.retry({
      while: (error) => error.reason === "CommandFailed",
      schedule: Schedule.exponential("250 millis"),
      times: 4
    })
  )
  const records: Array<TaskRecord> = []
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue
    const [arrayJobId, index, state, reason, start] = line.trim().split("|")
    // Jobs that are not arrays print N/A as their index; the driver submits only arrays.
    if (!/^\d+$/.test(index ?? "")) continue
    if (!/^\d+$/.test(arrayJobId ?? "") || state === undefined) {
      return yield* new SlurmError({
        reason: "InvalidOutput",
        command: `squeue --format=${format}`,
        description: `cannot parse line ${JSON.stringify(line)}`
      })
    }
    records.push({
      arrayJobId,
      index: Number(index),
      state,
      reason: reason ?? "",
      startTime: start === undefined || start === "N/A" ? undefined : start
    })
  }
  return records
})

/** States after which a task will not run again unless it is resubmitted. */
const FAILED_STATES = new Set([
  "FAILED",
  "CANCELLED",
  "TIMEOUT",
  "NODE_FAIL",
  "OUT_OF_MEMORY",
  "BOOT_FAIL",
  "DEADLINE",
  "PREEMPTED",
  "REVOKED",
  "SPECIAL_EXIT"
])

/** Classifies a squeue state into what the driver acts on. */
export const classifyState = (state: SlurmJobState): "queued" | "running" | "succeeded" | "failed" => {
  if (state === "COMPLETED") return "succeeded"
  if (FAILED_STATES.has(state)) return "failed"
  if (state === "RUNNING" || state === "COMPLETING" || state === "STOPPED" || state === "SIGNALING") return "running"
  return "queued"
}
