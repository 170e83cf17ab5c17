/**
 * Parquet writing with ZSTD compression and bounded row groups.
 *
 * Built on `hyparquet-writer`, which encodes pages and the footer but ships only a
 * Snappy compressor. ZSTD comes from `node:zlib` (`zstdCompressSync`, Node 22.15 and
 * later) through hyparquet-writer's `compressors` option. Rows are buffered until a row
 * group is full, so memory contains at most one row group plus the bytes not yet taken
 * by the caller.
 */
import { constants as zlibConstants, gzipSync, zstdCompressSync } from "node:zlib"
import type { SchemaElement } from "hyparquet-writer"
import { ByteWriter, ParquetWriter } from "hyparquet-writer"
import type { Batch, Row } from "../../runtime/batch.ts"
import { FormatError, describeCause } from "./FormatError.ts"

/**
 * Column types the writer encodes.
 *
 * - `string`: BYTE_ARRAY annotated STRING (UTF8).
 * - `binary`: BYTE_ARRAY without annotation, values are `Uint8Array`.
 * - `int32`, `int64`: signed integers; int64 accepts numbers and bigints.
 * - `double`, `boolean`.
 * - `uint32_list`: list<uint32>, values are `Uint32Array` or number arrays (token ids).
 *   Every reader understands it (DuckDB: `UINTEGER[]`), but hyparquet-writer encodes
 *   nested levels value by value, about 2 million tokens per second.
 * - `uint32_le`: token ids as one BYTE_ARRAY per row holding little-endian uint32s. About
 *   five times faster to write than `uint32_list`. The footer key `UINT32_LE_COLUMNS_KEY`
 *   lists these columns so `readParquetBatches` returns them as `Uint32Array`; other
 *   readers see binary.
 */
export type ParquetColumnType = "string" | "binary" | "int32" | "int64" | "double" | "boolean" | "uint32_list" | "uint32_le"

/** Footer metadata key whose value is a JSON array of the `uint32_le` column names. */
export const UINT32_LE_COLUMNS_KEY = "mixwright.uint32_le_columns"

export interface ParquetColumnSpec {
  readonly name: string
  readonly type: ParquetColumnType
  /** Whether values may be null or undefined (default false). */
  readonly nullable?: boolean
}

export type ParquetCodec = "ZSTD" | "SNAPPY" | "GZIP" | "UNCOMPRESSED"

export interface ParquetWriteOptions {
  readonly columns: ReadonlyArray<ParquetColumnSpec>
  /** Rows per row group (default 65536). */
  readonly rowGroupRows?: number
  /**
   * A row group also ends once its string, binary and token values reach this many
   * bytes (default 8 MiB), so memory stays bounded when documents are long.
   */
  readonly rowGroupBytes?: number
  /** Page compression (default ZSTD). */
  readonly codec?: ParquetCodec
  /** ZSTD level (default 3, the zstd library default). */
  readonly zstdLevel?: number
  /** File name or URI for error messages. */
  readonly name?: string
  /** Key/value metadata stored in the footer. */
  readonly metadata?: Readonly<Record<string, string>>
}

export const DEFAULT_ROW_GROUP_ROWS = 65_536
export const DEFAULT_ROW_GROUP_BYTES = 8 * 2 ** 20

/** Approximate encoded size of a row: string lengths, binary and token bytes, 8 per other value. */
const approximateRowBytes = (row: Row): number => {
  let bytes = 0
  for (const key in row) {
    const value = row[key]
    if (typeof value === "string") bytes += value.length
    else if (value instanceof Uint8Array || value instanceof Uint32Array) bytes += value.byteLength
    else bytes += 8
  }
  return bytes
}

/** Incremental writer: feed rows, take bytes as they are produced. */
export interface ParquetRowWriter {
  /** Buffers rows; returns the bytes of every row group completed by this call (often empty). */
  readonly writeRows: (rows: ReadonlyArray<Row>) => Uint8Array
  /** Writes the last row group and the footer; returns the remaining bytes. */
  readonly finish: () => Uint8Array
}

const schemaFor = (columns: ReadonlyArray<ParquetColumnSpec>): Array<SchemaElement> => {
  const schema: Array<SchemaElement> = [{ name: "root", num_children: columns.length }]
  for (const column of columns) {
    const repetition_type = column.nullable ? "OPTIONAL" : "REQUIRED"
    switch (column.type) {
      case "string":
        schema.push({ name: column.name, type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" }, repetition_type })
        break
      case "binary":
      case "uint32_le":
        schema.push({ name: column.name, type: "BYTE_ARRAY", repetition_type })
        break
      case "int32":
        schema.push({ name: column.name, type: "INT32", repetition_type })
        break
      case "int64":
        schema.push({ name: column.name, type: "INT64", repetition_type })
        break
      case "double":
        schema.push({ name: column.name, type: "DOUBLE", repetition_type })
        break
      case "boolean":
        schema.push({ name: column.name, type: "BOOLEAN", repetition_type })
        break
      case "uint32_list":
        // The three-level LIST layout of the Parquet spec: group (LIST) > repeated group > element.
        schema.push(
          { name: column.name, repetition_type, converted_type: "LIST", logical_type: { type: "LIST" }, num_children: 1 },
          { name: "list", repetition_type: "REPEATED", num_children: 1 },
          {
            name: "element",
            type: "INT32",
            repetition_type: "REQUIRED",
            // NOTE: only the legacy converted type marks the element unsigned. hyparquet-writer
            // 0.17 encodes the INTEGER logical type's bitWidth (a Thrift i8) as an i32, which
            // DuckDB rejects as invalid Thrift, while every reader maps UINT_32 to uint32.
            converted_type: "UINT_32"
          }
        )
        break
    }
  }
  return schema
}

const encodeValue = (column: ParquetColumnSpec, value: unknown, name: string, row: number): unknown => {
  if (value === null || value === undefined) {
    if (column.nullable) return null
    throw new FormatError({
      format: "parquet",
      reason: "MissingField",
      file: name,
      row,
      description: `column ${column.name} is not nullable but the value is ${value}; declare the column nullable or fill the value`
    })
  }
  const invalid = (expected: string) =>
    new FormatError({
      format: "parquet",
      reason: "InvalidArgument",
      file: name,
      row,
      description: `column ${column.name} (${column.type}) expected ${expected}, got ${typeof value === "object" ? Object.prototype.toString.call(value) : typeof value}`
    })
  switch (column.type) {
    case "string":
      if (typeof value !== "string") throw invalid("a string")
      return value
    case "binary":
      if (!(value instanceof Uint8Array)) throw invalid("a Uint8Array")
      return value
    case "int32":
      if (typeof value !== "number" || !Number.isInteger(value)) throw invalid("an integer")
      return value
    case "int64":
      if (typeof value === "bigint") return value
      if (typeof value !== "number" || !Number.isInteger(value)) throw invalid("an integer or bigint")
      return BigInt(value)
    case "double":
      if (typeof value !== "number") throw invalid("a number")
      return value
    case "boolean":
      if (typeof value !== "boolean") throw invalid("a boolean")
      return value
    case "uint32_list":
      if (value instanceof Uint32Array) return Array.from(value)
      if (Array.isArray(value)) return value
      throw invalid("a Uint32Array or an array of numbers")
    case "uint32_le":
      if (value instanceof Uint32Array) return toLittleEndianBytes(value)
      if (Array.isArray(value)) return toLittleEndianBytes(Uint32Array.from(value as Array<number>))
      throw invalid("a Uint32Array or an array of numbers")
  }
}

const hostIsLittleEndian = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1

const toLittleEndianBytes = (values: Uint32Array): Uint8Array => {
  if (hostIsLittleEndian) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength)
  const bytes = new Uint8Array(values.length * 4)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < values.length; i++) view.setUint32(i * 4, values[i], true)
  return bytes
}

/** Creates an incremental Parquet writer (see `ParquetRowWriter`). */
export const makeParquetWriter = (options: ParquetWriteOptions): ParquetRowWriter => {
  const name = options.name ?? "(output)"
  const rowGroupRows = options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS
  if (!Number.isInteger(rowGroupRows) || rowGroupRows < 1) {
    throw new FormatError({ format: "parquet", reason: "InvalidArgument", file: name, description: `rowGroupRows must be a positive integer, got ${rowGroupRows}` })
  }
  if (options.columns.length === 0) {
    throw new FormatError({ format: "parquet", reason: "InvalidArgument", file: name, description: "at least one column is required" })
  }
  const littleEndianColumns = options.columns.filter((column) => column.type === "uint32_le").map((column) => column.name)
  const codec = options.codec ?? "ZSTD"
  const level = options.zstdLevel ?? 3
  const writer = new ByteWriter()
  const flushed: Array<Uint8Array> = []
  // hyparquet-writer calls flush() after each row group; `offset` keeps counting the
  // total, so resetting `index` hands the bytes out without disturbing file offsets.
  const flush = () => {
    if (writer.index > 0) flushed.push(new Uint8Array(writer.buffer.slice(0, writer.index)))
    writer.index = 0
  }
  ;(writer as ByteWriter & { flush: () => void }).flush = flush
  const parquet = new ParquetWriter({
    writer,
    schema: schemaFor(options.columns),
    codec,
    compressors: {
      ZSTD: (input) => zstdCompressSync(input, { params: { [zlibConstants.ZSTD_c_compressionLevel]: level } }),
      GZIP: (input) => gzipSync(input)
    },
    kvMetadata: [
      ...Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      ...(littleEndianColumns.length > 0 ? [{ key: UINT32_LE_COLUMNS_KEY, value: JSON.stringify(littleEndianColumns) }] : [])
    ],
    createdBy: "mixwright (hyparquet-writer)"
  })

  let pending: Array<Row> = []
  let pendingBytes = 0
  let rowsWritten = 0
  const rowGroupBytes = options.rowGroupBytes ?? DEFAULT_ROW_GROUP_BYTES

  const writeGroup = (rows: ReadonlyArray<Row>) => {
    const columnData = options.columns.map((column) => {
      const data = new Array<unknown>(rows.length)
      for (let i = 0; i < rows.length; i++) data[i] = encodeValue(column, rows[i][column.name], name, rowsWritten + i)
      // Min/max statistics of token bytes help no query and cost a byte-wise comparison per value.
      return { name: column.name, data, statistics: column.type !== "uint32_le" }
    })
    try {
      parquet.write({ columnData, rowGroupSize: rows.length })
    } catch (cause) {
      throw new FormatError({ format: "parquet", reason: "InvalidArgument", file: name, row: rowsWritten, description: `encoding the row group starting at row ${rowsWritten} failed (${describeCause(cause)})`, cause })
    }
    rowsWritten += rows.length
  }

  const take = (): Uint8Array => {
    flush()
    const total = flushed.reduce((sum, chunk) => sum + chunk.byteLength, 0)
    const out = new Uint8Array(total)
    let offset = 0
    for (const chunk of flushed) {
      out.set(chunk, offset)
      offset += chunk.byteLength
    }
    flushed.length = 0
    return out
  }

  return {
    writeRows: (rows) => {
      for (const row of rows) {
        pending.push(row)
        pendingBytes += approximateRowBytes(row)
        if (pending.length === rowGroupRows || pendingBytes >= rowGroupBytes) {
          writeGroup(pending)
          pending = []
          pendingBytes = 0
        }
      }
      return take()
    },
    finish: () => {
      if (pending.length > 0 || rowsWritten === 0) writeGroup(pending)
      pending = []
      parquet.finish()
      return take()
    }
  }
}

/** Writes rows to one Parquet file in memory. */
export const writeParquet = (rows: ReadonlyArray<Row>, options: ParquetWriteOptions): Uint8Array => {
  const writer = makeParquetWriter(options)
  const head = writer.writeRows(rows)
  const tail = writer.finish()
  const out = new Uint8Array(head.byteLength + tail.byteLength)
  out.set(head)
  out.set(tail, head.byteLength)
  return out
}

/** Writes batches to Parquet and yields the file's bytes as row groups complete. */
export async function* writeParquetChunks(
  batches: AsyncIterable<Batch> | Iterable<Batch>,
  options: ParquetWriteOptions
): AsyncGenerator<Uint8Array> {
  const writer = makeParquetWriter(options)
  for await (const batch of batches) {
    const bytes = writer.writeRows(batch)
    if (bytes.byteLength > 0) yield bytes
  }
  yield writer.finish()
}
