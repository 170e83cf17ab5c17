/**
 * One entry point for reading a source file of any supported format through `Storage`.
 *
 * `readSourceFile(uri, options)` picks the reader by `format` and returns an Effect stream
 * of batches that needs the `Storage` service, so a `read` node can treat every shard the
 * same on local disk and S3. Parquet is read by ranges (footer plus projected columns),
 * JSONL and text as byte streams, Arrow IPC whole.
 */
import { Readable } from "node:stream"
import { createGunzip, createZstdDecompress } from "node:zlib"
import { Effect, Stream } from "effect"
import type { Batch, Row } from "../../runtime/batch.ts"
import { asyncBufferFor } from "../storage/adapters.ts"
import { Storage, StorageError } from "../storage/Storage.ts"
import { arrowBatchStream } from "./arrow.ts"
import { FormatError, describeCause } from "./FormatError.ts"
import { DEFAULT_MAX_RECORD_BYTES, jsonlBatchStream, jsonlCompressionFor } from "./jsonl.ts"
import type { JsonlSkip } from "./jsonl.ts"
import { parquetBatchStream } from "./parquet-read.ts"

export type SourceFormat = "parquet" | "jsonl" | "arrow" | "text"

export interface SourceReadOptions {
  readonly format: SourceFormat
  /** Columns or fields to keep (Parquet and Arrow read only these); all when absent. */
  readonly columns?: ReadonlyArray<string>
  /** Policy for a bad record in JSONL and text files (default `"fail"`). */
  readonly onError?: "fail" | "skip"
  /** Longest accepted JSONL line or text file in bytes (default 64 MiB). */
  readonly maxRecordBytes?: number
  /** Fields every JSONL record must have. */
  readonly requiredFields?: ReadonlyArray<string>
  readonly batchRows?: number
  /** Maximum decoded bytes of one Parquet row group (default 1 GiB). */
  readonly maxRowGroupBytes?: number
  /** Called once per skipped JSONL line or text file. */
  readonly onSkip?: (skip: JsonlSkip) => void
}

const fatalDecoder = new TextDecoder("utf-8", { fatal: true })

/** Keeps only the named fields that the row has. */
const project = (row: Row, columns: ReadonlyArray<string>): Row => {
  const out: Row = {}
  for (const column of columns) if (column in row) out[column] = row[column]
  return out
}

/**
 * Reads a plain-text file (optionally `.gz` or `.zst`) as one row `{ text }`. The file
 * is skipped or rejected, by policy, when it is empty, longer than `maxRecordBytes`,
 * or not valid UTF-8.
 */
const textFileStream = (
  uri: string,
  options: SourceReadOptions
): Stream.Stream<Batch, FormatError | StorageError, Storage> =>
  Stream.unwrap(Effect.gen(function*() {
    const storage = yield* Storage
    const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES
    const reject = (reason: "Empty" | "RecordTooLarge" | "InvalidUtf8", description: string) => {
      if (options.onError !== "skip") {
        return Effect.fail(new FormatError({ format: "text", reason, file: uri, description: `${description}; fix the file, or set onError to "skip" to drop such files and count them` }))
      }
      options.onSkip?.({ line: 0, reason, description })
      return Effect.succeed(Stream.empty)
    }

    const chunks: Array<Uint8Array> = []
    let size = 0
    let tooLarge = false
    const compression = jsonlCompressionFor(uri)
    const source = Stream.toAsyncIterable(storage.readStream(uri))
    const bytes = yield* Effect.tryPromise({
      try: async () => {
        const input: AsyncIterable<Uint8Array> = compression === "none"
          ? source
          : Readable.from(source).pipe(compression === "gzip" ? createGunzip() : createZstdDecompress())
        for await (const chunk of input) {
          size += chunk.byteLength
          if (size > maxRecordBytes) {
            tooLarge = true
            break
          }
          chunks.push(chunk)
        }
        return Buffer.concat(chunks)
      },
      catch: (cause) =>
        cause instanceof StorageError
          ? cause
          : new FormatError({ format: "text", reason: "Corrupt", file: uri, description: `reading failed (${describeCause(cause)})`, cause })
    })
    if (tooLarge) return yield* reject("RecordTooLarge", `the file is longer than maxRecordBytes (${maxRecordBytes} bytes)`)
    if (bytes.byteLength === 0) return yield* reject("Empty", "the file is empty")
    let text: string
    try {
      text = fatalDecoder.decode(bytes)
    } catch {
      return yield* reject("InvalidUtf8", "the file is not valid UTF-8")
    }
    const row: Row = { text }
    return Stream.make([row] as Batch)
  }))

/**
 * Reads one source file through `Storage` as a stream of batches.
 *
 * Gotchas: JSONL skip counts are reported only through `onSkip`; use `readJsonl` directly
 * to get the `counts` object.
 */
export const readSourceFile = (
  uri: string,
  options: SourceReadOptions
): Stream.Stream<Batch, FormatError | StorageError, Storage> => {
  switch (options.format) {
    case "parquet":
      return Stream.unwrap(Effect.gen(function*() {
        const storage = yield* Storage
        const buffer = yield* Effect.tryPromise({
          try: () => asyncBufferFor(storage, uri),
          catch: (cause) => cause instanceof StorageError ? cause : new StorageError({ reason: "Unknown", method: "stat", uri, description: describeCause(cause) })
        })
        return parquetBatchStream(buffer, {
          name: uri,
          ...(options.columns === undefined ? {} : { columns: options.columns }),
          ...(options.batchRows === undefined ? {} : { batchRows: options.batchRows }),
          ...(options.maxRowGroupBytes === undefined ? {} : { maxRowGroupBytes: options.maxRowGroupBytes })
        })
      }))
    case "jsonl":
      return Stream.unwrap(Effect.gen(function*() {
        const storage = yield* Storage
        const { stream } = jsonlBatchStream(Stream.toAsyncIterable(storage.readStream(uri)), {
          name: uri,
          ...(options.onError === undefined ? {} : { onError: options.onError }),
          ...(options.maxRecordBytes === undefined ? {} : { maxRecordBytes: options.maxRecordBytes }),
          ...(options.requiredFields === undefined ? {} : { requiredFields: options.requiredFields }),
          ...(options.batchRows === undefined ? {} : { batchRows: options.batchRows }),
          ...(options.onSkip === undefined ? {} : { onSkip: options.onSkip })
        })
        const columns = options.columns
        return columns === undefined ? stream : Stream.map(stream, (batch) => batch.map((row) => project(row, columns)))
      }))
    case "arrow":
      return Stream.unwrap(Effect.gen(function*() {
        const storage = yield* Storage
        return arrowBatchStream(Stream.toAsyncIterable(storage.readStream(uri)), {
          name: uri,
          ...(options.columns === undefined ? {} : { columns: options.columns }),
          ...(options.batchRows === undefined ? {} : { batchRows: options.batchRows })
        })
      }))
    case "text":
      return textFileStream(uri, options)
  }
}
