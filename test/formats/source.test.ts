import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { Effect, Stream } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { readArrowBatches } from "../../connectors/formats/arrow.ts"
import { FormatError } from "../../connectors/formats/FormatError.ts"
import type { JsonlSkip } from "../../connectors/formats/jsonl.ts"
import { readSourceFile } from "../../connectors/formats/source.ts"
import type { SourceReadOptions } from "../../connectors/formats/source.ts"
import { makeStorageLayer } from "../../connectors/storage/layer.ts"
import { StorageError } from "../../connectors/storage/Storage.ts"
import type { Row } from "../../runtime/batch.ts"
import { collect, dataPath, makeTempDir } from "./helpers.ts"

const temp = makeTempDir("source")
afterAll(() => temp.cleanup())

const readRows = (uri: string, options: SourceReadOptions): Promise<Array<Row>> =>
  Effect.runPromise(
    Stream.runCollect(readSourceFile(uri, options)).pipe(
      Effect.map((batches) => Array.from(batches).flat()),
      Effect.provide(makeStorageLayer())
    )
  )

const failure = (uri: string, options: SourceReadOptions): Promise<FormatError | StorageError> =>
  Effect.runPromise(
    Effect.flip(Stream.runCollect(readSourceFile(uri, options))).pipe(Effect.provide(makeStorageLayer()))
  )

const sample = dataPath("parquet/modelscope__data-juicer/tests/core/data/test_data/parquet/sample.parquet")
const dolma = dataPath("webtext/allenai__dolma/tests/data/multiple_files/cc_en_head-0091.jsonl.gz")
const arrowFile = dataPath("arrow/apache__arrow-testing/data/arrow-ipc-stream/integration/4.0.0-shareddict/generated_shared_dict.arrow_file")
const codeFile = dataPath("code/pytorch__examples/mnist/main.py")

describe("readSourceFile", () => {
  it.skipIf(sample === undefined)("reads Parquet by ranges", async () => {
    const rows = await readRows(sample ?? "", { format: "parquet", columns: ["text"] })
    expect(rows.length).toBe(7)
    expect(typeof rows[0].text).toBe("string")
  })

  it.skipIf(dolma === undefined)("reads gzip JSONL and projects fields", async () => {
    const rows = await readRows(dolma ?? "", { format: "jsonl", columns: ["id", "text"], requiredFields: ["text"] })
    expect(rows.length).toBe(10)
    expect(Object.keys(rows[0]).sort()).toEqual(["id", "text"])
  })

  it.skipIf(arrowFile === undefined)("reads Arrow IPC", async () => {
    const rows = await readRows(arrowFile ?? "", { format: "arrow" })
    const direct = (await collect(readArrowBatches(readFileSync(arrowFile ?? ""), { name: "direct" }))).flat()
    expect(rows.length).toBe(2)
    expect(rows[0]).toEqual({ col1: "foo", col2: "bar" })
    expect(rows).toEqual(direct)
  })

  it.skipIf(codeFile === undefined)("reads a text file as one row", async () => {
    const rows = await readRows(codeFile ?? "", { format: "text" })
    expect(rows).toEqual([{ text: readFileSync(codeFile ?? "", "utf8") }])
  })

  it("reads a gzip text file", async () => {
    const path = join(temp.dir, "notes.txt.gz")
    writeFileSync(path, gzipSync("première ligne\nsecond line\n"))
    expect(await readRows(path, { format: "text" })).toEqual([{ text: "première ligne\nsecond line\n" }])
  })

  it("applies the policy to bad text files", async () => {
    const empty = join(temp.dir, "empty.txt")
    const latin1 = join(temp.dir, "latin1.txt")
    const big = join(temp.dir, "big.txt")
    writeFileSync(empty, "")
    writeFileSync(latin1, Uint8Array.from([0x63, 0x61, 0x66, 0xe9]))
    writeFileSync(big, "x".repeat(5000))
    const cases = [[empty, "Empty"], [latin1, "InvalidUtf8"], [big, "RecordTooLarge"]] as const
    for (const [path, reason] of cases) {
      const error = await failure(path, { format: "text", maxRecordBytes: 1000 })
      expect(error, path).toBeInstanceOf(FormatError)
      expect(error.reason, path).toBe(reason)
      expect(error.message, path).toContain(path)
      const skips: Array<JsonlSkip> = []
      const rows = await readRows(path, { format: "text", maxRecordBytes: 1000, onError: "skip", onSkip: (skip) => skips.push(skip) })
      expect(rows, path).toEqual([])
      expect(skips.map((skip) => skip.reason), path).toEqual([reason])
    }
  })

  it("keeps StorageError for missing files", async () => {
    for (const format of ["parquet", "jsonl", "arrow", "text"] as const) {
      const error = await failure(join(temp.dir, `absent.${format}`), { format })
      expect(error, format).toBeInstanceOf(StorageError)
      expect(error.reason, format).toBe("NotFound")
    }
  })
})
