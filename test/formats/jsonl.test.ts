import { createWriteStream, readFileSync } from "node:fs"
import { join } from "node:path"
import { gzipSync, zstdCompressSync } from "node:zlib"
import { Effect, Stream } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { FormatError } from "../../connectors/formats/FormatError.ts"
import { byteSourceFromFile, jsonlBatchStream, readJsonl } from "../../connectors/formats/jsonl.ts"
import type { JsonlReadOptions, JsonlSkip } from "../../connectors/formats/jsonl.ts"
import { collect, dataPath, listFiles, makeTempDir, rejection } from "./helpers.ts"

const temp = makeTempDir("jsonl")
afterAll(() => temp.cleanup())

const encoder = new TextEncoder()

/** Splits bytes into small chunks so that lines cross chunk boundaries. */
async function* chunked(bytes: Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size)
}

const read = async (bytes: Uint8Array, options: Partial<JsonlReadOptions> = {}) => {
  const reader = readJsonl(chunked(bytes), { name: "test.jsonl", ...options })
  const rows = (await collect(reader.batches)).flat()
  return { rows, counts: reader.counts }
}

const badLines = [
  "{\"text\": \"good 1\"}",
  "{\"text\": \"bad json\"",
  "[1, 2, 3]",
  "\"bare string\"",
  "{\"other\": 1}",
  "",
  "{\"text\": \"good 2\"}\r"
].join("\n")

const withInvalidUtf8 = (() => {
  const head = encoder.encode("{\"text\": \"ok\"}\n{\"text\": \"")
  const tail = encoder.encode("\"}\n")
  return Uint8Array.from([...head, 0xff, 0xfe, ...tail])
})()

describe("jsonl reader", () => {
  it("reads records across chunk boundaries", async () => {
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ text: `row ${i} é ☕`, id: i }))
    const { rows, counts } = await read(encoder.encode(lines.join("\n") + "\n"), { batchRows: 16 })
    expect(rows.map((row) => row.id)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(rows[3].text).toBe("row 3 é ☕")
    expect(counts.rows).toBe(50)
    expect(counts.lines).toBe(50)
  })

  it("emits batches of at most batchRows", async () => {
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: i })).join("\n")
    const batches = await collect(readJsonl(chunked(encoder.encode(lines)), { name: "b.jsonl", batchRows: 16 }).batches)
    expect(batches.map((batch) => batch.length)).toEqual([16, 16, 8])
  })

  it("counts skipped lines by reason", async () => {
    const skips: Array<JsonlSkip> = []
    const { rows, counts } = await read(encoder.encode(badLines), {
      onError: "skip",
      requiredFields: ["text"],
      onSkip: (skip) => skips.push(skip)
    })
    expect(rows).toEqual([{ text: "good 1" }, { text: "good 2" }])
    expect(counts.skipped.InvalidJson).toBe(1)
    expect(counts.skipped.NotAnObject).toBe(2)
    expect(counts.skipped.MissingField).toBe(1)
    expect(counts.blankLines).toBe(1)
    expect(skips.map((skip) => skip.line)).toEqual([2, 3, 4, 5])
  })

  it("fails on the first bad line with file and line", async () => {
    const error = await rejection(read(encoder.encode(badLines), { name: "data/part-1.jsonl" }))
    expect(error).toBeInstanceOf(FormatError)
    const formatError = error as FormatError
    expect(formatError.reason).toBe("InvalidJson")
    expect(formatError.line).toBe(2)
    expect(formatError.message).toContain("data/part-1.jsonl:2")
    expect(formatError.message).toContain("onError")
  })

  it("names the missing required field", async () => {
    const error = await rejection(read(encoder.encode("{\"id\": 1}\n"), { requiredFields: ["text"] }))
    expect((error as FormatError).reason).toBe("MissingField")
    expect((error as FormatError).message).toContain("\"text\" is missing")
  })

  it("rejects invalid UTF-8", async () => {
    const failed = await rejection(read(withInvalidUtf8))
    expect((failed as FormatError).reason).toBe("InvalidUtf8")
    expect((failed as FormatError).line).toBe(2)
    const skipped = await read(withInvalidUtf8, { onError: "skip" })
    expect(skipped.rows).toEqual([{ text: "ok" }])
    expect(skipped.counts.skipped.InvalidUtf8).toBe(1)
  })

  it("treats an empty file by policy", async () => {
    const failed = await rejection(read(new Uint8Array(0)))
    expect((failed as FormatError).reason).toBe("Empty")
    const skipped = await read(new Uint8Array(0), { onError: "skip" })
    expect(skipped.counts.skipped.Empty).toBe(1)
  })

  it("discards a line over maxRecordBytes", async () => {
    const long = JSON.stringify({ text: "y".repeat(5000) })
    const bytes = encoder.encode(`{"text": "a"}\n${long}\n{"text": "b"}`)
    const skipped = await read(bytes, { onError: "skip", maxRecordBytes: 1000 })
    expect(skipped.rows).toEqual([{ text: "a" }, { text: "b" }])
    expect(skipped.counts.skipped.RecordTooLarge).toBe(1)
    const failed = await rejection(read(bytes, { maxRecordBytes: 1000 }))
    expect((failed as FormatError).reason).toBe("RecordTooLarge")
    expect((failed as FormatError).line).toBe(2)
  })

  it("reads gzip and zstd streams", async () => {
    const text = encoder.encode("{\"text\": \"a\"}\n{\"text\": \"b\"}\n")
    for (const [name, bytes] of [["x.jsonl.gz", gzipSync(text)], ["x.jsonl.zst", zstdCompressSync(text)]] as const) {
      const reader = readJsonl(chunked(new Uint8Array(bytes), 5), { name })
      expect((await collect(reader.batches)).flat(), name).toEqual([{ text: "a" }, { text: "b" }])
    }
  })

  it("reports truncated and non-gzip input", async () => {
    const big = encoder.encode(Array.from({ length: 2000 }, (_, i) => JSON.stringify({ i, pad: "z".repeat(i % 100) })).join("\n"))
    const gz = gzipSync(big)
    const cut = await rejection(collect(readJsonl(chunked(gz.subarray(0, gz.byteLength / 2), 512), { name: "c.jsonl.gz" }).batches))
    expect((cut as FormatError).reason).toBe("Truncated")
    const zst = zstdCompressSync(big)
    const cutZstd = await rejection(collect(readJsonl(chunked(zst.subarray(0, zst.byteLength / 2), 512), { name: "c.jsonl.zst" }).batches))
    expect(cutZstd).toBeInstanceOf(FormatError)
    expect((cutZstd as FormatError).message).toContain("c.jsonl.zst")
    const plain = await rejection(collect(readJsonl(chunked(big, 512), { name: "p.jsonl.gz" }).batches))
    expect((plain as FormatError).reason).toBe("Corrupt")
    expect((plain as FormatError).message).toContain("not gzip data")
  })

  it("works as an Effect stream", async () => {
    const { stream, counts } = jsonlBatchStream(chunked(encoder.encode(badLines)), { name: "e.jsonl", onError: "skip" })
    const batches = await Effect.runPromise(Stream.runCollect(stream))
    expect(Array.from(batches).flat().length).toBe(3)
    expect(counts.skipped.NotAnObject).toBe(2)
    const failing = jsonlBatchStream(chunked(encoder.encode(badLines)), { name: "e.jsonl" })
    const error = await Effect.runPromise(Effect.flip(Stream.runCollect(failing.stream)))
    expect(error.reason).toBe("InvalidJson")
  })

  it("streams past a 100 MB line with bounded memory", async () => {
    const path = join(temp.dir, "huge-line.jsonl")
    const out = createWriteStream(path)
    const piece = "x".repeat(1 << 20)
    out.write("{\"text\": \"before\"}\n{\"text\": \"")
    for (let i = 0; i < 100; i++) {
      if (!out.write(piece)) await new Promise<void>((resolve) => out.once("drain", () => resolve()))
    }
    out.write("\"}\n{\"text\": \"after\"}\n")
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())))

    const before = process.memoryUsage().rss
    let peak = before
    const reader = readJsonl(byteSourceFromFile(path), { name: path, onError: "skip", maxRecordBytes: 1 << 20 })
    const rows = []
    for await (const batch of reader.batches) {
      rows.push(...batch)
      peak = Math.max(peak, process.memoryUsage().rss)
    }
    expect(rows).toEqual([{ text: "before" }, { text: "after" }])
    expect(reader.counts.skipped.RecordTooLarge).toBe(1)
    expect(reader.counts.bytes).toBeGreaterThan(100 * (1 << 20))
    // The line itself is 100 MiB; growth far below that shows it was never buffered whole.
    expect(peak - before).toBeLessThan(48 * (1 << 20))
  })
})

const suite = dataPath("jsonhard/nst__JSONTestSuite/test_parsing")

describe.skipIf(suite === undefined)("jsonl on JSONTestSuite cases", () => {
  it("accepts y_, rejects n_, never crashes on i_", async () => {
    const files = listFiles(suite ?? "")
    expect(files.length).toBeGreaterThan(30)
    for (const path of files) {
      const base = path.split("/").pop() ?? path
      const skips: Array<JsonlSkip> = []
      const reader = readJsonl(byteSourceFromFile(path), { name: base, onError: "skip", onSkip: (skip) => skips.push(skip) })
      const rows = (await collect(reader.batches)).flat()
      const isObject = readFileSync(path, "latin1").trimStart().replace(/^\xef\xbb\xbf/, "").startsWith("{")
      if (base.startsWith("y_")) {
        // Valid JSON: a row when it is an object, else a NotAnObject skip.
        if (isObject) expect(rows.length, base).toBe(1)
        else expect(skips.map((skip) => skip.reason), base).toEqual(["NotAnObject"])
      } else if (base.startsWith("n_")) {
        expect(rows.length, base).toBe(0)
        expect(skips.length, base).toBeGreaterThan(0)
        for (const skip of skips) expect(["InvalidJson", "InvalidUtf8", "NotAnObject"], base).toContain(skip.reason)
      } else {
        expect(rows.length + skips.length + reader.counts.blankLines, base).toBeGreaterThan(0)
      }
      if (/invalid_utf-8|UTF-8_invalid|lone_utf8_continuation|overlong|truncated-utf-8|iso_latin_1|not_in_unicode_range|U\+D800/.test(base)) {
        expect(skips.map((skip) => skip.reason), base).toContain("InvalidUtf8")
      }
    }
  })
})

const dolma = dataPath("webtext/allenai__dolma/tests/data/multiple_files/cc_en_head-0091.jsonl.gz")
const bareStrings = dataPath("sft/LAION-AI__Open-Assistant/model/model_eval/manual/data/en_100_text.jsonl")
const lfsPointer = dataPath("preference/anthropics__hh-rlhf/helpful-base/test.jsonl.gz")

describe("jsonl on shared data traps", () => {
  it.skipIf(dolma === undefined)("reads a gzip file with a line over 64 KiB", async () => {
    const reader = readJsonl(byteSourceFromFile(dolma ?? ""), { name: "cc_en_head-0091.jsonl.gz", requiredFields: ["text"] })
    const rows = (await collect(reader.batches)).flat()
    expect(rows.length).toBe(10)
    expect(Math.max(...rows.map((row) => String(row.text).length))).toBeGreaterThan(1000)
    const small = readJsonl(byteSourceFromFile(dolma ?? ""), { name: "cc.jsonl.gz", onError: "skip", maxRecordBytes: 64 * 1024 })
    const kept = (await collect(small.batches)).flat()
    expect(kept.length + small.counts.skipped.RecordTooLarge).toBe(10)
    expect(small.counts.skipped.RecordTooLarge).toBeGreaterThan(0)
  })

  it.skipIf(bareStrings === undefined)("rejects bare string lines", async () => {
    const error = await rejection(collect(readJsonl(byteSourceFromFile(bareStrings ?? ""), { name: "en_100_text.jsonl" }).batches))
    expect((error as FormatError).reason).toBe("NotAnObject")
    expect((error as FormatError).line).toBe(1)
    const skipped = readJsonl(byteSourceFromFile(bareStrings ?? ""), { name: "en_100_text.jsonl", onError: "skip" })
    await collect(skipped.batches)
    expect(skipped.counts.skipped.NotAnObject).toBe(100)
  })

  it.skipIf(lfsPointer === undefined)("names a Git LFS pointer", async () => {
    const error = await rejection(collect(readJsonl(byteSourceFromFile(lfsPointer ?? ""), { name: "test.jsonl.gz" }).batches))
    expect((error as FormatError).reason).toBe("Corrupt")
    expect((error as FormatError).message).toContain("Git LFS pointer")
  })
})
