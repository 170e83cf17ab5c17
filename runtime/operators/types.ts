/**
 * The contract between the executor and the operator of each node kind.
 *
 * An operator says how many shards a node has and computes one shard at a time. It
 * never writes to the store directly: it emits rows through `ShardContext.writeRows`
 * (one Parquet part file per shard) or whole files through `writeFile`, and the
 * executor commits the shard afterwards. Operators are therefore the same on every
 * backend (local fibers or Slurm array tasks).
 */
import type { Effect, Stream } from "effect"
import type { IrNode, JsonValue } from "../../compiler/ir.ts"
import type { Storage } from "../../connectors/storage/Storage.ts"
import type { Batch } from "../batch.ts"
import type { RunError } from "../executor/errors.ts"
import type { ExecutablePlan, Manifest, ShardRecord, ShardStats } from "../executor/types.ts"

export interface NodeContext {
  readonly root: string
  readonly plan: ExecutablePlan
  readonly node: IrNode
  /** Manifests of the node's inputs, in `node.inputs` order; all are committed. */
  readonly inputs: ReadonlyArray<Manifest>
  /**
   * Runs `effect` once per node and key within a run and reuses its result, so that
   * `shardCount` and every shard share one expensive step (a read node's glob).
   */
  readonly remember: <A, E, R>(key: string, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

export interface ShardContext extends NodeContext {
  readonly shard: number
  /** Counters the operator updates; `writeRows` and `writeFile` add rows, tokens and bytes out. */
  readonly stats: ShardStats
  /** Operator results stored in the shard record's `extra`. */
  readonly extra: { [key: string]: JsonValue }
  /** Writes the rows as this shard's Parquet part file; a second call fails with `OperatorFailed`. */
  readonly writeRows: (rows: Stream.Stream<Batch, RunError, Storage>) => Effect.Effect<void, RunError, Storage>
  /** Writes one file of this shard under the artifact folder. */
  readonly writeFile: (path: string, bytes: Uint8Array, counts?: { rows?: number; tokens?: number }) => Effect.Effect<void, RunError, Storage>
  /** Streams the rows of input `index`, all shards or only `shards`. */
  readonly readInput: (index: number, shards?: ReadonlyArray<number>) => Stream.Stream<Batch, RunError, Storage>
}

export interface Operator {
  /** Number of shards; run before any shard, may look at storage (a read node globs its files). */
  readonly shardCount: (context: NodeContext) => Effect.Effect<number, RunError, Storage>
  readonly runShard: (context: ShardContext) => Effect.Effect<void, RunError, Storage>
  /**
   * Runs once after every shard is committed and before the manifest is written; what
   * it returns becomes the manifest's `extra`. Shard records are in shard order.
   */
  readonly finish?: (
    context: NodeContext,
    records: ReadonlyArray<ShardRecord>
  ) => Effect.Effect<{ [key: string]: JsonValue }, RunError, Storage>
}
