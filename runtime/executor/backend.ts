/**
 * Backends run shards. The executor decides which nodes are ready and commits them,
 * and a backend only runs a node's pending shards. Operators are the same on every backend
 * because a backend runs shards through `runShard` (in-process for `local`, or as
 * `mixwright task <plan.json> <node-id> <shard>` on another machine).
 */
import { Effect, Semaphore } from "effect"
import type { Storage } from "../../connectors/storage/Storage.ts"
import type { RunError } from "./errors.ts"
import { runShard } from "./shard.ts"
import type { ExecutablePlan, ShardRecord } from "./types.ts"

export interface ShardBatch {
  readonly plan: ExecutablePlan
  readonly root: string
  readonly nodeId: string
  /** Per-run results operators reuse (see `StoreOptions.memo`). */
  readonly memo?: Map<string, unknown>
  /** Shards still to run (committed shards are left out). */
  readonly shards: ReadonlyArray<number>
  /** Called once per shard, after its record is committed. */
  readonly onShardCommitted: (record: ShardRecord) => void
  /** Called as shards encode output rows, with each batch's row count; backends may skip it. */
  readonly onRows?: (rows: number) => void
}

export interface Backend {
  readonly name: string
  /** Runs every listed shard; succeeds once all of them are committed. */
  readonly runShards: (batch: ShardBatch) => Effect.Effect<void, RunError, Storage>
}

/**
 * Runs shards as fibers in this process. One semaphore bounds the shards running at
 * once across all nodes, so independent nodes share the `concurrency` budget.
 */
export const makeLocalBackend = (concurrency: number): Backend => {
  const permits = Semaphore.makeUnsafe(Math.max(1, concurrency))
  return {
    name: "local",
    runShards: (batch) =>
      Effect.forEach(
        batch.shards,
        (shard) =>
          runShard(batch.plan, batch.nodeId, shard, {
            root: batch.root,
            ...(batch.memo === undefined ? {} : { memo: batch.memo }),
            ...(batch.onRows === undefined ? {} : { onRows: batch.onRows })
          }).pipe(
            Effect.tap((record) => Effect.sync(() => batch.onShardCommitted(record))),
            Semaphore.withPermit(permits)
          ),
        { concurrency: "unbounded", discard: true }
      )
  }
}
