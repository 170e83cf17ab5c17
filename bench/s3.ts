/**
 * S3 throughput of the storage service against a plain AWS SDK loop, both on the same
 * s3rver on loopback, plus the bytes fetched for a one-column Parquet projection.
 *
 * Run: `npx node bench/s3.ts [--rounds N] [--mib SIZE]`. Prints a Markdown table.
 * Each case runs a warm-up round, then `rounds` rounds; the table shows the median round.
 * s3rver runs in its own process and stores objects on the local disk.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3"
import { Upload } from "@aws-sdk/lib-storage"
import { Effect } from "effect"
import { parquetMetadataAsync, parquetReadObjects } from "hyparquet"
import { parquetWriteBuffer } from "hyparquet-writer"
import { existsSync } from "node:fs"
import * as os from "node:os"
import { parseArgs } from "node:util"
import { asyncBufferFor, countingStorage } from "../connectors/storage/layer.ts"
import { makeS3Storage } from "../connectors/storage/s3.ts"
import { startS3 } from "../test/support/s3.ts"

const MiB = 1024 * 1024

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "9" },
    mib: { type: "string", default: "64" }
  }
})
const rounds = Number(values.rounds)
const totalMiB = Number(values.mib)

const randomBytes = (size: number): Uint8Array => {
  const out = new Uint8Array(size)
  let state = 2463534242
  for (let i = 0; i < size; i += 4) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    out[i] = state & 0xff
    out[i + 1] = (state >>> 8) & 0xff
    out[i + 2] = (state >>> 16) & 0xff
    out[i + 3] = (state >>> 24) & 0xff
  }
  return out
}

const median = (samples: ReadonlyArray<number>): number => {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** One operation of a case: `round` is -1 for the warm-up, `item` counts within a round. */
type Operation = (round: number, item: number) => Promise<void>

interface PairTimes {
  readonly firstMedian: number
  readonly secondMedian: number
  readonly firstMin: number
  readonly secondMin: number
}

/**
 * Runs a warm-up round, then `rounds` rounds of `items` operations per side. The two
 * sides alternate item by item, and which goes first flips each item, so a change in
 * machine load during a round hits both sides alike. Returns the median and the
 * fastest round time of each side, in seconds.
 */
const measurePair = async (items: number, first: Operation, second: Operation): Promise<PairTimes> => {
  const timed = async (operation: Operation, round: number, item: number) => {
    const started = process.hrtime.bigint()
    await operation(round, item)
    return Number(process.hrtime.bigint() - started) / 1e9
  }
  const firstSamples: Array<number> = []
  const secondSamples: Array<number> = []
  for (let round = -1; round < rounds; round++) {
    let firstTotal = 0
    let secondTotal = 0
    for (let item = 0; item < items; item++) {
      if ((round + item) % 2 === 0) {
        firstTotal += await timed(first, round, item)
        secondTotal += await timed(second, round, item)
      } else {
        secondTotal += await timed(second, round, item)
        firstTotal += await timed(first, round, item)
      }
    }
    if (round >= 0) {
      firstSamples.push(firstTotal)
      secondSamples.push(secondTotal)
    }
  }
  return {
    firstMedian: median(firstSamples),
    secondMedian: median(secondSamples),
    firstMin: Math.min(...firstSamples),
    secondMin: Math.min(...secondSamples)
  }
}

// Objects live in memory (tmpfs) when /dev/shm exists, so disk latency does not drown the client-side cost.
const shm = "/dev/shm"
const parentDirectory = existsSync(shm) ? shm : undefined
const s3 = await startS3({ buckets: ["bench"], parentDirectory })
try {
  const storage = makeS3Storage({ ...s3.options, conditionalWrites: "emulated" })
  const client = new S3Client({
    ...s3.options,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED"
  })
  const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

  const smallSize = 1 * MiB
  const smallCount = Math.max(1, Math.round(totalMiB / 1))
  const small = randomBytes(smallSize)
  const large = randomBytes(totalMiB * MiB)
  const rangeSize = 64 * 1024
  const rangeCount = 256

  const rows: Array<{ name: string; bytes: number; times: PairTimes }> = []
  const compare = async (name: string, bytes: number, items: number, ours: Operation, sdk: Operation) => {
    rows.push({ name, bytes, times: await measurePair(items, ours, sdk) })
  }

  await compare(
    `write ${smallCount} x 1 MiB (single PUT)`,
    smallCount * smallSize,
    smallCount,
    (round, i) => run(storage.write(`s3://bench/ours/small-${round}-${i}`, small)),
    async (round, i) => {
      await client.send(new PutObjectCommand({ Bucket: "bench", Key: `sdk/small-${round}-${i}`, Body: small }))
    }
  )

  // Three large objects per round, so the two sides alternate within a round here too.
  const largeItems = 3
  await compare(
    `write ${largeItems} x ${totalMiB} MiB (multipart, 8 MiB parts)`,
    largeItems * large.byteLength,
    largeItems,
    (round, i) => run(storage.write(`s3://bench/ours/large-${round}-${i}`, large)),
    async (round, i) => {
      await new Upload({
        client,
        params: { Bucket: "bench", Key: `sdk/large-${round}-${i}`, Body: large },
        partSize: 8 * MiB,
        queueSize: 4
      }).done()
    }
  )

  await compare(
    `read ${smallCount} x 1 MiB`,
    smallCount * smallSize,
    smallCount,
    async (_, i) => {
      await run(storage.read(`s3://bench/ours/small-0-${i}`))
    },
    async (_, i) => {
      const output = await client.send(new GetObjectCommand({ Bucket: "bench", Key: `sdk/small-0-${i}` }))
      await output.Body!.transformToByteArray()
    }
  )

  await compare(
    `read ${largeItems} x ${totalMiB} MiB`,
    largeItems * large.byteLength,
    largeItems,
    async (_, i) => {
      await run(storage.read(`s3://bench/ours/large-0-${i}`))
    },
    async (_, i) => {
      const output = await client.send(new GetObjectCommand({ Bucket: "bench", Key: `sdk/large-0-${i}` }))
      await output.Body!.transformToByteArray()
    }
  )

  const rangeStart = (i: number) => (i * 7919 * rangeSize) % (large.byteLength - rangeSize)
  await compare(
    `read ${rangeCount} x 64 KiB ranges`,
    rangeCount * rangeSize,
    rangeCount,
    async (_, i) => {
      await run(storage.readRange("s3://bench/ours/large-0-0", rangeStart(i), rangeStart(i) + rangeSize))
    },
    async (_, i) => {
      const start = rangeStart(i)
      const output = await client.send(
        new GetObjectCommand({ Bucket: "bench", Key: "sdk/large-0-0", Range: `bytes=${start}-${start + rangeSize - 1}` })
      )
      await output.Body!.transformToByteArray()
    }
  )

  // One-column projection of a three-column Parquet file.
  const ROWS = 200_000
  const texts: Array<string> = []
  const scores: Array<number> = []
  const ids: Array<number> = []
  for (let i = 0; i < ROWS; i++) {
    ids.push(i)
    scores.push((i * 7919) % 100_000 / 1000)
    texts.push(`document ${i} ${(i * 2654435761 >>> 0).toString(36)} ${(i * 40503 >>> 0).toString(36)} lorem ipsum dolor sit amet`)
  }
  const parquet = new Uint8Array(parquetWriteBuffer({
    columnData: [
      { name: "id", data: ids, type: "INT32" },
      { name: "text", data: texts, type: "STRING" },
      { name: "score", data: scores, type: "DOUBLE" }
    ],
    rowGroupSize: 50_000
  }))
  await run(storage.write("s3://bench/parquet/part-00000.parquet", parquet))
  const counting = countingStorage(storage)
  const buffer = await asyncBufferFor(counting, "s3://bench/parquet/part-00000.parquet")
  const metadata = await parquetMetadataAsync(buffer, { initialFetchSize: 8 })
  const projected = await parquetReadObjects({ file: buffer, metadata, columns: ["score"] })
  let scoreBytes = 0
  for (const group of metadata.row_groups) {
    for (const chunk of group.columns) {
      if (chunk.meta_data?.path_in_schema[0] === "score") scoreBytes += Number(chunk.meta_data.total_compressed_size)
    }
  }

  const mibPerSecond = (bytes: number, seconds: number) => (bytes / MiB / seconds).toFixed(1)
  console.log(`Machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? "unknown CPU"}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, Node ${process.version}`)
  console.log(`Command: npx node bench/s3.ts --rounds ${rounds} --mib ${totalMiB}`)
  console.log(`s3rver directory: ${parentDirectory ?? os.tmpdir()}; load average at the end: ${os.loadavg().map((load) => load.toFixed(1)).join(" ")}`)
  console.log("")
  console.log("| case | Storage MiB/s (median) | plain SDK MiB/s (median) | time ratio, medians | time ratio, fastest rounds |")
  console.log("|---|---:|---:|---:|---:|")
  for (const { name, bytes, times } of rows) {
    const medianRatio = (times.firstMedian / times.secondMedian).toFixed(3)
    const minRatio = (times.firstMin / times.secondMin).toFixed(3)
    console.log(
      `| ${name} | ${mibPerSecond(bytes, times.firstMedian)} | ${mibPerSecond(bytes, times.secondMedian)} | ${medianRatio} | ${minRatio} |`
    )
  }
  console.log("")
  console.log(`Projection: ${ROWS} rows x 3 columns, file ${parquet.byteLength} bytes; read column "score" (${projected.length} rows)`)
  console.log(`- score column compressed size: ${scoreBytes} bytes; footer: ${Number(metadata.metadata_length) + 8} bytes`)
  console.log(`- bytes fetched: ${counting.counts.bytesRead} in ${counting.counts.requests.readRange} range requests ` +
    `(${(counting.counts.bytesRead / parquet.byteLength * 100).toFixed(1)}% of the file, ` +
    `${(counting.counts.bytesRead / (scoreBytes + Number(metadata.metadata_length) + 8)).toFixed(3)} x column + footer)`)
} finally {
  await s3.stop()
}
