/**
 * Parquet reading, one row group at a time, with column projection.
 *
 * The reader takes a hyparquet `AsyncBuffer` (`byteLength` plus `slice(start, end)`), so the
 * same code reads local files (`asyncBufferFromFile`) and S3 objects through range reads
 * (`asyncBufferFor` in `connectors/storage/adapters.ts`). It fetches the footer, then only the column chunks of the
 * selected columns, one row group at a time. Values come out as plain JS: strings for
 * UTF8/STRING columns, `Uint8Array` for unannotated binary, numbers for integers that fit
 * in a double (bigint otherwise), `Uint32Array` for list<uint32> token columns.
 *
 * Every failure is a `FormatError` naming the file: encrypted files and unsupported
 * layouts are `Unsupported`, row groups that would decode to more than `maxRowGroupBytes`
 * are `TooLarge`, and malformed files are `Corrupt`, `Truncated` or `Empty`.
 */
import { open, stat } from "node:fs/promises"
import { zstdDecompressSync } from "node:zlib"
import { Stream } from "effect"
import { parquetMetadataAsync, parquetSchema } from "hyparquet"
import type { AsyncBuffer, Compressors, FileMetaData, SchemaTree } from "hyparquet"
import { compressors as defaultDecompressors } from "hyparquet-compressors"
import { parquetReadAsync } from "hyparquet/src/read.js"
import { assembleAsync, asyncGroupToRows } from "hyparquet/src/rowgroup.js"
import type { Batch, Row } from "../../runtime/batch.ts"
import { StorageError } from "../storage/Storage.ts"
import { FormatError, describeCause } from "./FormatError.ts"
import { UINT32_LE_COLUMNS_KEY } from "./parquet-write.ts"

export type { AsyncBuffer, FileMetaData } from "hyparquet"

/** Default rows per emitted batch. */
export const DEFAULT_BATCH_ROWS = 1024
/**
 * Default limit on the decoded bytes of the selected columns of one row group (1 GiB).
 * A row group is held in memory while it is converted to rows, so this bounds memory.
 */
export const DEFAULT_MAX_ROW_GROUP_BYTES = 1 << 30

export interface ParquetReadOptions {
  /** File name or URI, used in every error message. */
  readonly name: string
  /** Top-level columns to read; all columns when absent. */
  readonly columns?: ReadonlyArray<string>
  /** Maximum rows per emitted batch (default `DEFAULT_BATCH_ROWS`). */
  readonly batchRows?: number
  /** Maximum decoded bytes of the selected columns of one row group (default 1 GiB). */
  readonly maxRowGroupBytes?: number
}

/** Opens a local file as an `AsyncBuffer`; each `slice` is one positioned read. */
export const asyncBufferFromFile = async (path: string): Promise<AsyncBuffer> => {
  const { size } = await stat(path)
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size)
      const length = Math.max(0, stop - start)
      const bytes = new Uint8Array(length)
      if (length === 0) return bytes.buffer
      const handle = await open(path, "r")
      try {
        let done = 0
        while (done < length) {
          const { bytesRead } = await handle.read(bytes, done, length - done, start + done)
          if (bytesRead === 0) break
          done += bytesRead
        }
        return bytes.buffer.slice(0, done)
      } finally {
        await handle.close()
      }
    }
  }
}

const fail = (
  name: string,
  reason: FormatError["reason"],
  description: string,
  extra: { row?: number; cause?: unknown } = {}
): FormatError => new FormatError({ format: "parquet", reason, file: name, description, ...extra })

const readBytes = async (buffer: AsyncBuffer, start: number, end: number): Promise<Uint8Array> =>
  new Uint8Array(await buffer.slice(start, end))

const ascii = (bytes: Uint8Array): string => String.fromCharCode(...bytes)

/**
 * Reads and checks the footer. Checks the magic bytes and footer length before
 * handing the footer to hyparquet, so truncated, encrypted and non-Parquet files get
 * a precise reason instead of a decoder exception.
 */
export const readParquetMetadata = async (buffer: AsyncBuffer, name: string): Promise<FileMetaData> => {
  const size = buffer.byteLength
  if (size === 0) throw fail(name, "Empty", "the file is empty (0 bytes); remove it or rewrite it")
  if (size < 12) {
    throw fail(name, "Truncated", `the file is ${size} bytes, smaller than the 12 bytes of Parquet magic and footer length; the file is truncated or not Parquet`)
  }
  const head = ascii(await readBytes(buffer, 0, 4))
  const tail = await readBytes(buffer, size - 8, size)

  const tailMagic = ascii(tail.subarray(4))
  if (tailMagic === "PARE") {
    throw fail(name, "Unsupported", "the footer is encrypted (Parquet modular encryption, magic PARE); decrypt the file with a reader that has the keys, for example pyarrow with a CryptoFactory, and rewrite it unencrypted")
  }
  if (tailMagic !== "PAR1") {
    if (head === "PAR1") {
      throw fail(name, "Truncated", "the file starts with PAR1 but does not end with it; the file is truncated (an interrupted copy or upload)")
    }
    throw fail(name, "Corrupt", `not a Parquet file: it ends with ${JSON.stringify(tailMagic)}, expected "PAR1"`)
  }
  if (head !== "PAR1") throw fail(name, "Corrupt", `not a Parquet file: it starts with ${JSON.stringify(head)}, expected "PAR1"`)

  const footerLength = new DataView(tail.buffer, tail.byteOffset).getUint32(0, true)
  if (footerLength > size - 12) {
    throw fail(name, "Truncated", `the footer length is ${footerLength} bytes but the file has only ${size - 12} bytes besides magic and length; the file is truncated or corrupt`)
  }

  let metadata: FileMetaData
  try {
    // The footer length is known, so fetch exactly the footer instead of hyparquet's 512 KiB default.
    metadata = await parquetMetadataAsync(buffer, { initialFetchSize: footerLength + 8 })
  } catch (cause) {
    if (cause instanceof StorageError) throw cause
    throw fail(name, "Corrupt", `invalid footer metadata (${describeCause(cause)}); the file is corrupt`, { cause })
  }
  try {
    parquetSchema(metadata)
  } catch (cause) {
    throw fail(name, "Corrupt", `invalid schema in the footer (${describeCause(cause)}); the file is corrupt`, { cause })
  }
  return metadata
}

/** Returns the names of the top-level columns, in schema order. */
export const parquetColumnNames = (metadata: FileMetaData): Array<string> =>
  parquetSchema(metadata).children.map((child) => child.element.name)

const isUnsignedInt32 = (tree: SchemaTree): boolean => {
  const element = tree.element
  const logical = element.logical_type
  return element.converted_type === "UINT_32" ||
    (logical?.type === "INTEGER" && logical.bitWidth === 32 && !logical.isSigned)
}

/** Returns whether a top-level column is a list of uint32 (a token column). */
const isUint32List = (tree: SchemaTree): boolean => {
  const element = tree.element
  if (element.converted_type !== "LIST" && element.logical_type?.type !== "LIST") return false
  const repeated = tree.children[0]
  const leaf = repeated?.children.length ? repeated.children[0] : repeated
  return leaf !== undefined && leaf.children.length === 0 && isUnsignedInt32(leaf)
}

/** Converts bigint to number where exact, recursively through lists and structs. */
const toPlain = (value: unknown): unknown => {
  if (typeof value === "bigint") {
    const asNumber = Number(value)
    return Number.isSafeInteger(asNumber) ? asNumber : value
  }
  if (Array.isArray(value)) return value.map(toPlain)
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {}
    for (const [key, field] of Object.entries(value)) out[key] = toPlain(field)
    return out
  }
  return value
}

/** Columns written as `uint32_le` by `parquet-write.ts`, from the footer metadata. */
const uint32LeColumns = (metadata: FileMetaData): Array<string> => {
  const entry = metadata.key_value_metadata?.find((item) => item.key === UINT32_LE_COLUMNS_KEY)
  if (entry?.value === undefined) return []
  try {
    const parsed: unknown = JSON.parse(entry.value)
    return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === "string") : []
  } catch {
    return []
  }
}

const hostIsLittleEndian = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1

const fromLittleEndianBytes = (bytes: Uint8Array, name: string, row: number, column: string): Uint32Array => {
  if (bytes.byteLength % 4 !== 0) {
    throw fail(name, "Corrupt", `column ${column} holds ${bytes.byteLength} bytes, not a whole number of uint32 token ids`, { row })
  }
  const copy = bytes.slice()
  const values = new Uint32Array(copy.buffer, 0, copy.byteLength / 4)
  if (!hostIsLittleEndian) {
    const view = new DataView(copy.buffer)
    for (let i = 0; i < values.length; i++) values[i] = view.getUint32(i * 4, true)
  }
  return values
}

class InvalidUtf8Value extends Error {}
const fatalDecoder = new TextDecoder("utf-8", { fatal: true })
const stringFromBytes = (bytes: Uint8Array | undefined): string | undefined => {
  if (bytes === undefined) return undefined
  try {
    return fatalDecoder.decode(bytes)
  } catch {
    throw new InvalidUtf8Value("a UTF8/STRING value is not valid UTF-8")
  }
}

class DecodeLimitExceeded extends Error {}

/**
 * hyparquet-compressors' codecs, except ZSTD, which uses Node's native zstd
 * (`zstdDecompressSync`, Node 22.15 and later, as the writer's `zstdCompressSync`).
 * On the benchmark corpus the native decoder runs 2-3 times faster than the pure-JS
 * fzstd that hyparquet-compressors ships (`bench/pipeline.ts`).
 */
const decompressors: Compressors = {
  ...defaultDecompressors,
  ZSTD: (input: Uint8Array, outputLength: number) => zstdDecompressSync(input, { maxOutputLength: Math.max(outputLength, 1) })
}

/**
 * Wraps the decompressors so that each row group may inflate to at most `limit` bytes.
 * Page headers declare their uncompressed size and hyparquet allocates it before
 * decompressing, so the check runs before any allocation and also catches files whose
 * column metadata understates the sizes.
 */
const limitedDecompressors = (limit: number): Compressors => {
  let remaining = limit
  const out: Compressors = {}
  for (const [codec, decompress] of Object.entries(decompressors)) {
    if (decompress === undefined) continue
    out[codec as keyof Compressors] = (input: Uint8Array, outputLength: number) => {
      remaining -= outputLength
      if (remaining < 0) {
        throw new DecodeLimitExceeded(`${codec} pages of this row group declare more than ${limit} decompressed bytes`)
      }
      return decompress(input, outputLength)
    }
  }
  return out
}

/**
 * Maps a failure while decoding to a `FormatError`. A `StorageError` from the buffer's
 * range reads passes through unchanged, so retry policies still see its reason.
 */
const classifyDecodeError = (name: string, where: string, cause: unknown): FormatError | StorageError => {
  if (cause instanceof FormatError || cause instanceof StorageError) return cause
  if (cause instanceof InvalidUtf8Value) {
    return fail(name, "InvalidUtf8", `${where}: a UTF8/STRING value is not valid UTF-8; fix the writer or read the column as binary`, { cause })
  }
  if (cause instanceof DecodeLimitExceeded) {
    return fail(name, "TooLarge", `${where}: ${cause.message}; raise maxRowGroupBytes or rewrite the file with smaller row groups`, { cause })
  }
  const message = describeCause(cause)
  if (/unsupported|no decompressor|not supported/i.test(message)) {
    return fail(name, "Unsupported", `${where}: ${message}; rewrite the file with pyarrow or DuckDB using standard encodings and SNAPPY, GZIP or ZSTD`, { cause })
  }
  return fail(name, "Corrupt", `${where}: failed to decode (${message}); the file is corrupt or uses a layout hyparquet cannot decode, so check it with pyarrow or DuckDB and rewrite it`, { cause })
}

/** Marks a promise as handled so that a failure the caller never awaits cannot crash the process. */
const quiet = <A>(promise: Promise<A>): Promise<A> => {
  promise.catch(() => undefined)
  return promise
}

/**
 * Reads a Parquet file as batches of rows, one row group at a time.
 *
 * Reads the footer plus, per row group, the byte ranges of the selected columns only.
 * Each row group is decoded whole (bounded by `maxRowGroupBytes`) and emitted in
 * batches of at most `batchRows` rows.
 */
export async function* readParquetBatches(buffer: AsyncBuffer, options: ParquetReadOptions): AsyncGenerator<Array<Row>> {
  const name = options.name
  const batchRows = Math.max(1, options.batchRows ?? DEFAULT_BATCH_ROWS)
  const maxRowGroupBytes = options.maxRowGroupBytes ?? DEFAULT_MAX_ROW_GROUP_BYTES
  const metadata = await readParquetMetadata(buffer, name)
  const schemaTree = parquetSchema(metadata)
  const available = schemaTree.children.map((child) => child.element.name)
  const selected = options.columns === undefined ? available : [...options.columns]
  const missing = selected.filter((column) => !available.includes(column))
  if (missing.length > 0) {
    throw fail(name, "MissingField", `column ${missing.map((c) => JSON.stringify(c)).join(", ")} not found; the file has columns ${available.map((c) => JSON.stringify(c)).join(", ")}`)
  }
  const tokenColumns = new Set(
    schemaTree.children.filter((child) => selected.includes(child.element.name) && isUint32List(child)).map((child) => child.element.name)
  )
  const littleEndianColumns = new Set(uint32LeColumns(metadata).filter((column) => selected.includes(column)))

  let groupStart = 0
  for (const [groupIndex, rowGroup] of metadata.row_groups.entries()) {
    const groupRows = Number(rowGroup.num_rows)
    const where = `row group ${groupIndex}`
    let declaredBytes = 0
    for (const chunk of rowGroup.columns) {
      const top = chunk.meta_data?.path_in_schema[0]
      const encrypted = chunk.crypto_metadata !== undefined || chunk.encrypted_column_metadata !== undefined
      if (chunk.meta_data === undefined || encrypted) {
        if (encrypted && (top === undefined || selected.includes(top))) {
          throw fail(name, "Unsupported", `${where}: column ${top ?? "(unknown)"} is encrypted (Parquet modular encryption); decrypt the file with a reader that has the keys and rewrite it, or select only plaintext columns`)
        }
        if (chunk.meta_data === undefined) {
          throw fail(name, "Unsupported", `${where}: a column chunk has no plaintext metadata (Parquet modular encryption); decrypt the file with a reader that has the keys and rewrite it`)
        }
      }
      if (top !== undefined && selected.includes(top)) declaredBytes += Number(chunk.meta_data.total_uncompressed_size)
    }
    if (declaredBytes > maxRowGroupBytes) {
      throw fail(name, "TooLarge", `${where}: the selected columns declare ${declaredBytes} uncompressed bytes, more than the limit of ${maxRowGroupBytes}; raise maxRowGroupBytes, select fewer columns, or rewrite the file with smaller row groups`)
    }

    let rows: Array<Record<string, unknown>>
    try {
      const [group] = parquetReadAsync({
        file: buffer,
        metadata,
        columns: selected,
        rowStart: groupStart,
        rowEnd: groupStart + groupRows,
        compressors: limitedDecompressors(maxRowGroupBytes),
        utf8: false,
        parsers: { stringFromBytes }
      })
      if (group === undefined) {
        rows = []
      } else {
        for (const column of group.asyncColumns) quiet(column.data)
        for (const column of group.asyncColumns) {
          try {
            await column.data
          } catch (cause) {
            throw classifyDecodeError(name, `${where}, column ${column.pathInSchema.join(".")}`, cause)
          }
        }
        const assembled = assembleAsync(group, schemaTree, { stringFromBytes })
        for (const column of assembled.asyncColumns) quiet(column.data)
        rows = await asyncGroupToRows(assembled, assembled.selectStart ?? 0, assembled.selectEnd ?? groupRows, selected, "object")
      }
    } catch (cause) {
      throw classifyDecodeError(name, where, cause)
    }

    for (let start = 0; start < rows.length; start += batchRows) {
      const batch: Array<Row> = []
      for (const raw of rows.slice(start, start + batchRows)) {
        const row: Row = {}
        for (const column of selected) {
          const value = raw[column]
          row[column] = tokenColumns.has(column) && Array.isArray(value)
            ? Uint32Array.from(value as Array<number>)
            : littleEndianColumns.has(column) && value instanceof Uint8Array
            ? fromLittleEndianBytes(value, name, groupStart + start + batch.length, column)
            : toPlain(value)
        }
        batch.push(row)
      }
      yield batch
    }
    groupStart += groupRows
  }
}

const asFormatError = (name: string) => (cause: unknown): FormatError | StorageError =>
  cause instanceof FormatError || cause instanceof StorageError
    ? cause
    : fail(name, "Corrupt", `read failed (${describeCause(cause)})`, { cause })

/** `readParquetBatches` as an Effect stream; range-read failures of the buffer stay `StorageError`. */
export const parquetBatchStream = (
  buffer: AsyncBuffer,
  options: ParquetReadOptions
): Stream.Stream<Batch, FormatError | StorageError> =>
  Stream.fromAsyncIterable(readParquetBatches(buffer, options), asFormatError(options.name))
