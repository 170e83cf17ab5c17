/**
 * Parquet encoding of artifact shards, on the format connectors' reader and writer.
 *
 * Artifacts hold the rows operators emit: strings, numbers, booleans, token arrays
 * (`Uint32Array`, stored as `list<uint32>`) and anything else as JSON text. The column
 * schema is inferred from a shard's first batch and recorded in the shard record, so
 * the reader can turn JSON text back into values. A later value of another type fails
 * the shard with the column named. A column that is null throughout the first batch
 * is typed `json`, which accepts any later value.
 */
import { makeParquetWriter, type ParquetColumnSpec, type ParquetRowWriter } from "../../connectors/formats/parquet-write.ts"
import { type AsyncBuffer, readParquetBatches } from "../../connectors/formats/parquet-read.ts"
import type { Batch, Row } from "../batch.ts"
import type { ColumnSchema, ColumnType } from "../executor/types.ts"

/** Rows per Parquet row group of an artifact file. */
export const ARTIFACT_ROW_GROUP_ROWS = 8192

const typeOf = (value: unknown): ColumnType | undefined => {
  if (value === null || value === undefined) return undefined
  if (typeof value === "string") return "string"
  if (typeof value === "number") return "double"
  if (typeof value === "boolean") return "boolean"
  if (value instanceof Uint32Array) return "uint32[]"
  return "json"
}

/**
 * Infers one type per column from the first non-null value. Columns keep the order in
 * which they first appear; a column whose values disagree, or that has only nulls,
 * becomes `json`.
 */
export const inferSchema = (rows: ReadonlyArray<Row>): Array<ColumnSchema> => {
  const types = new Map<string, ColumnType | undefined>()
  for (const row of rows) {
    for (const key of Object.keys(row)) {
      const seen = types.get(key)
      const found = typeOf(row[key])
      if (!types.has(key) || seen === undefined) types.set(key, found)
      else if (found !== undefined && found !== seen) types.set(key, "json")
    }
  }
  return [...types].map(([name, type]) => ({ name, type: type ?? "json" }))
}

const specOf = (column: ColumnSchema): ParquetColumnSpec => {
  switch (column.type) {
    case "uint32[]":
      return { name: column.name, type: "uint32_list", nullable: true }
    case "json":
      return { name: column.name, type: "string", nullable: true }
    default:
      return { name: column.name, type: column.type, nullable: true }
  }
}

const encodeJson = (value: unknown): string | null =>
  value === null || value === undefined
    ? null
    : JSON.stringify(value, (_key, inner) => inner instanceof Uint32Array ? Array.from(inner) : inner)

/** An incremental artifact writer: rows in, Parquet bytes out as row groups complete. */
export interface ArtifactWriter {
  readonly write: (rows: ReadonlyArray<Row>) => Uint8Array
  readonly finish: () => Uint8Array
}

export const makeArtifactWriter = (schema: ReadonlyArray<ColumnSchema>, name: string): ArtifactWriter => {
  const writer: ParquetRowWriter = makeParquetWriter({
    columns: schema.map(specOf),
    rowGroupRows: ARTIFACT_ROW_GROUP_ROWS,
    name
  })
  const jsonColumns = schema.filter((column) => column.type === "json").map((column) => column.name)
  const prepare = (rows: ReadonlyArray<Row>): ReadonlyArray<Row> =>
    jsonColumns.length === 0
      ? rows
      : rows.map((row) => {
        const copy: Row = { ...row }
        for (const column of jsonColumns) copy[column] = encodeJson(row[column])
        return copy
      })
  return {
    write: (rows) => writer.writeRows(prepare(rows)),
    finish: () => writer.finish()
  }
}

const decodeValue = (value: unknown, type: ColumnType): unknown => {
  if (value === null || value === undefined) return null
  if (type === "json" && typeof value === "string") return JSON.parse(value)
  if (type === "uint32[]" && !(value instanceof Uint32Array) && Array.isArray(value)) return Uint32Array.from(value as Array<number>)
  if (type === "double" && typeof value === "bigint") return Number(value)
  return value
}

/**
 * Reads an artifact Parquet file in batches (one row group at most per batch) and
 * decodes JSON columns.
 */
export async function* decodeArtifactFile(
  source: AsyncBuffer,
  schema: ReadonlyArray<ColumnSchema>,
  name: string
): AsyncGenerator<Batch> {
  const needsDecoding = schema.some((column) => column.type !== "string" && column.type !== "boolean")
  for await (const batch of readParquetBatches(source, { name, batchRows: ARTIFACT_ROW_GROUP_ROWS })) {
    if (!needsDecoding) {
      yield batch
      continue
    }
    for (const row of batch) {
      for (const column of schema) {
        if (column.name in row) row[column.name] = decodeValue(row[column.name], column.type)
      }
    }
    yield batch
  }
}
