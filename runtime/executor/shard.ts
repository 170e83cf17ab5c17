/**
 * The per-shard API: everything one backend task needs to compute one shard of one
 * node, and to commit the node once all its shards are committed.
 *
 * `mixwright task <plan.json> <node-id> <shard>` calls `runShard`; the Slurm driver
 * calls `commitNode` after the node's array job. The local backend calls the same
 * functions from fibers.
 */
import { Effect, Stream } from "effect"
import type { IrNode } from "../../compiler/ir.ts"
import { Storage, StorageError } from "../../connectors/storage/Storage.ts"
import type { Batch, Row } from "../batch.ts"
import { operatorFor } from "../operators/index.ts"
import type { NodeContext, ShardContext } from "../operators/types.ts"
import { type ArtifactWriter, inferSchema, makeArtifactWriter } from "../store/codec.ts"
import {
  commitManifest,
  commitShard,
  listShardRecords,
  partFileName,
  readArtifactRows,
  readManifest,
  readShardRecord,
  removeArtifactFile,
  writeArtifactFile,
  writeArtifactStream
} from "../store/store.ts"
import { RunError } from "./errors.ts"
import {
  addCount,
  type ArtifactFile,
  type ColumnSchema,
  emptyStats,
  type ExecutablePlan,
  type Manifest,
  RUNTIME_VERSION,
  type ShardRecord
} from "./types.ts"

export interface StoreOptions {
  /** Artifact store root: a local path or `s3://` URI. */
  readonly root: string
  /**
   * Results operators may reuse across calls for the same plan, such as a read node's
   * file listing. `runPlan` passes one map per run; without it nothing is reused.
   */
  readonly memo?: Map<string, unknown>
}

export interface RunShardOptions extends StoreOptions {
  /** Called with the row count of each batch as the shard encodes its output. */
  readonly onRows?: (rows: number) => void
}

export interface ShardPlan {
  readonly nodeId: string
  readonly shards: number
  /** Shards whose commit record already exists. */
  readonly committed: ReadonlyArray<number>
  /** Whether the node's manifest exists (then there is nothing to run). */
  readonly nodeCommitted: boolean
}

export const findNode = (plan: ExecutablePlan, nodeId: string): Effect.Effect<IrNode, RunError> => {
  const node = plan.nodes.find((candidate) => candidate.id === nodeId || candidate.name === nodeId)
  return node === undefined
    ? Effect.fail(new RunError({ reason: "InvalidPlan", node: nodeId, description: "no node with this id or name in the plan" }))
    : Effect.succeed(node)
}

const nodeContext = (plan: ExecutablePlan, nodeId: string, options: StoreOptions): Effect.Effect<NodeContext, RunError, Storage> =>
  Effect.gen(function*() {
    const node = yield* findNode(plan, nodeId)
    const inputs: Array<Manifest> = []
    for (const inputId of node.inputs) {
      const manifest = yield* readManifest(options.root, inputId)
      if (manifest === undefined) {
        const input = plan.nodes.find((candidate) => candidate.id === inputId)
        return yield* new RunError({
          reason: "NotCommitted",
          node: node.name,
          description: `input ${input?.name ?? inputId} is not committed; run its node first`
        })
      }
      inputs.push(manifest)
    }
    const memo = options.memo
    const remember: NodeContext["remember"] = (key, effect) =>
      Effect.suspend(() => {
        const fullKey = `${node.id}:${key}`
        if (memo === undefined) return effect
        if (memo.has(fullKey)) return Effect.succeed(memo.get(fullKey) as Effect.Success<typeof effect>)
        return Effect.tap(effect, (value) => Effect.sync(() => memo.set(fullKey, value)))
      })
    return { root: options.root, plan, node, inputs, remember }
  })

/** Counts a node's shards and finds the ones already committed. */
export const planShards = (
  plan: ExecutablePlan,
  nodeId: string,
  options: StoreOptions
): Effect.Effect<ShardPlan, RunError, Storage> =>
  Effect.gen(function*() {
    const node = yield* findNode(plan, nodeId)
    const existing = yield* readManifest(options.root, node.id)
    if (existing !== undefined) {
      return { nodeId: node.id, shards: existing.shards.length, committed: existing.shards.map((shard) => shard.shard), nodeCommitted: true }
    }
    const context = yield* nodeContext(plan, node.id, options)
    const shards = yield* operatorFor(node).shardCount(context)
    const recorded = new Set(yield* listShardRecords(options.root, node.id))
    const committed = Array.from({ length: shards }, (_, shard) => shard).filter((shard) => recorded.has(shard))
    return { nodeId: node.id, shards, committed, nodeCommitted: false }
  })

const tokenCount = (row: Row): number => {
  let tokens = 0
  for (const key in row) {
    const value = row[key]
    if (value instanceof Uint32Array) tokens += value.length
  }
  return tokens
}

const mergeSchemas = (schemas: ReadonlyArray<ReadonlyArray<ColumnSchema>>): Array<ColumnSchema> => {
  const merged = new Map<string, ColumnSchema>()
  for (const schema of schemas) {
    for (const column of schema) {
      const seen = merged.get(column.name)
      if (seen === undefined) merged.set(column.name, column)
      else if (seen.type !== column.type) merged.set(column.name, { name: column.name, type: "json" })
    }
  }
  return [...merged.values()]
}

/**
 * Computes one shard and commits it. A shard that is already committed is not run
 * again; its record is returned as it is.
 */
export const runShard = (
  plan: ExecutablePlan,
  nodeId: string,
  shard: number,
  options: RunShardOptions
): Effect.Effect<ShardRecord, RunError, Storage> =>
  Effect.gen(function*() {
    const base = yield* nodeContext(plan, nodeId, options)
    const { node, root } = base
    const previous = yield* readShardRecord(root, node.id, shard)
    if (previous !== undefined) return previous

    const started = performance.now()
    const stats = emptyStats()
    const files: Array<ArtifactFile> = []
    let schema: Array<ColumnSchema> = []
    let wroteRows = false
    const context: ShardContext = {
      ...base,
      shard,
      stats,
      extra: {},
      readInput: (index, shards) => {
        const input = base.inputs[index]
        return input === undefined
          ? Stream.fail(new RunError({ reason: "InvalidPlan", node: node.name, description: `the operator read input ${index}, but the node has ${base.inputs.length}` }))
          : readArtifactRows(root, input.nodeId, shards === undefined ? {} : { shards })
      },
      writeRows: (rows) =>
        Effect.gen(function*() {
          if (wroteRows) {
            return yield* new RunError({ reason: "OperatorFailed", node: node.name, shard, description: "the operator wrote rows twice for one shard" })
          }
          wroteRows = true
          const path = partFileName(shard)
          let writer: ArtifactWriter | undefined
          let columns = new Set<string>()
          let rowCount = 0
          let tokens = 0
          const encode = (batch: Batch): Uint8Array => {
            if (batch.length === 0) return new Uint8Array(0)
            if (writer === undefined) {
              schema = inferSchema(batch)
              columns = new Set(schema.map((column) => column.name))
              writer = makeArtifactWriter(schema, path)
            } else {
              for (const row of batch) {
                for (const key in row) {
                  if (!columns.has(key)) {
                    throw new Error(`column ${JSON.stringify(key)} first appears after the first batch, whose columns fix the file schema (${[...columns].join(", ")})`)
                  }
                }
              }
            }
            rowCount += batch.length
            options.onRows?.(batch.length)
            for (const row of batch) tokens += tokenCount(row)
            return writer.write(batch)
          }
          // Row groups stream to storage as they complete, so a shard's output is never
          // held in memory whole. The storage body can only fail with StorageError, so
          // operator and encoding failures travel through `failure` and are re-raised.
          let failure: RunError | undefined
          const tunnel = (error: RunError): StorageError => {
            failure = error
            return new StorageError({ reason: "Unknown", method: "write", uri: path, description: error.description })
          }
          const body = rows.pipe(
            Stream.mapError(tunnel),
            Stream.mapEffect((batch) =>
              Effect.try({
                try: () => encode(batch),
                catch: (cause) =>
                  tunnel(new RunError({ reason: "OperatorFailed", node: node.name, shard, uri: path, description: `encoding the output failed: ${cause instanceof Error ? cause.message : String(cause)}`, cause }))
              })
            ),
            Stream.concat(Stream.suspend(() => (writer === undefined ? Stream.empty : Stream.make(writer.finish())))),
            Stream.filter((chunk) => chunk.byteLength > 0),
            Stream.provideService(Storage, yield* Storage)
          )
          const file = yield* writeArtifactStream(root, node.id, path, body).pipe(
            Effect.mapError((error) => failure ?? error)
          )
          if (writer === undefined) {
            // No rows: nothing was written but an empty object, which the shard does not list.
            yield* removeArtifactFile(root, node.id, path)
            return
          }
          files.push(file)
          stats.rowsOut += rowCount
          stats.tokensOut += tokens
          stats.bytesOut += file.bytes
        }),
      writeFile: (path, bytes, counts) =>
        Effect.gen(function*() {
          const file = yield* writeArtifactFile(root, node.id, path, bytes)
          files.push(file)
          stats.rowsOut += counts?.rows ?? 0
          stats.tokensOut += counts?.tokens ?? 0
          stats.bytesOut += bytes.byteLength
        })
    }
    yield* operatorFor(node).runShard(context)

    const record: ShardRecord = {
      nodeId: node.id,
      shard,
      files,
      schema,
      stats,
      seconds: (performance.now() - started) / 1000,
      extra: context.extra
    }
    const created = yield* commitShard(root, record)
    if (created) return record
    // Another task committed this shard first; its record is the one that counts.
    return (yield* readShardRecord(root, node.id, shard)) ?? record
  }).pipe(
    Effect.mapError((error) =>
      error.node !== undefined && error.shard !== undefined
        ? error
        : new RunError({
          reason: error.reason,
          node: error.node ?? nodeId,
          shard: error.shard ?? shard,
          uri: error.uri,
          description: error.description,
          cause: error.cause
        })
    )
  )

/**
 * Writes the manifest once every shard is committed, after the operator's `finish`
 * step. Returns the existing manifest when the node is already committed.
 */
export const commitNode = (
  plan: ExecutablePlan,
  nodeId: string,
  options: StoreOptions
): Effect.Effect<Manifest, RunError, Storage> =>
  Effect.gen(function*() {
    const node = yield* findNode(plan, nodeId)
    const existing = yield* readManifest(options.root, node.id)
    if (existing !== undefined) return existing
    const context = yield* nodeContext(plan, node.id, options)
    const operator = operatorFor(node)
    const shards = yield* operator.shardCount(context)
    const records: Array<ShardRecord> = []
    for (let shard = 0; shard < shards; shard++) {
      const record = yield* readShardRecord(options.root, node.id, shard)
      if (record === undefined) {
        return yield* new RunError({
          reason: "NotCommitted",
          node: node.name,
          shard,
          description: `shard ${shard} of ${shards} is not committed; run it before committing the node`
        })
      }
      records.push(record)
    }
    const extra = operator.finish === undefined ? {} : yield* operator.finish(context, records)
    const drops: Record<string, number> = {}
    const skips: Record<string, number> = {}
    for (const record of records) {
      for (const [key, count] of Object.entries(record.stats.drops)) addCount(drops, key, count)
      for (const [key, count] of Object.entries(record.stats.skips)) addCount(skips, key, count)
    }
    const sum = (pick: (record: ShardRecord) => number): number => records.reduce((total, record) => total + pick(record), 0)
    const manifest: Manifest = {
      nodeId: node.id,
      name: node.name,
      kind: node.kind,
      version: node.version,
      params: node.params,
      inputs: node.inputs,
      toolVersion: RUNTIME_VERSION,
      schema: mergeSchemas(records.map((record) => record.schema)),
      shards: records.map((record) => ({
        shard: record.shard,
        rows: record.stats.rowsOut,
        tokens: record.stats.tokensOut,
        bytes: record.stats.bytesOut,
        files: record.files
      })),
      rows: sum((record) => record.stats.rowsOut),
      tokens: sum((record) => record.stats.tokensOut),
      bytes: sum((record) => record.stats.bytesOut),
      rowsIn: sum((record) => record.stats.rowsIn),
      tokensIn: sum((record) => record.stats.tokensIn),
      drops,
      skips,
      extra: { ...Object.assign({}, ...records.map((record) => record.extra)), ...extra },
      timings: { committedAt: new Date().toISOString(), shardSeconds: sum((record) => record.seconds) }
    }
    const created = yield* commitManifest(options.root, manifest)
    if (created) return manifest
    return (yield* readManifest(options.root, node.id)) ?? manifest
  })
