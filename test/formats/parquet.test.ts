import { readFileSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { Effect, Stream } from "effect"
import { parquetMetadata } from "hyparquet"
import { ByteWriter } from "hyparquet-writer"
import { writeMetadata } from "hyparquet-writer/src/metadata.js"
import { afterAll, describe, expect, it } from "vitest"
import { FormatError } from "../../connectors/formats/FormatError.ts"
import {
  asyncBufferFromFile,
  parquetBatchStream,
  readParquetBatches,
  readParquetMetadata
} from "../../connectors/formats/parquet-read.ts"
import { type ParquetColumnSpec, writeParquet, writeParquetChunks } from "../../connectors/formats/parquet-write.ts"
import type { Row } from "../../runtime/batch.ts"
import { collect, countingBuffer, dataPath, duckdbRows, listFiles, makeTempDir, rejection } from "./helpers.ts"

const temp = makeTempDir("parquet")
afterAll(() => temp.cleanup())

const columns: ReadonlyArray<ParquetColumnSpec> = [
  { name: "text", type: "string" },
  { name: "id", type: "int32" },
  { name: "offset", type: "int64" },
  { name: "note", type: "string", nullable: true },
  { name: "tokens", type: "uint32_list" }
]

const makeRows = (count: number): Array<Row> =>
  Array.from({ length: count }, (_, i) => ({
    text: `document ${i}: naïve café ☕ ${"x".repeat(i % 17)}`,
    id: i,
    offset: i * 1_000_000_007,
    note: i % 3 === 0 ? null : `note ${i}`,
    tokens: Uint32Array.from({ length: (i % 5) + 1 }, (_, k) => (i * 7919 + k * 100_003) % 4_294_967_296)
  }))

const readAll = async (bytes: Uint8Array, options: { columns?: Array<string>; batchRows?: number } = {}) =>
  (await collect(readParquetBatches(countingBuffer(bytes), { name: "mem.parquet", ...options }))).flat()

describe("parquet writer", () => {
  const rows = makeRows(2500)
  const bytes = writeParquet(rows, { columns, rowGroupRows: 1000 })
  const path = join(temp.dir, "roundtrip.parquet")
  writeFileSync(path, bytes)

  it("round-trips through the reader", async () => {
    const back = await readAll(bytes)
    expect(back.length).toBe(rows.length)
    expect(back[0]).toEqual({ ...rows[0], note: null })
    for (let i = 0; i < rows.length; i += 97) {
      expect(back[i].text).toBe(rows[i].text)
      expect(back[i].offset).toBe(rows[i].offset)
      expect(back[i].note).toBe(rows[i].note)
      expect(back[i].tokens).toBeInstanceOf(Uint32Array)
      expect(Array.from(back[i].tokens as Uint32Array)).toEqual(Array.from(rows[i].tokens as Uint32Array))
    }
  })

  it("bounds row groups and uses ZSTD", async () => {
    const metadata = parquetMetadata(bytes.slice().buffer)
    expect(metadata.row_groups.map((group) => Number(group.num_rows))).toEqual([1000, 1000, 500])
    for (const chunk of metadata.row_groups[0].columns) expect(chunk.meta_data?.codec).toBe("ZSTD")
    const duck = await duckdbRows(`select row_group_id, compression from parquet_metadata('${path}')`)
    expect(new Set(duck.map((row) => row.compression))).toEqual(new Set(["ZSTD"]))
  })

  it("matches DuckDB as reference reader", async () => {
    const duck = await duckdbRows(`select text, id, "offset", note, tokens from '${path}' order by id`)
    expect(duck.length).toBe(rows.length)
    for (let i = 0; i < rows.length; i += 61) {
      expect(duck[i].text).toBe(rows[i].text)
      expect(duck[i].id).toBe(rows[i].id)
      expect(String(duck[i].offset)).toBe(String(rows[i].offset))
      expect(duck[i].note).toBe(rows[i].note)
      expect(duck[i].tokens).toEqual(Array.from(rows[i].tokens as Uint32Array))
    }
    const types = await duckdbRows(`describe select tokens from '${path}'`)
    expect(types[0].column_type).toBe("UINTEGER[]")
  })

  it("streams chunks per row group", async () => {
    const batches = [rows.slice(0, 700), rows.slice(700, 1800), rows.slice(1800)]
    const chunks = await collect(writeParquetChunks(batches, { columns, rowGroupRows: 1000 }))
    expect(chunks.length).toBeGreaterThanOrEqual(3)
    const joined = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0))
    let offset = 0
    for (const chunk of chunks) {
      joined.set(chunk, offset)
      offset += chunk.byteLength
    }
    const back = await readAll(joined)
    expect(back.map((row) => row.id)).toEqual(rows.map((row) => row.id))
  })

  it("round-trips uint32_le token bytes", async () => {
    const tokenRows = rows.slice(0, 300).map((row) => ({ id: row.id, tokens: row.tokens }))
    const packed = writeParquet(tokenRows, { columns: [{ name: "id", type: "int32" }, { name: "tokens", type: "uint32_le" }], rowGroupRows: 128 })
    const back = await readAll(packed)
    expect(back.length).toBe(300)
    for (const [i, row] of back.entries()) {
      expect(row.tokens).toBeInstanceOf(Uint32Array)
      expect(Array.from(row.tokens as Uint32Array)).toEqual(Array.from(tokenRows[i].tokens as Uint32Array))
    }
    const packedPath = join(temp.dir, "uint32le.parquet")
    writeFileSync(packedPath, packed)
    const duck = await duckdbRows(`select octet_length(tokens) as n from '${packedPath}' order by id limit 3`)
    expect(duck.map((row) => Number(row.n))).toEqual(tokenRows.slice(0, 3).map((row) => (row.tokens as Uint32Array).length * 4))
  })

  it("rejects a null in a required column", () => {
    const error = (() => {
      try {
        writeParquet([{ text: null }], { columns: [{ name: "text", type: "string" }], name: "out.parquet" })
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(FormatError)
    expect((error as FormatError).reason).toBe("MissingField")
    expect((error as FormatError).message).toContain("out.parquet")
  })
})

describe("parquet reader", () => {
  const rows = makeRows(3000)
  const bytes = writeParquet(rows, { columns, rowGroupRows: 1000 })

  it("emits batches of at most batchRows", async () => {
    const batches = await collect(readParquetBatches(countingBuffer(bytes), { name: "mem", batchRows: 256 }))
    expect(Math.max(...batches.map((batch) => batch.length))).toBe(256)
    expect(batches.reduce((sum, batch) => sum + batch.length, 0)).toBe(3000)
  })

  it("reads only the projected column chunks", async () => {
    const buffer = countingBuffer(bytes)
    const back = (await collect(readParquetBatches(buffer, { name: "mem", columns: ["id"] }))).flat()
    expect(back.length).toBe(3000)
    expect(Object.keys(back[0])).toEqual(["id"])
    const metadata = parquetMetadata(bytes.slice().buffer)
    const textChunks = metadata.row_groups.map((group) => {
      const meta = group.columns[0].meta_data!
      const start = Number(meta.dictionary_page_offset ?? meta.data_page_offset)
      return [start, start + Number(meta.total_compressed_size)] as const
    })
    const footerStart = bytes.byteLength - 8 - metadata.metadata_length
    for (const [start, end] of buffer.ranges) {
      if (start >= footerStart) continue
      for (const [textStart, textEnd] of textChunks) expect(start >= textEnd || end <= textStart).toBe(true)
    }
    expect(buffer.bytesRead).toBeLessThan(bytes.byteLength)
  })

  it("names a missing column", async () => {
    const error = await rejection(readAll(bytes, { columns: ["body"] }))
    expect(error).toBeInstanceOf(FormatError)
    expect((error as FormatError).reason).toBe("MissingField")
    expect((error as FormatError).message).toMatch(/"body" not found; the file has columns "text"/)
  })

  it("rejects row groups over maxRowGroupBytes", async () => {
    const error = await rejection(collect(readParquetBatches(countingBuffer(bytes), { name: "big.parquet", maxRowGroupBytes: 1000 })))
    expect((error as FormatError).reason).toBe("TooLarge")
    expect((error as FormatError).message).toContain("big.parquet")
  })

  it("limits decompressed bytes when the footer understates them", async () => {
    const original = writeParquet(
      Array.from({ length: 1000 }, (_, i) => ({ text: "a".repeat(5000) + i })),
      { columns: [{ name: "text", type: "string" }] }
    )
    const metadata = parquetMetadata(original.slice().buffer)
    const footerStart = original.byteLength - 8 - metadata.metadata_length
    // Rewrite the footer so that the column chunk claims 100 uncompressed bytes.
    metadata.row_groups[0].columns[0].meta_data!.total_uncompressed_size = 100n
    const footerWriter = new ByteWriter()
    // hyparquet-writer bundles its own hyparquet release, so its FileMetaData is a distinct type.
    writeMetadata(footerWriter, metadata as unknown as Parameters<typeof writeMetadata>[1])
    const footer = footerWriter.getBytes()
    const lying = new Uint8Array(footerStart + footer.byteLength + 8)
    lying.set(original.subarray(0, footerStart))
    lying.set(footer, footerStart)
    new DataView(lying.buffer).setUint32(footerStart + footer.byteLength, footer.byteLength, true)
    lying.set(new TextEncoder().encode("PAR1"), footerStart + footer.byteLength + 4)

    const rowsRead = (await collect(readParquetBatches(countingBuffer(lying), { name: "lie.parquet" }))).flat()
    expect(rowsRead.length).toBe(1000)
    const error = await rejection(collect(readParquetBatches(countingBuffer(lying), { name: "lie.parquet", maxRowGroupBytes: 1_000_000 })))
    expect(error).toBeInstanceOf(FormatError)
    expect((error as FormatError).reason).toBe("TooLarge")
    expect((error as FormatError).message).toContain("declare more than 1000000 decompressed bytes")
  })

  it("reports truncation and empty files", async () => {
    const cut = await rejection(readAll(bytes.slice(0, bytes.byteLength - 100)))
    expect((cut as FormatError).reason).toBe("Truncated")
    const empty = await rejection(readAll(new Uint8Array(0)))
    expect((empty as FormatError).reason).toBe("Empty")
    const text = await rejection(readAll(new TextEncoder().encode("{\"not\": \"parquet\"}\n")))
    expect((text as FormatError).reason).toBe("Corrupt")
  })

  it("fails cleanly on damaged pages", async () => {
    // Overwrite bytes inside the column chunks (never the footer) at fixed positions.
    const metadata = parquetMetadata(bytes.slice().buffer)
    const dataEnd = bytes.byteLength - 8 - metadata.metadata_length
    let failures = 0
    for (let seed = 1; seed <= 40; seed++) {
      const damaged = bytes.slice()
      for (let k = 0; k < 8; k++) damaged[4 + ((seed * 7_919 + k * 104_729) % (dataEnd - 4))] ^= 0x5a + k
      try {
        await readAll(damaged)
      } catch (error) {
        failures++
        expect(error).toBeInstanceOf(FormatError)
        expect((error as FormatError).message).toContain("mem.parquet")
      }
    }
    expect(failures).toBeGreaterThan(0)
  })

  it("works as an Effect stream", async () => {
    const batches = await Effect.runPromise(Stream.runCollect(parquetBatchStream(countingBuffer(bytes), { name: "mem", batchRows: 1000 })))
    expect(Array.from(batches).map((batch) => batch.length)).toEqual([1000, 1000, 1000])
    const failure = await Effect.runPromise(Effect.flip(Stream.runCollect(parquetBatchStream(countingBuffer(new Uint8Array(0)), { name: "e.parquet" }))))
    expect(failure._tag).toBe("FormatError")
    expect(failure.reason).toBe("Empty")
  })
})

const parquetRoot = dataPath("parquet")

describe.skipIf(parquetRoot === undefined)("parquet conformance on shared data", () => {
  const root = parquetRoot ?? ""
  const files = parquetRoot === undefined
    ? []
    : listFiles(root).filter((path) => /\.parquet(\.encrypted)?$/.test(path) || path.includes("/fuzzing/"))

  const expectedFailures: Record<string, FormatError["reason"]> = {
    "large_string_map.brotli.parquet": "TooLarge",
    "uniform_encryption.parquet.encrypted": "Unsupported",
    "encrypt_columns_plaintext_footer.parquet.encrypted": "Unsupported",
    "clusterfuzz-testcase-parquet-arrow-fuzz-6268365762199552": "Empty"
  }

  it("reads every file or fails with a named FormatError", async () => {
    expect(files.length).toBeGreaterThan(90)
    const failures: Array<string> = []
    let readable = 0
    let compared = 0
    for (const path of files) {
      const name = relative(root, path)
      const base = name.split("/").pop() ?? name
      let rows: Array<Row>
      try {
        rows = (await collect(readParquetBatches(await asyncBufferFromFile(path), { name }))).flat()
      } catch (error) {
        expect(error, name).toBeInstanceOf(FormatError)
        expect((error as FormatError).message, name).toContain(name)
        if (base in expectedFailures) expect((error as FormatError).reason, name).toBe(expectedFailures[base])
        failures.push(`${name}: ${(error as FormatError).reason}`)
        continue
      }
      expect(base in expectedFailures, `${name} was expected to fail`).toBe(false)
      readable++
      const metadata = await readParquetMetadata(await asyncBufferFromFile(path), name)
      // Some writers leave the file-level num_rows at 0, so count the row groups.
      const groupRows = metadata.row_groups.reduce((sum, group) => sum + Number(group.num_rows), 0)
      expect(rows.length, name).toBe(groupRows)

      // Compare flat string columns with DuckDB where DuckDB reads the file.
      const stringColumns = metadata.schema.filter((element) =>
        element.type === "BYTE_ARRAY" && (element.converted_type === "UTF8" || element.logical_type?.type === "STRING") &&
        element.repetition_type !== "REPEATED" && metadata.schema.filter((other) => other.name === element.name).length === 1 &&
        rows.length > 0 && element.name in rows[0]
      )
      for (const element of stringColumns) {
        let duck: Array<Record<string, unknown>>
        try {
          duck = await duckdbRows(`select "${element.name}" as v from read_parquet('${path}')`)
        } catch {
          continue
        }
        compared++
        expect(duck.map((row) => row.v), `${name} column ${element.name}`).toEqual(rows.map((row) => row[element.name] ?? null))
      }
    }
    expect(readable).toBeGreaterThan(80)
    expect(compared).toBeGreaterThan(20)
    expect(failures.some((line) => line.includes("large_string_map"))).toBe(true)
  })

  it("reads the text column of a datasets shard", async () => {
    const path = join(root, "modelscope__data-juicer/tests/format/data/structured/demo-dataset.parquet")
    const rows = (await collect(readParquetBatches(await asyncBufferFromFile(path), { name: path, columns: ["text"] }))).flat()
    expect(rows.length).toBe(6)
    expect(typeof rows[0].text).toBe("string")
    const duck = await duckdbRows(`select text from '${path}'`)
    expect(rows.map((row) => row.text)).toEqual(duck.map((row) => row.text))
  })

  it("keeps unannotated binary as Uint8Array", async () => {
    const path = join(root, "apache__parquet-testing/data/binary.parquet")
    const rows = (await collect(readParquetBatches(await asyncBufferFromFile(path), { name: path }))).flat()
    expect(rows[0].foo).toBeInstanceOf(Uint8Array)
    expect(readFileSync(path).byteLength).toBeGreaterThan(0)
  })
})
