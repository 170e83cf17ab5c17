/**
 * JSONL reading from a byte stream: plain, gzip (`.jsonl.gz`) or zstd (`.jsonl.zst`).
 *
 * Lines are split on bytes, so each line is decoded on its own with a fatal UTF-8
 * decoder and a line longer than `maxRecordBytes` is discarded while it streams past,
 * never held in memory. Every bad line (invalid UTF-8, invalid JSON, not an object,
 * missing a required field, too long) either fails the read with a `FormatError`
 * naming the file and line (`onError: "fail"`) or is dropped and counted by reason
 * (`onError: "skip"`).
 */
import { createReadStream } from "node:fs"
import { Readable } from "node:stream"
import { createGunzip, createZstdDecompress } from "node:zlib"
import { Stream } from "effect"
import type { Batch, Row } from "../../runtime/batch.ts"
import { StorageError } from "../storage/Storage.ts"
import { FormatError, describeCause } from "./FormatError.ts"

export type JsonlCompression = "none" | "gzip" | "zstd"

/** Reasons a line is skipped under `onError: "skip"`; the same names as `FormatError.reason`. */
export type JsonlSkipReason = "InvalidUtf8" | "InvalidJson" | "NotAnObject" | "RecordTooLarge" | "MissingField" | "Empty"

/** Default upper bound on one line, in bytes (64 MiB). */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024

export interface JsonlReadOptions {
  /** File name or URI, used in errors and to pick the compression when `compression` is absent. */
  readonly name: string
  /** Compression of the byte stream; by default from the name (`.gz`, `.zst`/`.zstd`, else none). */
  readonly compression?: JsonlCompression
  /** Policy for a bad line: throw a `FormatError` or count and drop it (default `"fail"`). */
  readonly onError?: "fail" | "skip"
  /** Longest accepted line in bytes, excluding the newline (default 64 MiB). */
  readonly maxRecordBytes?: number
  /** Top-level fields every record must have (a `null` value counts as present). */
  readonly requiredFields?: ReadonlyArray<string>
  /** Maximum rows per emitted batch (default 1024). */
  readonly batchRows?: number
  /** Called once per skipped line, for logging. */
  readonly onSkip?: (skip: JsonlSkip) => void
}

export interface JsonlSkip {
  readonly line: number
  readonly reason: JsonlSkipReason
  readonly description: string
}

/** Counters filled while the batches are consumed; final once iteration ends. */
export interface JsonlCounts {
  /** Lines seen, including blank and skipped lines. */
  lines: number
  /** Rows emitted. */
  rows: number
  /** Blank lines (only whitespace), ignored without counting as errors. */
  blankLines: number
  /** Bytes of decompressed input. */
  bytes: number
  /** Skipped lines by reason (`Empty` counts an empty file). */
  readonly skipped: Record<JsonlSkipReason, number>
}

export interface JsonlReader {
  readonly batches: AsyncIterable<Array<Row>>
  readonly counts: JsonlCounts
}

/** Picks the compression from a file name. */
export const jsonlCompressionFor = (name: string): JsonlCompression =>
  /\.gz$/i.test(name) ? "gzip" : /\.zstd?$/i.test(name) ? "zstd" : "none"

/** Bytes of a local file as an async iterable of chunks. */
export const byteSourceFromFile = (path: string): AsyncIterable<Uint8Array> => createReadStream(path)

const NEWLINE = 0x0a
const CARRIAGE_RETURN = 0x0d
const fatalDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

const isBlank = (bytes: Uint8Array): boolean => {
  for (const byte of bytes) {
    if (byte !== 0x20 && byte !== 0x09 && byte !== CARRIAGE_RETURN) return false
  }
  return true
}

const preview = (text: string): string => JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)

const GIT_LFS_POINTER = "version https://git-lfs"

/** Passes chunks through, failing when the file starts like a Git LFS pointer. */
async function* rejectLfsPointer(source: AsyncIterable<Uint8Array>, name: string): AsyncGenerator<Uint8Array> {
  let first = true
  for await (const chunk of source) {
    // NOTE: only a first chunk of at least 23 bytes is checked; file streams deliver far more.
    if (first && startsWith(chunk, GIT_LFS_POINTER)) {
      throw new FormatError({ format: "jsonl", reason: "Corrupt", file: name, description: "the file is a Git LFS pointer, not data; fetch the real file with git lfs pull" })
    }
    first = false
    yield chunk
  }
}

const decompress = (source: AsyncIterable<Uint8Array>, compression: JsonlCompression): AsyncIterable<Uint8Array> => {
  if (compression === "none") return source
  const input = Readable.from(source, { objectMode: false })
  const inflate = compression === "gzip" ? createGunzip() : createZstdDecompress()
  input.on("error", (error) => inflate.destroy(error))
  return input.pipe(inflate)
}

const startsWith = (bytes: Uint8Array, text: string): boolean => {
  if (bytes.byteLength < text.length) return false
  for (let i = 0; i < text.length; i++) if (bytes[i] !== text.charCodeAt(i)) return false
  return true
}

/**
 * Reads JSONL records from a byte stream. Returns the batches and a `counts` object
 * that is filled in as the batches are consumed.
 */
export const readJsonl = (source: AsyncIterable<Uint8Array>, options: JsonlReadOptions): JsonlReader => {
  const counts: JsonlCounts = {
    lines: 0,
    rows: 0,
    blankLines: 0,
    bytes: 0,
    skipped: { InvalidUtf8: 0, InvalidJson: 0, NotAnObject: 0, RecordTooLarge: 0, MissingField: 0, Empty: 0 }
  }
  return { batches: iterateJsonl(source, options, counts), counts }
}

async function* iterateJsonl(
  source: AsyncIterable<Uint8Array>,
  options: JsonlReadOptions,
  counts: JsonlCounts
): AsyncGenerator<Array<Row>> {
  const name = options.name
  const skip = options.onError === "skip"
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES
  const batchRows = Math.max(1, options.batchRows ?? 1024)
  const required = options.requiredFields ?? []
  const compression = options.compression ?? jsonlCompressionFor(name)

  const reject = (line: number, reason: JsonlSkipReason, description: string): void => {
    if (!skip) {
      throw new FormatError({
        format: "jsonl",
        reason,
        file: name,
        line,
        description: `${description}; fix the line, or set onError to "skip" to drop bad lines and count them`
      })
    }
    counts.skipped[reason]++
    options.onSkip?.({ line, reason, description })
  }

  let batch: Array<Row> = []
  let parts: Array<Uint8Array> = []
  let partBytes = 0
  let discarding = false
  let lineNumber = 0

  const finishLine = (): void => {
    lineNumber++
    counts.lines++
    if (discarding) {
      discarding = false
      reject(lineNumber, "RecordTooLarge", `the line is longer than maxRecordBytes (${maxRecordBytes} bytes); raise maxRecordBytes if such records are expected`)
      return
    }

    let bytes = parts.length === 1 ? parts[0] : Buffer.concat(parts, partBytes)
    parts = []
    partBytes = 0

    if (bytes.byteLength > 0 && bytes[bytes.byteLength - 1] === CARRIAGE_RETURN) bytes = bytes.subarray(0, bytes.byteLength - 1)
    if (lineNumber === 1 && startsWith(bytes, "\xef\xbb\xbf")) bytes = bytes.subarray(3)
    if (isBlank(bytes)) {
      counts.blankLines++
      return
    }

    let text: string
    try {
      text = fatalDecoder.decode(bytes)
    } catch {
      reject(lineNumber, "InvalidUtf8", "the line is not valid UTF-8")
      return
    }

    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (cause) {
      reject(lineNumber, "InvalidJson", `invalid JSON (${cause instanceof Error ? cause.message : String(cause)}) in ${preview(text)}`)
      return
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`
      reject(lineNumber, "NotAnObject", `expected a JSON object, got ${kind}: ${preview(text)}`)
      return
    }

    const record = value as Row
    for (const field of required) {
      if (!(field in record)) {
        reject(lineNumber, "MissingField", `required field ${JSON.stringify(field)} is missing; the record has fields ${Object.keys(record).slice(0, 10).map((key) => JSON.stringify(key)).join(", ")}`)
        return
      }
    }
    batch.push(record)
    counts.rows++
  }

  const append = (piece: Uint8Array): void => {
    if (discarding || piece.byteLength === 0) return
    if (partBytes + piece.byteLength > maxRecordBytes + 1) {
      // +1 leaves room for a trailing carriage return that is not part of the record.
      discarding = true
      parts = []
      partBytes = 0
      return
    }
    // Chunks from streams may be reused by their producer, so keep a copy.
    parts.push(piece.slice())
    partBytes += piece.byteLength
  }

  let lfsError: FormatError | undefined
  const guarded = (async function*() {
    try {
      yield* rejectLfsPointer(source, name)
    } catch (error) {
      if (error instanceof FormatError) lfsError = error
      throw error
    }
  })()
  try {
    for await (const raw of decompress(guarded, compression)) {
      const chunk = raw instanceof Uint8Array ? raw : new Uint8Array(raw as ArrayBuffer)
      counts.bytes += chunk.byteLength
      let start = 0
      while (start < chunk.byteLength) {
        const newline = chunk.indexOf(NEWLINE, start)
        if (newline === -1) {
          append(chunk.subarray(start))
          break
        }
        append(chunk.subarray(start, newline))
        finishLine()
        start = newline + 1
        if (batch.length >= batchRows) {
          yield batch
          batch = []
        }
      }
    }
  } catch (cause) {
    if (cause instanceof FormatError || cause instanceof StorageError) throw cause
    // The pipe into zlib reports a source failure as its own error; prefer the original.
    if (lfsError !== undefined) throw lfsError
    throw decompressError(name, compression, cause, counts.bytes === 0)
  }
  if (partBytes > 0 || discarding) finishLine()
  if (batch.length > 0) yield batch
  if (counts.bytes === 0) {
    if (!skip) {
      throw new FormatError({ format: "jsonl", reason: "Empty", file: name, description: "the file is empty; remove it from the source, or set onError to \"skip\" to count it and continue" })
    }
    counts.skipped.Empty++
    options.onSkip?.({ line: 0, reason: "Empty", description: "the file is empty" })
  }
}

const decompressError = (name: string, compression: JsonlCompression, cause: unknown, atStart: boolean): FormatError => {
  const message = describeCause(cause)
  if (compression === "none") {
    return new FormatError({ format: "jsonl", reason: "Corrupt", file: name, description: `reading the input failed (${message})`, cause })
  }
  const truncated = /unexpected end of file|premature end|truncated/i.test(message)
  const format = compression === "gzip" ? "gzip" : "zstd"
  return new FormatError({
    format: "jsonl",
    reason: truncated ? "Truncated" : "Corrupt",
    file: name,
    description: truncated
      ? `${format} data ends early (${message}); the file is truncated, so copy it again`
      : atStart
        ? `not ${format} data (${message}); check the file extension and compression`
        : `${format} data is corrupt (${message})`,
    cause
  })
}

/**
 * `readJsonl` as an Effect stream; `counts` fills in as the stream runs. Failures of the
 * source that are `StorageError` pass through unchanged.
 */
export const jsonlBatchStream = (
  source: AsyncIterable<Uint8Array>,
  options: JsonlReadOptions
): { readonly stream: Stream.Stream<Batch, FormatError | StorageError>; readonly counts: JsonlCounts } => {
  const reader = readJsonl(source, options)
  const stream = Stream.fromAsyncIterable(reader.batches, (cause): FormatError | StorageError =>
    cause instanceof FormatError || cause instanceof StorageError
      ? cause
      : new FormatError({ format: "jsonl", reason: "Corrupt", file: options.name, description: `read failed (${describeCause(cause)})`, cause }))
  return { stream, counts: reader.counts }
}
