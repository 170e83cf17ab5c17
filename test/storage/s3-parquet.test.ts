/**
 * Column projection over S3: reading one column of a Parquet file through
 * `asyncBufferFor` fetches that column's chunks and the footer, not the whole file.
 */
import { Effect } from "effect"
import { parquetMetadataAsync, parquetReadObjects } from "hyparquet"
import { parquetWriteBuffer } from "hyparquet-writer"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { asyncBufferFor, countingStorage } from "../../connectors/storage/layer.ts"
import { makeS3Storage } from "../../connectors/storage/s3.ts"
import { type RunningS3, startS3 } from "../support/s3.ts"

let s3: RunningS3

beforeAll(async () => {
  s3 = await startS3({ buckets: ["parquet"] })
})
afterAll(async () => {
  await s3?.stop()
})

const ROWS = 60_000

/** Three columns of very different sizes; `text` dominates the file. */
const buildFile = (): Uint8Array => {
  const ids = new Int32Array(ROWS)
  const scores = new Float64Array(ROWS)
  const texts: Array<string> = []
  let state = 12345
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    return state
  }
  for (let i = 0; i < ROWS; i++) {
    ids[i] = i
    scores[i] = (next() % 100_000) / 1000
    texts.push(`row ${i} ${next().toString(36)} ${next().toString(36)} ${next().toString(36)} ${next().toString(36)}`)
  }
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: "id", data: Array.from(ids), type: "INT32" },
      { name: "text", data: texts, type: "STRING" },
      { name: "score", data: Array.from(scores), type: "DOUBLE" }
    ],
    rowGroupSize: 20_000
  })
  return new Uint8Array(buffer)
}

describe("Parquet projection over S3", () => {
  it("fetches one column plus the footer", async () => {
    const storage = makeS3Storage(s3.options)
    const uri = "s3://parquet/data/part-00000.parquet"
    const file = buildFile()
    await Effect.runPromise(storage.write(uri, file))

    const counting = countingStorage(storage)
    const buffer = await asyncBufferFor(counting, uri)
    expect(buffer.byteLength).toBe(file.byteLength)
    // An 8-byte first fetch reads the footer length, then hyparquet fetches exactly the metadata.
    const metadata = await parquetMetadataAsync(buffer, { initialFetchSize: 8 })
    const rows = await parquetReadObjects({ file: buffer, metadata, columns: ["score"] })

    expect(rows).toHaveLength(ROWS)
    expect(Object.keys(rows[0])).toEqual(["score"])
    expect(typeof rows[0].score).toBe("number")

    let columnBytes = 0
    let textBytes = 0
    for (const group of metadata.row_groups) {
      for (const chunk of group.columns) {
        const name = chunk.meta_data?.path_in_schema[0]
        const size = Number(chunk.meta_data?.total_compressed_size ?? 0)
        if (name === "score") columnBytes += size
        if (name === "text") textBytes += size
      }
    }
    const footerBytes = Number(metadata.metadata_length) + 8
    expect(metadata.row_groups.length).toBe(3)
    expect(textBytes).toBeGreaterThan(5 * columnBytes)
    expect(counting.counts.bytesRead).toBeGreaterThanOrEqual(columnBytes)
    expect(counting.counts.bytesRead).toBeLessThan(1.2 * columnBytes + footerBytes)
    expect(counting.counts.bytesRead).toBeLessThan(file.byteLength / 3)
    expect(counting.counts.requests.stat).toBe(1)
    expect(counting.counts.requests.read).toBeUndefined()
  })

  it("reads the same values as a full download", async () => {
    const storage = makeS3Storage(s3.options)
    const uri = "s3://parquet/data/part-00000.parquet"
    const whole = await Effect.runPromise(storage.read(uri))
    const local = whole.buffer.slice(whole.byteOffset, whole.byteOffset + whole.byteLength) as ArrayBuffer
    const expected = await parquetReadObjects({ file: local, columns: ["id", "score"] })
    const viaRanges = await parquetReadObjects({ file: await asyncBufferFor(storage, uri), columns: ["id", "score"] })
    expect(viaRanges).toEqual(expected)
    expect(viaRanges[ROWS - 1].id).toBe(ROWS - 1)
  })
})
