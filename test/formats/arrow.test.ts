import { readFileSync } from "node:fs"
import { join } from "node:path"
import { gunzipSync } from "node:zlib"
import { Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { arrowBatchStream, decodeLz4Frame, readArrowBatches, writeArrowIpc } from "../../connectors/formats/arrow.ts"
import { FormatError } from "../../connectors/formats/FormatError.ts"
import type { ParquetColumnSpec } from "../../connectors/formats/parquet-write.ts"
import type { Row } from "../../runtime/batch.ts"
import { collect, dataPath, listFiles, rejection } from "./helpers.ts"

const readAll = async (bytes: Uint8Array, name = "mem.arrow") => (await collect(readArrowBatches(bytes, { name }))).flat()

const columns: ReadonlyArray<ParquetColumnSpec> = [
  { name: "text", type: "string" },
  { name: "id", type: "int64" },
  { name: "score", type: "double", nullable: true },
  { name: "tokens", type: "uint32_list" }
]

const rows: Array<Row> = Array.from({ length: 300 }, (_, i) => ({
  text: `row ${i} ✓`,
  id: i * 1_000_003,
  score: i % 4 === 0 ? null : i / 7,
  tokens: Uint32Array.from([i, 65_536 + i, 4_294_967_295])
}))

describe("arrow ipc", () => {
  it("round-trips rows in both formats", async () => {
    for (const format of ["file", "stream"] as const) {
      const back = await readAll(writeArrowIpc(rows, { columns, format }))
      expect(back.length, format).toBe(rows.length)
      expect(back[5], format).toEqual(rows[5])
      expect(back[8].score, format).toBeNull()
      expect(back[299].tokens, format).toBeInstanceOf(Uint32Array)
      expect(Array.from(back[299].tokens as Uint32Array), format).toEqual([299, 65_835, 4_294_967_295])
    }
  })

  it("reads from an async byte stream", async () => {
    const bytes = writeArrowIpc(rows, { columns })
    async function* chunks() {
      for (let i = 0; i < bytes.byteLength; i += 100) yield bytes.subarray(i, i + 100)
    }
    const back = (await collect(readArrowBatches(chunks(), { name: "s.arrows", columns: ["text"], batchRows: 128 })))
    expect(back.map((batch) => batch.length)).toEqual([128, 128, 44])
    expect(back[0][0]).toEqual({ text: "row 0 ✓" })
  })

  it("rejects truncated, empty and foreign input", async () => {
    const bytes = writeArrowIpc(rows, { columns, format: "file" })
    const cut = await rejection(readAll(bytes.subarray(0, bytes.byteLength - 200), "cut.arrow"))
    expect(cut).toBeInstanceOf(FormatError)
    expect((cut as FormatError).message).toContain("cut.arrow")
    expect((cut as FormatError).reason).toBe("Truncated")
    expect(((await rejection(readAll(new Uint8Array(0)))) as FormatError).reason).toBe("Empty")
    const text = await rejection(readAll(new TextEncoder().encode("{\"text\": \"not arrow\"}\n")))
    expect((text as FormatError).reason).toBe("Corrupt")
  })

  it("names a missing column", async () => {
    const error = await rejection(collect(readArrowBatches(writeArrowIpc(rows, { columns }), { name: "m.arrow", columns: ["body"] })))
    expect((error as FormatError).reason).toBe("MissingField")
  })

  it("decodes linked LZ4 frame blocks", () => {
    // Frame: magic, FLG=0x40 (version 1, linked blocks), BD=0x40, header checksum byte,
    // block 1 of literals "abcd", block 2 a match reaching back into block 1.
    const frame = Uint8Array.from([
      0x04, 0x22, 0x4d, 0x18, 0x40, 0x40, 0x00,
      5, 0, 0, 0, 0x40, 0x61, 0x62, 0x63, 0x64,
      3, 0, 0, 0, 0x04, 0x04, 0x00,
      0, 0, 0, 0
    ])
    expect(new TextDecoder().decode(decodeLz4Frame(frame))).toBe("abcdabcdabcd")
  })

  it("works as an Effect stream", async () => {
    const batches = await Effect.runPromise(Stream.runCollect(arrowBatchStream(writeArrowIpc(rows, { columns }), { name: "e.arrow" })))
    expect(Array.from(batches).flat().length).toBe(300)
  })
})

const integration = dataPath("arrow/apache__arrow-testing/data/arrow-ipc-stream/integration")
const arrowRoot = dataPath("arrow")

describe.skipIf(arrowRoot === undefined)("arrow ipc on integration files", () => {
  it("reads every file or fails with a named FormatError", async () => {
    const files = listFiles(arrowRoot ?? "").filter((path) => !/\.(json\.gz|md|json)$/.test(path))
    expect(files.length).toBeGreaterThan(40)
    let readable = 0
    for (const path of files) {
      const name = path.split("/").slice(-2).join("/")
      try {
        await readAll(readFileSync(path), name)
        readable++
        expect(name, `${name} should have been rejected`).not.toMatch(/bigendian|clusterfuzz/)
      } catch (error) {
        expect(error, name).toBeInstanceOf(FormatError)
        expect((error as FormatError).message, name).toContain(name)
        if (name.includes("bigendian")) expect((error as FormatError).reason, name).toBe("Unsupported")
      }
    }
    expect(readable).toBeGreaterThanOrEqual(44)
  })

  it.skipIf(integration === undefined)("matches the JSON of generated_primitive", async () => {
    const dir = join(integration ?? "", "1.0.0-littleendian")
    const expected = JSON.parse(gunzipSync(readFileSync(join(dir, "generated_primitive.json.gz"))).toString("utf8")) as {
      batches: Array<{ count: number; columns: Array<{ name: string; VALIDITY: Array<number>; DATA: Array<unknown> }> }>
    }
    const expectedRows: Array<Record<string, unknown>> = []
    for (const batch of expected.batches) {
      for (let i = 0; i < batch.count; i++) {
        const row: Record<string, unknown> = {}
        for (const column of batch.columns) row[column.name] = column.VALIDITY[i] ? column.DATA[i] : null
        expectedRows.push(row)
      }
    }
    for (const file of ["generated_primitive.arrow_file", "generated_primitive.stream"]) {
      const actual = await readAll(readFileSync(join(dir, file)), file)
      expect(actual.length).toBe(expectedRows.length)
      for (const column of ["utf8_nullable", "int32_nullable", "int16_nonnullable", "bool_nullable", "uint32_nonnullable"]) {
        expect(actual.map((row) => row[column]), `${file} ${column}`).toEqual(expectedRows.map((row) => row[column]))
      }
      expect(actual.map((row) => String(row.int64_nonnullable)), file).toEqual(expectedRows.map((row) => String(row.int64_nonnullable)))
    }
  })

  it.skipIf(integration === undefined)("decodes ZSTD and LZ4 record batches", async () => {
    const dir = join(integration ?? "", "2.0.0-compression")
    const zstd = await readAll(readFileSync(join(dir, "generated_zstd.arrow_file")))
    const lz4 = await readAll(readFileSync(join(dir, "generated_lz4.stream")))
    expect(zstd.length).toBe(60)
    expect(lz4).toEqual(zstd)
    const zstdWide = await readAll(readFileSync(join(dir, "generated_uncompressible_zstd.stream")))
    const lz4Wide = await readAll(readFileSync(join(dir, "generated_uncompressible_lz4.arrow_file")))
    expect(lz4Wide).toEqual(zstdWide)
    expect(zstdWide.length).toBe(4)
  })
})
