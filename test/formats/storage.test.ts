/**
 * The format readers and writers over the Storage service, on local disk and on a
 * loopback S3 server (s3rver): the path the runtime takes for `read` and `export` nodes.
 */
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { Effect, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { jsonlBatchStream, readJsonl } from "../../connectors/formats/jsonl.ts"
import { makeIndexedDatasetWriter, readIndexedDatasetIndex, readIndexedDatasetSequence } from "../../connectors/formats/megatron.ts"
import { parquetBatchStream, readParquetBatches } from "../../connectors/formats/parquet-read.ts"
import { writeParquetChunks } from "../../connectors/formats/parquet-write.ts"
import { asyncBufferFor, countingStorage, makeStorage } from "../../connectors/storage/layer.ts"
import { makeS3Storage } from "../../connectors/storage/s3.ts"
import { StorageError } from "../../connectors/storage/Storage.ts"
import type { StorageService } from "../../connectors/storage/Storage.ts"
import type { Row } from "../../runtime/batch.ts"
import { type RunningS3, startS3 } from "../support/s3.ts"
import { collect, makeTempDir, rejection } from "./helpers.ts"

let s3: RunningS3
const temp = makeTempDir("formats-storage")

beforeAll(async () => {
  s3 = await startS3({ buckets: ["formats"] })
})
afterAll(async () => {
  await s3?.stop()
  temp.cleanup()
})

let state = 12345
const nextWord = (): string => {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0
  return state.toString(36)
}

/** Rows whose text is pseudo-random, so it stays the largest column after ZSTD. */
const rows: Array<Row> = Array.from({ length: 6000 }, (_, i) => ({
  id: i,
  text: `row ${i} ${Array.from({ length: 30 }, nextWord).join(" ")}`,
  tokens: Uint32Array.from([i, i + 100_000])
}))

const targets = (): Array<{ label: string; storage: StorageService; root: string }> => [
  { label: "local", storage: makeStorage(), root: temp.dir },
  { label: "s3", storage: makeS3Storage(s3.options), root: "s3://formats/data" }
]

describe("formats over Storage", () => {
  it("writes and reads Parquet with projection", async () => {
    for (const { label, storage, root } of targets()) {
      const uri = join(root, "part-00000.parquet").replace("s3:/", "s3://")
      const chunks = Stream.fromAsyncIterable(
        writeParquetChunks([rows.slice(0, 2500), rows.slice(2500)], {
          columns: [{ name: "id", type: "int32" }, { name: "text", type: "string" }, { name: "tokens", type: "uint32_le" }],
          rowGroupRows: 2000
        }),
        (cause) => new StorageError({ reason: "Unknown", method: "write", uri, description: String(cause) })
      )
      await Effect.runPromise(storage.write(uri, chunks))

      const counting = countingStorage(storage)
      const buffer = await asyncBufferFor(counting, uri)
      const back = (await collect(readParquetBatches(buffer, { name: uri, columns: ["id", "tokens"] }))).flat()
      expect(back.length, label).toBe(6000)
      expect(back[4321], label).toEqual({ id: 4321, tokens: Uint32Array.from([4321, 104_321]) })
      // The text column dominates the file and is never fetched.
      expect(counting.counts.bytesRead, label).toBeLessThan(buffer.byteLength / 4)

      const streamed = await Effect.runPromise(Stream.runCollect(parquetBatchStream(await asyncBufferFor(storage, uri), { name: uri, columns: ["text"] })))
      expect(Array.from(streamed).flat()[17].text, label).toBe(rows[17].text)
    }
  })

  it("reads gzip JSONL from readStream", async () => {
    for (const { label, storage, root } of targets()) {
      const uri = `${root}/docs.jsonl.gz`
      const lines = rows.slice(0, 500).map((row) => JSON.stringify({ id: row.id, text: row.text })).join("\n")
      await Effect.runPromise(storage.write(uri, new Uint8Array(gzipSync(lines + "\n{broken\n"))))
      const { stream, counts } = jsonlBatchStream(Stream.toAsyncIterable(storage.readStream(uri)), { name: uri, onError: "skip" })
      const batches = await Effect.runPromise(Stream.runCollect(stream))
      expect(Array.from(batches).flat().length, label).toBe(500)
      expect(counts.skipped.InvalidJson, label).toBe(1)
    }
  })

  it("keeps StorageError for a missing object", async () => {
    for (const { label, storage, root } of targets()) {
      const uri = `${root}/absent.jsonl`
      const reader = readJsonl(Stream.toAsyncIterable(storage.readStream(uri)), { name: uri })
      const error = await rejection(collect(reader.batches))
      expect(error, label).toBeInstanceOf(StorageError)
      expect((error as StorageError).reason, label).toBe("NotFound")
    }
  })

  it("exports a Megatron dataset as streams", async () => {
    for (const { label, storage, root } of targets()) {
      const prefix = `${root}/export/web_text_document`
      const writer = makeIndexedDatasetWriter({ dtype: "uint32", name: prefix })
      const documents = rows.slice(0, 300).map((row) => row.tokens as Uint32Array)
      const binStream = Stream.fromIterable(documents).pipe(Stream.map((document) => writer.addDocument(document)))
      await Effect.runPromise(storage.write(`${prefix}.bin`, binStream))
      await Effect.runPromise(storage.write(`${prefix}.idx`, Stream.fromIterable(writer.finishIndex())))

      const index = readIndexedDatasetIndex(await Effect.runPromise(storage.read(`${prefix}.idx`)), prefix)
      const bin = await Effect.runPromise(storage.read(`${prefix}.bin`))
      expect(index.sizes.length, label).toBe(300)
      expect(readIndexedDatasetSequence(index, bin, 299), label).toEqual([299, 100_299])
    }
  })
})
