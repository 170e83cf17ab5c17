/**
 * The `run` command: compiles a recipe, runs its plan locally or on Slurm, and prints
 * the summary.
 */
import { Console, Effect, Layer, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { emitGptNeox } from "../compiler/emit/gpt-neox.ts"
import { resolveStoreRoot } from "../compiler/paths.ts"
import type { Plan } from "../compiler/plan.ts"
import { makeStorage } from "../connectors/storage/layer.ts"
import { Storage, joinUri } from "../connectors/storage/Storage.ts"
import { fileURLToPath } from "node:url"
import { makeSlurmBackend } from "../runtime/backends/slurm/backend.ts"
import { runPlan } from "../runtime/executor/run.ts"
import type { RunSummary } from "../runtime/executor/types.ts"
import { compileRecipe, reportFailure } from "./common.ts"
import { makeProgressRenderer, renderSummary } from "./progress.ts"

/** The storage layer for a plan, with the profile's S3 settings. */
export const storageLayerFor = (s3: Plan["s3"]) =>
  Layer.succeed(
    Storage,
    makeStorage(
      s3 === null
        ? {}
        : {
            s3: {
              ...(s3.endpoint === null ? {} : { endpoint: s3.endpoint }),
              ...(s3.region === null ? {} : { region: s3.region }),
              ...(s3.forcePathStyle === null ? {} : { forcePathStyle: s3.forcePathStyle })
            }
          }
    )
  )

const CLI_ENTRY = fileURLToPath(new URL("./entry.ts", import.meta.url))

/**
 * The Slurm backend: each array task runs `mixwright task` with this process's Node
 * runtime, so compute nodes need the same checkout at the same path (a shared file
 * system) and the store reachable from them (the same path or S3).
 */
const slurmBackendFor = (plan: Plan, root: string, slurmDir: string | undefined) =>
  Effect.gen(function* () {
    const storeDir = slurmDir ?? (root.startsWith("s3://") ? undefined : root)
    if (storeDir === undefined) {
      return yield* Effect.fail(new Error("with an s3:// store, Slurm needs --slurm-dir: a directory on a file system the compute nodes share, for scripts and logs"))
    }
    const resources = plan.slurm as
      | { partition?: string; cpus?: number; memoryMb?: number; gpus?: number; timeLimit?: string; extraFlags?: ReadonlyArray<string>; retries?: number }
      | null
    return makeSlurmBackend({
      storeDir,
      taskCommand: ({ planPath, root: taskRoot, nodeId }) => [process.execPath, CLI_ENTRY, "task", "--root", taskRoot, planPath, nodeId],
      resources: () =>
        resources === null
          ? undefined
          : {
              ...(resources.partition === undefined ? {} : { partition: resources.partition }),
              ...(resources.cpus === undefined ? {} : { cpus: resources.cpus }),
              ...(resources.memoryMb === undefined ? {} : { memMB: resources.memoryMb }),
              ...(resources.gpus === undefined ? {} : { gpus: resources.gpus }),
              ...(resources.timeLimit === undefined ? {} : { timeLimit: resources.timeLimit }),
              ...(resources.extraFlags === undefined ? {} : { extraFlags: resources.extraFlags })
            },
      retries: resources?.retries ?? 2,
      pollInterval: "1 second"
    })
  })

/** Rejects run ids that are not plain names, and ids an earlier run already used. */
const checkRunId = (root: string, runId: string) =>
  Effect.gen(function* () {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(runId)) {
      return yield* Effect.fail(new Error(`invalid --run-id ${JSON.stringify(runId)}; use letters, digits, ".", "_" and "-", starting with a letter or digit`))
    }
    const storage = yield* Storage
    const previous = yield* storage.stat(joinUri(root, "runs", runId, "summary.json"))
    if (previous !== undefined) {
      return yield* Effect.fail(new Error(`run ${runId} already exists in ${root}/runs; choose another --run-id, or omit it for a timestamped one`))
    }
  })

/** Components that repeated more epochs than their mix allows, from measured sizes. */
const epochWarnings = (plan: Plan, summary: RunSummary): Array<string> => {
  const warnings: Array<string> = []
  for (const mix of summary.mixes) {
    const planned = plan.mixes.find((m) => m.nodeId === mix.nodeId)
    if (planned === undefined) continue
    for (const component of mix.components) {
      if (component.epochs > planned.maxEpochs) {
        warnings.push(
          `${planned.name}: ${component.name} repeated ${component.epochs.toFixed(2)} epochs (${component.availableTokens} tokens available for ${component.plannedTokens}), above the limit of ${planned.maxEpochs}; check its skips and filters, or raise maxEpochs`
        )
      }
    }
  }
  return warnings
}

/** Writes a gpt-neox config next to the run summary for every pretraining stage that has an export. */
const writeTrainerConfigs = (plan: Plan, root: string, runId: string) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const written: Array<string> = []
    for (const stage of plan.stages) {
      if (stage.type !== "pretrain") continue
      const mix = plan.mixes.find((m) => stage.data.length === 1 && m.name === stage.data[0])
      if (mix?.exportNodeId === null || mix === undefined) continue
      const config = yield* emitGptNeox({ ...plan, store: root }, stage.name).pipe(Effect.option)
      if (Option.isNone(config)) continue
      const uri = joinUri(root, "runs", runId, `gpt-neox-${stage.name}.json`)
      yield* storage.write(uri, new TextEncoder().encode(JSON.stringify(config.value, null, 2) + "\n"))
      written.push(uri)
    }
    return written
  })

const run = Command.make(
  "run",
  {
    recipe: Argument.String("recipe").pipe(Argument.withDescription("Recipe file (.ts, .json, .yaml)")),
    profile: Flag.String("profile").pipe(Flag.withAlias("p"), Flag.withDescription("Profile from the recipe's `profiles`"), Flag.optional),
    set: Flag.String("set").pipe(Flag.withDescription("Override a recipe field by its path, for example --set generators.traces.search=bfs (repeatable)"), Flag.atLeast(0)),
    store: Flag.String("store").pipe(Flag.withDescription("Artifact store root: a path or s3://bucket/prefix (overrides the profile)"), Flag.optional),
    force: Flag.String("force").pipe(Flag.withDescription("Recompute this node (id, id prefix or name) even if committed (repeatable)"), Flag.atLeast(0)),
    concurrency: Flag.Int("concurrency").pipe(Flag.withDescription("Shards that run at once (default: CPU count)"), Flag.optional),
    workers: Flag.Int("workers").pipe(
      Flag.withDescription("Worker threads for tokenization (default 0: tokenize on the main thread)"),
      Flag.optional
    ),
    runId: Flag.String("run-id").pipe(Flag.withDescription("Name of the run folder under <store>/runs/ (default: timestamp)"), Flag.optional),
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print the run summary as JSON on stdout"), Flag.withDefault(false)),
    executor: Flag.Literals("executor", ["local", "slurm"]).pipe(
      Flag.withDescription("Where shards run (default: the profile's executor, else local)"),
      Flag.optional
    ),
    slurmDir: Flag.String("slurm-dir").pipe(
      Flag.withDescription("Shared directory for Slurm scripts, logs and driver state (default: the store when it is a path)"),
      Flag.optional
    )
  },
  (input) =>
    Effect.gen(function* () {
      const plan = yield* compileRecipe(input.recipe, {
        profile: Option.getOrUndefined(input.profile),
        set: input.set,
        store: Option.getOrUndefined(input.store)
      })
      return yield* runCompiledPlan(plan, input).pipe(Effect.provide(storageLayerFor(plan.s3)))
    }).pipe(reportFailure)
).pipe(
  Command.withDescription("Run a recipe's plan: read, filter, dedup, tokenize, mix and export, skipping committed nodes"),
  Command.withExamples([
    { command: "mixwright run recipes/stablelm-2-1_6b.ts --profile sample", description: "The StableLM 2 sample mix on the shipped data" },
    { command: "mixwright run recipes/meta-cot-countdown.ts --set generators.traces.search=bfs", description: "Swap the search algorithm" }
  ])
)

interface RunFlags {
  readonly executor: Option.Option<"local" | "slurm">
  readonly slurmDir: Option.Option<string>
  readonly force: ReadonlyArray<string>
  readonly concurrency: Option.Option<number>
  readonly workers: Option.Option<number>
  readonly runId: Option.Option<string>
  readonly json: boolean
}

/** Runs a compiled plan locally and prints its summary. */
const runCompiledPlan = (plan: Plan, input: RunFlags) =>
    Effect.gen(function* () {
      const root = resolveStoreRoot(plan.store)
      const force = input.force.map((name) => plan.nodes.find((n) => n.id.startsWith(name) || n.name === name)?.id ?? name)
      const runId = Option.getOrUndefined(input.runId)
      if (runId !== undefined) yield* checkRunId(root, runId)
      if (Option.isSome(input.concurrency) && input.concurrency.value < 1) {
        return yield* Effect.fail(new Error(`--concurrency must be at least 1, got ${input.concurrency.value}`))
      }
      if (Option.isSome(input.workers) && input.workers.value < 0) {
        return yield* Effect.fail(new Error(`--workers must be 0 or more, got ${input.workers.value}`))
      }
      const executor = Option.getOrElse(input.executor, () => plan.executor)
      const backend = executor === "slurm" ? yield* slurmBackendFor(plan, root, Option.getOrUndefined(input.slurmDir)) : undefined
      const summary: RunSummary = yield* runPlan(
        { nodes: plan.nodes },
        {
          root,
          ...(runId === undefined ? {} : { runId }),
          force,
          ...(Option.isSome(input.concurrency) ? { concurrency: input.concurrency.value } : {}),
          ...(Option.isSome(input.workers) ? { workers: input.workers.value } : {}),
          onEvent: makeProgressRenderer()
        },
        backend
      ).pipe(
        Effect.onInterrupt(() =>
          Console.error("interrupted: committed nodes and shards are kept; run the same command again to resume")
        )
      )
      for (const warning of epochWarnings(plan, summary)) yield* Console.error(`warning: ${warning}`)
      const configs = summary.status === "succeeded" ? yield* writeTrainerConfigs(plan, root, summary.runId) : []
      const withConfigs = { ...summary, outputs: { ...summary.outputs, ...(configs.length > 0 ? { "gpt-neox": configs } : {}) } }
      if (configs.length > 0) {
        const storage = yield* Storage
        yield* storage.write(joinUri(root, "runs", summary.runId, "summary.json"), new TextEncoder().encode(JSON.stringify(withConfigs, null, 2) + "\n"))
      }
      yield* Console.log(input.json ? JSON.stringify(withConfigs, null, 2) : renderSummary(withConfigs))
      if (summary.status !== "succeeded") {
        return yield* Effect.fail(new Error(`run ${summary.runId} failed; the summary is at ${joinUri(root, "runs", summary.runId, "summary.json")}`))
      }
    })

export const runCommands = [run] as const
