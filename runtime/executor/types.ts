/**
 * The executable plan the runtime accepts, the events it reports while running, and
 * the run summary and artifact manifest it writes.
 *
 * The compiler produces an `ExecutablePlan`; `runPlan` consumes it and returns a
 * `RunSummary`, which it also writes to `<root>/runs/<run-id>/summary.json`.
 */
import type { IrNode, JsonValue } from "../../compiler/ir.ts"

/** Version written into manifests and summaries as `toolVersion`. */
export const RUNTIME_VERSION = "mixwright-runtime 0.1.0"

/** Nodes in topological order: every input id names an earlier node. */
export interface ExecutablePlan {
  readonly nodes: ReadonlyArray<IrNode>
}

/** One event of a running plan; the CLI renders these (see `progress.ts`). */
export type RunEvent =
  | {
    readonly type: "run-started"
    readonly runId: string
    readonly root: string
    readonly nodes: number
    readonly at: string
  }
  | {
    readonly type: "node-started"
    readonly nodeId: string
    readonly name: string
    readonly kind: IrNode["kind"]
    readonly shards: number
    /** Shards already committed by an earlier, interrupted run. */
    readonly resumedShards: number
  }
  | {
    readonly type: "node-progress"
    readonly nodeId: string
    readonly name: string
    readonly shardsDone: number
    readonly shards: number
    readonly rowsOut: number
    readonly bytesOut: number
    readonly rowsPerSecond: number
    readonly megabytesPerSecond: number
    /** Estimated seconds left, from the shards still to run; `undefined` before the first shard ends. */
    readonly etaSeconds: number | undefined
  }
  | {
    readonly type: "node-finished"
    readonly nodeId: string
    readonly name: string
    readonly status: NodeStatus
    readonly rowsOut: number
    readonly tokensOut: number
    readonly seconds: number
    /** Error message when `status` is `failed`. */
    readonly error?: string
  }
  | {
    readonly type: "run-finished"
    readonly runId: string
    readonly status: "succeeded" | "failed"
    readonly seconds: number
  }

/**
 * - `computed`: this run executed the node and committed its artifact.
 * - `cached`: a committed artifact existed; nothing was executed.
 * - `failed`: the node, or one of its inputs, failed.
 * - `external`: the data runtime does not execute this kind (`stage`).
 */
export type NodeStatus = "computed" | "cached" | "failed" | "external"

export interface RunOptions {
  /** Artifact store root: a local path or `s3://` URI. */
  readonly root: string
  /** Names `<root>/runs/<run-id>/`; defaults to a UTC timestamp plus random suffix. */
  readonly runId?: string
  /** Maximum shards running at once across all nodes; defaults to the number of CPUs. */
  readonly concurrency?: number
  /**
   * Worker threads for CPU-heavy operators (tokenize); 0, the default, keeps them on
   * the main thread.
   */
  readonly workers?: number
  /** Node ids or names whose artifacts are removed and recomputed. */
  readonly force?: ReadonlyArray<string>
  readonly onEvent?: (event: RunEvent) => void
  /** Aborting interrupts the run; committed work stays committed. */
  readonly signal?: AbortSignal
}

/** Counters one shard reports; the manifest and summary add them up per node. */
export interface ShardStats {
  rowsIn: number
  rowsOut: number
  tokensIn: number
  tokensOut: number
  bytesIn: number
  bytesOut: number
  /** Rows dropped, by filter rule or dedup method. */
  readonly drops: Record<string, number>
  /** Input records skipped under `onError: "skip"`, by reason. */
  readonly skips: Record<string, number>
}

/** One file an artifact contains, relative to `<root>/artifacts/<node-id>/`. */
export interface ArtifactFile {
  readonly path: string
  readonly bytes: number
  readonly sha256: string
}

/** Column types an artifact Parquet file can hold. */
export type ColumnType = "string" | "double" | "boolean" | "uint32[]" | "json"

export interface ColumnSchema {
  readonly name: string
  readonly type: ColumnType
}

/** `_shards/<shard>.json`: written with `writeIfAbsent` after the shard's files. */
export interface ShardRecord {
  readonly nodeId: string
  readonly shard: number
  readonly files: ReadonlyArray<ArtifactFile>
  readonly schema: ReadonlyArray<ColumnSchema>
  readonly stats: ShardStats
  readonly seconds: number
  /** Operator-specific results, such as a mix's measured tokens per component. */
  readonly extra: { readonly [key: string]: JsonValue }
}

/** `_manifest.json`: written last; its presence is what makes an artifact committed. */
export interface Manifest {
  readonly nodeId: string
  readonly name: string
  readonly kind: IrNode["kind"]
  readonly version: string
  readonly params: IrNode["params"]
  readonly inputs: ReadonlyArray<string>
  readonly toolVersion: string
  readonly schema: ReadonlyArray<ColumnSchema>
  readonly shards: ReadonlyArray<{
    readonly shard: number
    readonly rows: number
    readonly tokens: number
    readonly bytes: number
    readonly files: ReadonlyArray<ArtifactFile>
  }>
  readonly rows: number
  readonly tokens: number
  readonly bytes: number
  readonly rowsIn: number
  readonly tokensIn: number
  readonly drops: Record<string, number>
  readonly skips: Record<string, number>
  readonly extra: { readonly [key: string]: JsonValue }
  readonly timings: {
    readonly committedAt: string
    /** Sum of the shards' own seconds (CPU-side work, not wall time). */
    readonly shardSeconds: number
  }
}

export interface NodeSummary {
  readonly id: string
  readonly name: string
  readonly kind: IrNode["kind"]
  readonly status: NodeStatus
  readonly rowsIn: number
  readonly rowsOut: number
  readonly tokensIn: number
  readonly tokensOut: number
  readonly bytesOut: number
  /** Wall seconds this run spent on the node (near zero when cached). */
  readonly seconds: number
  readonly drops: Record<string, number>
  readonly skips: Record<string, number>
  readonly error?: string
}

export interface MixComponentSummary {
  readonly name: string
  readonly plannedShare: number
  readonly measuredShare: number
  readonly plannedTokens: number
  readonly measuredTokens: number
  /** Tokens the component had available after tokenization. */
  readonly availableTokens: number
  /** `plannedTokens / availableTokens`: above 1 means the component repeats. */
  readonly epochs: number
}

export interface MixSummary {
  readonly nodeId: string
  readonly name: string
  readonly sequenceLength: number
  readonly sequences: number
  readonly totalTokens: number
  readonly components: ReadonlyArray<MixComponentSummary>
}

export interface RunSummary {
  readonly runId: string
  readonly root: string
  readonly status: "succeeded" | "failed"
  readonly startedAt: string
  readonly finishedAt: string
  readonly seconds: number
  readonly toolVersion: string
  readonly nodes: ReadonlyArray<NodeSummary>
  readonly mixes: ReadonlyArray<MixSummary>
  /** Reports of the plan's `qdc` nodes (the selected metrics of `runtime/ops/qdc`'s `QdcReport`). */
  readonly qdc: ReadonlyArray<{ readonly nodeId: string; readonly name: string; readonly report: JsonValue }>
  /** Absolute URIs of the files the plan's `mix`, `export` and `qdc` nodes wrote, by node name. */
  readonly outputs: { readonly [nodeName: string]: ReadonlyArray<string> }
  readonly totals: {
    readonly computed: number
    readonly cached: number
    readonly failed: number
    readonly external: number
    readonly rowsOut: number
    readonly tokensOut: number
    readonly bytesOut: number
  }
}

export const emptyStats = (): ShardStats => ({
  rowsIn: 0,
  rowsOut: 0,
  tokensIn: 0,
  tokensOut: 0,
  bytesIn: 0,
  bytesOut: 0,
  drops: {},
  skips: {}
})

/** Adds `count` to `counts[key]`. */
export const addCount = (counts: Record<string, number>, key: string, count = 1): void => {
  counts[key] = (counts[key] ?? 0) + count
}
