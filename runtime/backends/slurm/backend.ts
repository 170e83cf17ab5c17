/**
 * The executor's `Backend` on Slurm: `runPlan` decides which nodes are ready and
 * commits them, and this backend runs each node's pending shards as one job array.
 */
import { createHash } from "node:crypto"
import { type Duration, Effect } from "effect"
import type { IrNode } from "../../../compiler/ir.ts"
import { joinUri, Storage } from "../../../connectors/storage/Storage.ts"
import type { Backend } from "../../executor/backend.ts"
import { RunError, type RunErrorReason } from "../../executor/errors.ts"
import { readShardRecord } from "../../store/store.ts"
import { runNodesOnSlurm, type SlurmEvent, type SlurmResources } from "./driver.ts"
import type { SlurmError } from "./errors.ts"

export interface SlurmBackendOptions {
  /** Shared-file-system directory for the plan copy, scripts, logs and driver state. */
  readonly storeDir: string
  /**
   * The command that runs one shard on a compute node, without the shard index
   * (the sbatch script appends it), such as
   * `["mixwright", "task", planPath, nodeId, "--root", root]`.
   */
  readonly taskCommand: (task: { readonly planPath: string; readonly root: string; readonly nodeId: string }) => ReadonlyArray<string>
  /** Resources of a node's tasks; defaults to Slurm's defaults. */
  readonly resources?: (node: IrNode) => SlurmResources | undefined
  readonly retries?: number
  readonly pollInterval?: Duration.Input
  readonly env?: Readonly<Record<string, string>>
  readonly onEvent?: (event: SlurmEvent) => void
}

const REASONS: Record<SlurmError["reason"], RunErrorReason> = {
  InvalidArgument: "InvalidPlan",
  CommandNotFound: "Unsupported",
  CommandFailed: "OperatorFailed",
  InvalidOutput: "OperatorFailed",
  TaskFailed: "OperatorFailed",
  StateInvalid: "Storage"
}

const toRunError = (error: SlurmError, node: IrNode): RunError =>
  new RunError({
    reason: REASONS[error.reason],
    node: node.name,
    shard: error.shard,
    uri: error.logPath,
    description: error.message,
    cause: error
  })

/**
 * Creates a backend that runs shards as Slurm array tasks.
 *
 * Details: `runShards` writes the plan once to `<storeDir>/slurm/plans/<sha256>.json`,
 * keeps the driver state of each node in `<storeDir>/slurm/state/<node-id>.json`,
 * submits one array over the batch's shards and polls until every task exited 0.
 * In the poll that detects a task's success, it reads the shard's commit record and
 * reports it through `onShardCommitted`, which drives the executor's progress
 * events. Nodes are submitted one at a time as the executor finds them
 * ready, so this backend does not chain nodes with `--dependency`; use
 * `runNodesOnSlurm` with `commitNode` for that.
 */
export const makeSlurmBackend = (options: SlurmBackendOptions): Backend => ({
  name: "slurm",
  runShards: (batch) =>
    Effect.gen(function*() {
      if (batch.shards.length === 0) return
      const node = batch.plan.nodes.find((candidate) => candidate.id === batch.nodeId)
      if (node === undefined) {
        return yield* new RunError({ reason: "InvalidPlan", node: batch.nodeId, description: "the batch names a node that is not in the plan" })
      }
      const storage = yield* Storage
      const planJson = new TextEncoder().encode(JSON.stringify(batch.plan))
      const planUri = joinUri(options.storeDir, "slurm", "plans", `${createHash("sha256").update(planJson).digest("hex")}.json`)
      yield* storage.writeIfAbsent(planUri, planJson).pipe(
        Effect.mapError((cause) => new RunError({ reason: "Storage", node: node.name, uri: planUri, description: `writing the plan copy failed: ${cause.description}`, cause }))
      )

      // Done markers left by an earlier run of a shard the executor still lists as
      // pending (its record was removed, as by --force) would skip the shard.
      for (const shard of batch.shards) {
        yield* storage.remove(joinUri(options.storeDir, "slurm", "done", node.id, String(shard))).pipe(
          Effect.mapError((cause) => new RunError({ reason: "Storage", node: node.name, shard, uri: cause.uri, description: cause.description, cause }))
        )
      }

      const shards = Math.max(...batch.shards) + 1
      yield* runNodesOnSlurm({
        nodes: [{ id: node.id, name: node.name, shards, pendingShards: batch.shards, dependsOn: [], resources: options.resources?.(node) }],
        taskCommand: (nodeId) => options.taskCommand({ planPath: planUri.replace(/^file:\/\//, ""), root: batch.root, nodeId }),
        storeDir: options.storeDir,
        // The executor runs nodes concurrently, so each node keeps its own state file.
        stateFile: joinUri(options.storeDir, "slurm", "state", `${node.id}.json`),
        retries: options.retries,
        pollInterval: options.pollInterval,
        env: options.env,
        onEvent: options.onEvent,
        // The executor checks the manifest itself and passes only pending shards.
        isCommitted: () => Effect.succeed(false),
        onShardDone: (nodeId, shard) =>
          Effect.gen(function*() {
            const record = yield* readShardRecord(batch.root, nodeId, shard)
            if (record === undefined) {
              return yield* new RunError({
                reason: "NotCommitted",
                node: node.name,
                shard,
                description: "the Slurm task exited 0 but wrote no shard commit record; check that the task command runs runShard"
              })
            }
            batch.onShardCommitted(record)
          })
      }).pipe(Effect.mapError((error) => (error._tag === "SlurmError" ? toRunError(error, node) : error)))
    })
})
