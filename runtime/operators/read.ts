/**
 * The `read` operator: one shard per matched file, rows with the mapped output
 * columns plus `source`. Parquet, JSONL (plain, `.gz`, `.zst`) and Arrow IPC files are
 * decoded by `connectors/formats`; a `text` source is one document per file.
 *
 * `onError: "fail"` stops at the first bad record or file with an error naming the
 * file and line or row. `onError: "skip"` drops the record and counts it in the
 * shard's `skips` by reason (`InvalidJson`, `MissingField`, `Corrupt` ...). A file
 * that cannot be opened at all is skipped whole and counted once.
 */
import { Effect, Stream } from "effect"
import { FormatError } from "../../connectors/formats/FormatError.ts"
import { readArrowBatches } from "../../connectors/formats/arrow.ts"
import { readJsonl } from "../../connectors/formats/jsonl.ts"
import { readParquetBatches } from "../../connectors/formats/parquet-read.ts"
import { asyncBufferFor } from "../../connectors/storage/adapters.ts"
import { Storage } from "../../connectors/storage/Storage.ts"
import type { Batch, Row } from "../batch.ts"
import { RunError } from "../executor/errors.ts"
import { addCount } from "../executor/types.ts"
import { decodeParams, ReadParams } from "./params.ts"
import type { NodeContext, Operator, ShardContext } from "./types.ts"

const GLOB_CHARS = /[*?{[]/

/** Expands the node's URIs and globs into a sorted, de-duplicated file list. */
const listFiles = (context: NodeContext): Effect.Effect<Array<string>, RunError, Storage> =>
  context.remember("files", expandUris(context))

const expandUris = (context: NodeContext): Effect.Effect<Array<string>, RunError, Storage> =>
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
  let format: FormatError["format"] = "jsonl"
  if (params.format === "parquet" || params.format === "arrow") format = params.format
  const textColumn = params.fields.text
  const mapBatch = (batch: ReadonlyArray<Row>, firstRow: number): Array<Row> => {
    const out: Array<Row> = []
    for (const [offset, raw] of batch.entries()) {
      context.stats.rowsIn++
      const mapped = mapRow(raw, params.fields, params.source)
      if (typeof mapped !== "string") {
        out.push(mapped)
        continue
      }
      const error = new FormatError({
        format,
        reason: "MissingField",
        file: uri,
        row: firstRow + offset,
        description: `row ${firstRow + offset}: the text field "${mapped}" is missing or not a string; fix the source's fields.text or set onError: "skip"`
      })
      if (!skip) throw error
      addCount(context.stats.skips, error.reason)
    }
    return out
  }

  try {
    if (params.format === "jsonl") {
      const reader = readJsonl(Stream.toAsyncIterable(storage.readStream(uri)), {
        name: uri,
        onError: params.onError,
        maxRecordBytes: params.maxRecordBytes,
        ...(textColumn === undefined ? {} : { requiredFields: [textColumn] })
      })
      let row = 0
      for await (const batch of reader.batches) {
        yield mapBatch(batch, row)
        row += batch.length
      }
      context.stats.bytesIn += reader.counts.bytes
      for (const [reason, count] of Object.entries(reader.counts.skipped)) {
        if (count > 0) addCount(context.stats.skips, reason, count)
      }
    } else if (params.format === "parquet" || params.format === "arrow") {
      const columns = Object.keys(params.fields).length === 0 ? undefined : [...new Set(Object.values(params.fields))]
      const options = columns === undefined ? { name: uri } : { name: uri, columns }
      let batches: AsyncIterable<Array<Row>>
      if (params.format === "parquet") {
        const buffer = await asyncBufferFor(storage, uri)
        context.stats.bytesIn += buffer.byteLength
        batches = readParquetBatches(buffer, options)
      } else {
        const bytes = await Effect.runPromise(storage.read(uri))
        context.stats.bytesIn += bytes.byteLength
        batches = readArrowBatches(bytes, options)
      }
      let row = 0
      for await (const batch of batches) {
        yield mapBatch(batch, row)
        row += batch.length
      }
    } else {
      // A text source is one document per file.
      const bytes = await Effect.runPromise(storage.read(uri))
      context.stats.bytesIn += bytes.byteLength
      let text: string
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(bytes)
      } catch (cause) {
        throw new FormatError({ format: "jsonl", reason: "InvalidUtf8", file: uri, description: "the text file is not valid UTF-8; fix the encoding or set onError: \"skip\"", cause })
      }
      context.stats.rowsIn++
      yield [{ text, source: params.source }]
    }
  } catch (cause) {
    // A file that fails as a whole (empty, truncated, corrupt) is skipped whole and counted once.
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
