/**
 * Arrow IPC reading (file and stream formats) to rows, and writing rows to Arrow IPC.
 *
 * Built on `apache-arrow`, with two gaps of apache-arrow 21 closed here. It ships no
 * codecs for compressed record batches, so this module registers ZSTD (from `node:zlib`)
 * and LZ4_FRAME (a small decoder below) in its global `compressionRegistry` on load.
 * It also decodes big-endian files as if they were little-endian, so the reader checks
 * the schema's endianness first and rejects big-endian input.
 */
import { zstdCompressSync, zstdDecompressSync } from "node:zlib"
import {
  Binary,
  Bool,
  CompressionType,
  Field,
  Float64,
  Int32,
  Int64,
  List,
  RecordBatchReader,
  Table,
  Uint32,
  Utf8,
  compressionRegistry,
  tableToIPC,
  vectorFromArray
} from "apache-arrow"
import type { DataType, RecordBatch, Vector } from "apache-arrow"
import { Stream } from "effect"
import type { Batch, Row } from "../../runtime/batch.ts"
import { StorageError } from "../storage/Storage.ts"
import { FormatError, describeCause } from "./FormatError.ts"
import type { ParquetColumnSpec } from "./parquet-write.ts"
import { concatBytes } from "./bytes.ts"

const fail = (name: string, reason: FormatError["reason"], description: string, cause?: unknown): FormatError =>
  new FormatError({ format: "arrow", reason, file: name, description, ...(cause === undefined ? {} : { cause }) })

// ---------------------------------------------------------------------------
// Codecs
// ---------------------------------------------------------------------------

/**
 * Decodes one LZ4 frame (the format Arrow uses for LZ4_FRAME buffers), including
 * linked blocks, whose matches reach back into earlier blocks of the same frame.
 */
export const decodeLz4Frame = (input: Uint8Array): Uint8Array => {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength)
  if (input.byteLength < 7 || view.getUint32(0, true) !== 0x184d2204) throw new Error("lz4: not an LZ4 frame (bad magic)")
  const flags = input[4]
  if (flags >> 6 !== 1) throw new Error(`lz4: unsupported frame version ${flags >> 6}`)
  const blockChecksum = (flags & 0x10) !== 0
  const hasContentSize = (flags & 0x08) !== 0
  const hasDictionary = (flags & 0x01) !== 0
  let position = 6
  let capacity = 1 << 16
  if (hasContentSize) {
    capacity = Math.max(1, Number(view.getBigUint64(position, true)))
    position += 8
  }
  if (hasDictionary) throw new Error("lz4: frames with a dictionary id are not supported")
  position += 1 // header checksum
  let output = new Uint8Array(capacity)
  let length = 0
  const ensure = (extra: number) => {
    if (length + extra <= output.byteLength) return
    const grown = new Uint8Array(Math.max(output.byteLength * 2, length + extra))
    grown.set(output.subarray(0, length))
    output = grown
  }
  for (;;) {
    if (position + 4 > input.byteLength) throw new Error("lz4: frame ends before its end mark")
    const word = view.getUint32(position, true)
    position += 4
    if (word === 0) break
    const size = word & 0x7fffffff
    if (position + size > input.byteLength) throw new Error("lz4: block extends past the end of the frame")
    const block = input.subarray(position, position + size)
    position += size + (blockChecksum ? 4 : 0)
    if ((word & 0x80000000) !== 0) {
      ensure(size)
      output.set(block, length)
      length += size
      continue
    }
    for (let i = 0; i < block.byteLength;) {
      const token = block[i++]
      let literals = token >> 4
      if (literals === 15) {
        let byte = 255
        while (byte === 255 && i < block.byteLength) literals += byte = block[i++]
      }
      if (i + literals > block.byteLength) throw new Error("lz4: literals extend past the block")
      ensure(literals)
      output.set(block.subarray(i, i + literals), length)
      length += literals
      i += literals
      if (i >= block.byteLength) break
      const offset = block[i] | (block[i + 1] << 8)
      i += 2
      if (offset === 0 || offset > length) throw new Error(`lz4: match offset ${offset} out of range`)
      let matchLength = token & 15
      if (matchLength === 15) {
        let byte = 255
        while (byte === 255 && i < block.byteLength) matchLength += byte = block[i++]
      }
      matchLength += 4
      ensure(matchLength)
      for (let from = length - offset, end = length + matchLength; length < end;) output[length++] = output[from++]
    }
  }
  return output.subarray(0, length)
}

compressionRegistry.set(CompressionType.ZSTD, {
  encode: (data: Uint8Array) => new Uint8Array(zstdCompressSync(data)),
  decode: (data: Uint8Array) => new Uint8Array(zstdDecompressSync(data))
})
compressionRegistry.set(CompressionType.LZ4_FRAME, { decode: decodeLz4Frame })

// ---------------------------------------------------------------------------
// Endianness check
// ---------------------------------------------------------------------------

const FILE_MAGIC = "ARROW1"

const startsWithMagic = (bytes: Uint8Array): boolean =>
  bytes.byteLength >= 6 && String.fromCharCode(...bytes.subarray(0, 6)) === FILE_MAGIC

/**
 * Returns the schema's endianness, or throws a description of what is malformed.
 * Reads the flatbuffers by hand. The file format keeps the schema in the footer
 * (Footer.schema is field 1; apache-arrow's own file writer puts it only there), the
 * stream format in its first message (Message.header_type is field 1, Message.header
 * field 2). Schema.endianness is field 0: 0 little, 1 big.
 */
const schemaEndianness = (bytes: Uint8Array): "big" | "little" => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const need = (end: number) => {
    if (end > bytes.byteLength || end < 0) throw new Error(`a schema structure extends past the end of the input (${end} > ${bytes.byteLength} bytes)`)
  }
  const u32 = (at: number) => (need(at + 4), view.getUint32(at, true))
  const i32 = (at: number) => (need(at + 4), view.getInt32(at, true))
  const field = (table: number, index: number): number => {
    const vtable = table - i32(table)
    need(vtable + 4)
    const vtableLength = view.getUint16(vtable, true)
    const slot = 4 + 2 * index
    return slot < vtableLength ? (need(vtable + slot + 2), view.getUint16(vtable + slot, true)) : 0
  }
  const child = (table: number, index: number, what: string): number => {
    const offset = field(table, index)
    if (offset === 0) throw new Error(`${what} is missing`)
    return table + offset + u32(table + offset)
  }

  let schema: number
  if (startsWithMagic(bytes)) {
    need(16)
    const end = bytes.byteLength - 6
    if (String.fromCharCode(...bytes.subarray(end)) !== FILE_MAGIC) throw new Error("the file starts with ARROW1 but does not end with it; it is truncated")
    const footerLength = i32(end - 4)
    const footer = end - 4 - footerLength
    if (footerLength <= 0 || footer < 8) throw new Error(`invalid footer length ${footerLength}`)
    schema = child(footer + u32(footer), 1, "the footer schema")
  } else {
    let position = 0
    let metadataLength = i32(position)
    position += 4
    if (metadataLength === -1) {
      metadataLength = i32(position)
      position += 4
    }
    if (metadataLength <= 0 || position + metadataLength > bytes.byteLength) {
      throw new Error(`invalid first message length ${metadataLength} for ${bytes.byteLength} bytes of input`)
    }
    const message = position + u32(position)
    const headerTypeOffset = field(message, 1)
    const headerType = headerTypeOffset === 0 ? 0 : (need(message + headerTypeOffset + 1), bytes[message + headerTypeOffset])
    if (headerType !== 1) throw new Error(`the first message is not a Schema (header type ${headerType})`)
    schema = child(message, 2, "the schema message header")
  }
  const endiannessOffset = field(schema, 0)
  if (endiannessOffset === 0) return "little"
  need(schema + endiannessOffset + 2)
  return view.getInt16(schema + endiannessOffset, true) === 1 ? "big" : "little"
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

export interface ArrowReadOptions {
  /** File name or URI, used in every error message. */
  readonly name: string
  /** Top-level columns to keep; all when absent. */
  readonly columns?: ReadonlyArray<string>
  /** Maximum rows per emitted batch (default 1024); record batches are split, never merged. */
  readonly batchRows?: number
}

const isVector = (value: unknown): value is Vector =>
  value !== null && typeof value === "object" && "type" in value && "toArray" in value && "getChildAt" in value

/** Converts an Arrow value to plain JS: bigint to number where exact, vectors to arrays, structs and maps to objects. */
const toPlain = (value: unknown): unknown => {
  if (typeof value === "bigint") {
    const asNumber = Number(value)
    return Number.isSafeInteger(asNumber) ? asNumber : value
  }
  if (value === null || typeof value !== "object") return value
  if (value instanceof Uint8Array) return value
  if (isVector(value)) {
    const values = value.toArray() as unknown
    if (values instanceof Uint32Array) return Uint32Array.from(values)
    return Array.from(values as ArrayLike<unknown>, toPlain)
  }
  if ("toJSON" in value && typeof value.toJSON === "function") {
    const json = value.toJSON() as unknown
    if (json === null || typeof json !== "object") return json
    const out: Record<string, unknown> = {}
    for (const [key, field] of Object.entries(json)) out[key] = toPlain(field)
    return out
  }
  return value
}

const batchToRows = (batch: RecordBatch, columns: ReadonlyArray<string>): Array<Row> => {
  const vectors = columns.map((column) => [column, batch.getChild(column)] as const)
  const rows: Array<Row> = new Array(batch.numRows)
  for (let i = 0; i < batch.numRows; i++) {
    const row: Row = {}
    for (const [column, vector] of vectors) row[column] = toPlain(vector?.get(i) ?? null)
    rows[i] = row
  }
  return rows
}

const classify = (name: string, cause: unknown): FormatError | StorageError => {
  if (cause instanceof FormatError || cause instanceof StorageError) return cause
  const message = describeCause(cause)
  if (/codec not found|not supported|unsupported/i.test(message)) {
    return fail(name, "Unsupported", `${message}; rewrite the file uncompressed or with ZSTD or LZ4_FRAME`, cause)
  }
  if (/Expected to read|only read|end of|past the end/i.test(message)) {
    return fail(name, "Truncated", `${message}; the file is truncated or corrupt`, cause)
  }
  return fail(name, "Corrupt", `failed to decode (${message}); the file is corrupt or not Arrow IPC`, cause)
}

/**
 * Reads Arrow IPC bytes (file or stream format, detected from the `ARROW1` magic) as
 * batches of rows.
 *
 * Gotchas: the whole input is buffered, because the file format keeps its footer at
 * the end and the checks above need the schema message first.
 */
export async function* readArrowBatches(
  input: Uint8Array | AsyncIterable<Uint8Array>,
  options: ArrowReadOptions
): AsyncGenerator<Array<Row>> {
  const name = options.name
  const batchRows = Math.max(1, options.batchRows ?? 1024)
  let bytes: Uint8Array
  if (input instanceof Uint8Array) {
    bytes = input
  } else {
    const chunks: Array<Uint8Array> = []
    for await (const chunk of input) chunks.push(chunk)
    bytes = concatBytes(chunks)
  }
  if (bytes.byteLength === 0) throw fail(name, "Empty", "the file is empty (0 bytes)")
  let endianness: "big" | "little"
  try {
    endianness = schemaEndianness(bytes)
  } catch (cause) {
    const description = describeCause(cause)
    const truncated = /truncated|past the end/.test(description)
    throw fail(name, truncated ? "Truncated" : "Corrupt", `invalid schema (${description}); the file is ${truncated ? "truncated" : "corrupt or not Arrow IPC"}`, cause)
  }
  if (endianness === "big") {
    throw fail(name, "Unsupported", "the file is big-endian Arrow IPC, which apache-arrow for JS cannot decode; rewrite it on a little-endian machine, for example with pyarrow")
  }
  let columns: ReadonlyArray<string> | undefined = options.columns
  try {
    const reader = RecordBatchReader.from(bytes)
    reader.open()
    const available = reader.schema.fields.map((field) => field.name)
    if (columns === undefined) {
      columns = available
    } else {
      const missing = columns.filter((column) => !available.includes(column))
      if (missing.length > 0) {
        throw fail(name, "MissingField", `column ${missing.map((c) => JSON.stringify(c)).join(", ")} not found; the file has columns ${available.map((c) => JSON.stringify(c)).join(", ")}`)
      }
    }
    for (const batch of reader) {
      const rows = batchToRows(batch, columns)
      for (let start = 0; start < rows.length; start += batchRows) yield rows.slice(start, start + batchRows)
    }
  } catch (cause) {
    throw classify(name, cause)
  }
}

/** `readArrowBatches` as an Effect stream; `StorageError` from the input passes through. */
export const arrowBatchStream = (
  input: Uint8Array | AsyncIterable<Uint8Array>,
  options: ArrowReadOptions
): Stream.Stream<Batch, FormatError | StorageError> => Stream.fromAsyncIterable(readArrowBatches(input, options), (cause) => classify(options.name, cause))

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

export interface ArrowWriteOptions {
  readonly columns: ReadonlyArray<ParquetColumnSpec>
  /** IPC file format (with footer, random access) or stream format (default `"stream"`). */
  readonly format?: "file" | "stream"
  /** File name for error messages. */
  readonly name?: string
}

const arrowType = (column: ParquetColumnSpec): DataType => {
  switch (column.type) {
    case "string":
      return new Utf8()
    case "binary":
      return new Binary()
    case "int32":
      return new Int32()
    case "int64":
      return new Int64()
    case "double":
      return new Float64()
    case "boolean":
      return new Bool()
    case "uint32_list":
    case "uint32_le":
      return new List(new Field("item", new Uint32(), false))
  }
}

/** Writes rows to Arrow IPC bytes as one record batch. */
export const writeArrowIpc = (rows: ReadonlyArray<Row>, options: ArrowWriteOptions): Uint8Array => {
  const name = options.name ?? "(output)"
  const vectors: Record<string, Vector> = {}
  for (const column of options.columns) {
    const values = rows.map((row, index) => {
      const value = row[column.name]
      if (value === null || value === undefined) {
        if (column.nullable) return null
        throw new FormatError({ format: "arrow", reason: "MissingField", file: name, row: index, description: `column ${column.name} is not nullable but the value is ${value}; declare the column nullable or fill the value` })
      }
      if (column.type === "int64" && typeof value === "number") return BigInt(value)
      if ((column.type === "uint32_list" || column.type === "uint32_le") && value instanceof Uint32Array) return Array.from(value)
      return value
    })
    try {
      vectors[column.name] = vectorFromArray(values as Array<never>, arrowType(column) as never)
    } catch (cause) {
      throw new FormatError({ format: "arrow", reason: "InvalidArgument", file: name, description: `column ${column.name} could not be encoded as ${column.type} (${describeCause(cause)})`, cause })
    }
  }
  return tableToIPC(new Table(vectors), options.format ?? "stream")
}
