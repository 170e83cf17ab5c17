/**
 * The driver's record of what it submitted, kept at `<storeDir>/slurm/state.json`.
 *
 * A restarted driver reads it to find the jobs it submitted before, re-attaches to
 * those Slurm still runs and resubmits only shards that neither succeeded nor run.
 */
import { Effect, Schema } from "effect"
import { Storage } from "../../../connectors/storage/Storage.ts"
import { SlurmError } from "./errors.ts"

/** One sbatch submission: an array job over some shards of one node. */
export const SubmittedJob = Schema.Struct({
  jobId: Schema.String,
  shards: Schema.Array(Schema.Number),
  /** Shard index of array index 0 (absent means 0). */
  offset: Schema.optional(Schema.Number),
  /** The sbatch script, as written to the store before submitting. */
  script: Schema.String,
  submittedAt: Schema.String,
  /** Whether the job was submitted held and is still waiting for the driver to release it. */
  held: Schema.optional(Schema.Boolean)
})
export type SubmittedJob = typeof SubmittedJob.Type

export const NodeState = Schema.Struct({
  name: Schema.String,
  shards: Schema.Number,
  jobs: Schema.Array(SubmittedJob),
  /** Failed attempts per shard index (keys are decimal shard indices). */
  failures: Schema.Record(Schema.String, Schema.Number),
  /** Shards whose task exited 0, sorted. */
  done: Schema.Array(Schema.Number),
  status: Schema.Literals(["pending", "completed", "skipped"])
})
export type NodeState = typeof NodeState.Type

export const DriverState = Schema.Struct({
  version: Schema.Literal(1),
  nodes: Schema.Record(Schema.String, NodeState)
})
export type DriverState = typeof DriverState.Type

const decodeState = Schema.decodeUnknownEffect(DriverState)

/** Reads the state file; an absent file is an empty state. */
export const readState = (uri: string): Effect.Effect<DriverState, SlurmError, Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const invalid = (description: string, cause?: unknown) =>
      new SlurmError({
        reason: "StateInvalid",
        description: `${uri}: ${description}; delete the file to start over (jobs it lists are then not re-attached)`,
        cause
      })
    const info = yield* storage.stat(uri).pipe(Effect.mapError((cause) => invalid("cannot stat", cause)))
    if (info === undefined) return { version: 1, nodes: {} } satisfies DriverState
    const bytes = yield* storage.read(uri).pipe(Effect.mapError((cause) => invalid("cannot read", cause)))
    const json = yield* Effect.try({
      try: () => JSON.parse(new TextDecoder().decode(bytes)) as unknown,
      catch: (cause) => invalid("is not valid JSON", cause)
    })
    return yield* decodeState(json).pipe(Effect.mapError((cause) => invalid(`does not match the state schema: ${cause.message}`, cause)))
  })

/** Writes the state file atomically (Storage writes to a temporary name and renames). */
export const writeState = (uri: string, state: DriverState): Effect.Effect<void, SlurmError, Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    yield* storage.write(uri, new TextEncoder().encode(JSON.stringify(state, null, 2) + "\n")).pipe(
      Effect.mapError((cause) => new SlurmError({ reason: "StateInvalid", description: `${uri}: cannot write the driver state`, cause }))
    )
  })
