/**
 * The `read` operator: one shard per matched file, rows with the mapped output
 * columns plus `source`.
 *
 * `onError: "fail"` stops at the first bad record or file with an error naming the
 * file and line or row. `onError: "skip"` drops it, counts it in the shard's
 * `skips` by reason (`InvalidJson`, `MissingField`, `Corrupt` ...), and goes on; a
 * file that cannot be opened at all is skipped whole and counted once.
 */
import { Effect, Stream } from "effect"
import { FormatError } from "../../connectors/formats/FormatError.ts"
import { readParquetBatches } from "../../connectors/formats/parquet-read.ts"
import { asyncBufferFor } from "../../connectors/storage/adapters.ts"
import { Storage } from "../../connectors/storage/Storage.ts"
import type { Batch, Row } from "../batch.ts"
import { RunError } from "../executor/errors.ts"
import { addCount } from "../executor/types.ts"
import { decodeJsonl } from "./internal/jsonl.ts"
import { decodeParams, ReadParams } from "./params.ts"
import type { NodeContext, Operator, ShardContext } from "./types.ts"

const GLOB_CHARS = /[*?{[]/

/** Expands the node's URIs and globs into a sorted, de-duplicated file list. */
const listFiles = (context: NodeContext): Effect.Effect<Array<string>, RunError, Storage> =>
  Effect.gen(function*() {
    const params = yield* decodeParams(ReadParams, context.node)
    const storage = yield* Storage
    const files = new Set<string>()
    for (const uri of params.uris) {
      const matches = GLOB_CHARS.test(uri)
        ? yield* storage.glob(uri)
        : yield* Effect.map(storage.stat(uri), (info) => info === undefined ? [] : [info])
      if (matches.length === 0) {
        return yield* new RunError({
          reason: "InvalidInput",
          node: context.node.name,
          uri,
          description: `no file matches ${uri}; check the source's location`
        })
      }
      for (const match of matches) files.add(match.uri)
    }
    return [...files].sort()
  }).pipe(
    Effect.catchTag("StorageError", (cause) =>
      Effect.fail(new RunError({ reason: "Storage", node: context.node.name, uri: cause.uri, description: cause.description, cause })))
  )

const toRunError = (context: ShardContext, uri: string) => (cause: unknown): RunError =>
  cause instanceof RunError
    ? cause
    : new RunError({
      reason: "InvalidInput",
      node: context.node.name,
      shard: context.shard,
      uri,
      description: cause instanceof FormatError ? cause.message : `reading failed: ${String(cause)}`,
      cause
    })

/** Applies the field mapping; returns the missing text field's name when the row has none. */
const mapRow = (raw: Row, fields: Record<string, string>, source: string): Row | string => {
  const entries = Object.entries(fields)
  if (entries.length === 0) return { ...raw, source }
  const row: Row = {}
  for (const [output, column] of entries) {
    const value = raw[column]
    if (output === "text" && typeof value !== "string") return column
    row[output] = value ?? null
  }
  row.source = source
  return row
}

async function* readFileRows(
  context: ShardContext,
  uri: string,
  params: ReadParams,
  storage: Storage["Service"]
): AsyncGenerator<Batch> {
  const skip = params.onError === "skip"
  const failOrSkip = (error: FormatError): void => {
    if (!skip) throw error
    addCount(context.stats.skips, error.reason)
  }
  const emit = (raw: Row, where: { line?: number; row?: number }, out: Array<Row>): void => {
    context.stats.rowsIn++
    const mapped = mapRow(raw, params.fields, params.source)
    if (typeof mapped === "string") {
      failOrSkip(new FormatError({
        format: params.format === "parquet" ? "parquet" : "jsonl",
        reason: "MissingField",
        file: uri,
        ...where,
        description: `the text field "${mapped}" is missing or not a string; fix the source's fields.text or set onError: "skip"`
      }))
      return
    }
    out.push(mapped)
  }

  try {
    if (params.format === "parquet") {
      const buffer = await asyncBufferFor(storage, uri)
      context.stats.bytesIn += buffer.byteLength
      const columns = Object.keys(params.fields).length === 0 ? undefined : [...new Set(Object.values(params.fields))]
      let row = 0
      for await (const batch of readParquetBatches(buffer, columns === undefined ? { name: uri } : { name: uri, columns })) {
        const out: Array<Row> = []
        for (const raw of batch) emit(raw, { row: row++ }, out)
        yield out
      }
    } else if (params.format === "jsonl" || params.format === "text") {
      const bytes = await Effect.runPromise(storage.read(uri))
      context.stats.bytesIn += bytes.byteLength
      let out: Array<Row> = []
      for (const item of decodeJsonl(bytes, uri, params.maxRecordBytes)) {
        if ("error" in item) failOrSkip(item.error)
        else emit(item.row, { line: item.line }, out)
        if (out.length >= 1024) {
          yield out
          out = []
        }
      }
      yield out
    } else {
      throw new RunError({ reason: "Unsupported", node: context.node.name, uri, description: `format ${params.format} is not implemented by the read operator yet` })
    }
  } catch (cause) {
    if (skip && cause instanceof FormatError) {
      addCount(context.stats.skips, cause.reason)
      return
    }
    throw cause
  }
}

export const readOperator: Operator = {
  shardCount: (context) => Effect.map(listFiles(context), (files) => files.length),
  runShard: (context) =>
    Effect.gen(function*() {
      const params = yield* decodeParams(ReadParams, context.node)
      const files = yield* listFiles(context)
      const uri = files[context.shard]
      if (uri === undefined) {
        return yield* new RunError({ reason: "InvalidPlan", node: context.node.name, shard: context.shard, description: `shard ${context.shard} does not exist; the node has ${files.length} files` })
      }
      const storage = yield* Storage
      context.extra.file = uri
      yield* context.writeRows(Stream.fromAsyncIterable(readFileRows(context, uri, params, storage), toRunError(context, uri)))
    }),
  finish: (_context, records) => Effect.succeed({ files: records.map((record) => record.extra.file ?? null) })
}
