import { createHash } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { gunzipSync } from "node:zlib"
import { parquetReadObjects } from "hyparquet"
import { compressors } from "hyparquet-compressors"
import { describe, expect, it } from "vitest"

const projectRoot = join(import.meta.dirname, "..", "..")

interface IndexEntry {
  readonly row: string
  readonly category: string
  readonly dataset: string
  readonly language: string
  readonly uri: string
  readonly format: "jsonl" | "parquet"
  readonly compression: "none" | "gzip"
  readonly fields: Record<string, string>
  readonly bytes: number
  readonly records: number
  readonly maxRecordBytes: number
  readonly approxTokens: number
  readonly license: string
  readonly sha256: string
}

const index: ReadonlyArray<IndexEntry> = JSON.parse(readFileSync(join(projectRoot, "samples", "index.json"), "utf8"))

// The 28 rows of Table 1 in the StableLM 2 1.6B technical report (arXiv 2402.17834).
const tableOneRows = [
  "RefinedWeb", "OpenWebText2", "CulturaX EN", "CulturaX ES", "CulturaX DE", "CulturaX FR", "CulturaX IT",
  "CulturaX NL", "CulturaX PT", "C4", "Arxiv", "PubMed", "S2ORC", "PhilPapers", "BookCorpusOpen", "PG-19",
  "FanFics", "StarCoder", "StackExchange", "HackerNews", "EuroParl", "FreeLaw", "PileOfLaw", "DM Math", "AMPS",
  "OpenWebMath", "RedPajama Wiki", "Restruct-v1",
]

async function firstRecords(entry: IndexEntry, count: number): Promise<Array<Record<string, unknown>>> {
  const bytes = readFileSync(join(projectRoot, entry.uri))
  if (entry.format === "parquet") {
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
    return await parquetReadObjects({ file, compressors, rowEnd: count })
  }
  const text = (entry.compression === "gzip" ? gunzipSync(bytes) : bytes).toString("utf8")
  return text.split("\n").filter((line) => line.trim() !== "").slice(0, count).map((line) => JSON.parse(line))
}

describe("samples/index.json", () => {
  it("covers every Table 1 row", () => {
    const rows = new Set(index.map((entry) => entry.row))
    for (const row of tableOneRows) expect(rows.has(row), row).toBe(true)
    expect(tableOneRows).toHaveLength(28)
  })

  it("has post-training samples", () => {
    const categories = new Set(index.map((entry) => entry.category))
    expect(categories.has("sft")).toBe(true)
    expect(categories.has("dpo")).toBe(true)
    expect(categories.has("countdown")).toBe(true)
  })

  it("includes Parquet and gzip JSONL files", () => {
    expect(index.some((entry) => entry.format === "parquet")).toBe(true)
    expect(index.some((entry) => entry.compression === "gzip")).toBe(true)
  })

  it("gives each row one format and mapping", () => {
    const byRow = new Map<string, IndexEntry>()
    for (const entry of index) {
      const first = byRow.get(entry.row)
      if (first === undefined) {
        byRow.set(entry.row, entry)
        continue
      }
      expect(entry.format, `${entry.uri} vs ${first.uri}`).toBe(first.format)
      expect(entry.fields, `${entry.uri} vs ${first.uri}`).toEqual(first.fields)
      expect(entry.category, entry.uri).toBe(first.category)
    }
  })

  it("stays within the size budget", () => {
    const total = index.reduce((sum, entry) => sum + entry.bytes, 0)
    expect(total).toBeLessThan(30_000_000)
    for (const entry of index) expect(entry.bytes, entry.uri).toBeLessThan(4_000_000)
  })

  it("has enough tokens per pretraining row", () => {
    const tokensByRow = new Map<string, number>()
    for (const entry of index) tokensByRow.set(entry.row, (tokensByRow.get(entry.row) ?? 0) + entry.approxTokens)
    // PubMed is the one row under 20k tokens: the snapshot has little biomedical text.
    for (const row of tableOneRows) expect(tokensByRow.get(row), row).toBeGreaterThan(row === "PubMed" ? 14_000 : 20_000)
  })
})

describe.each(index.map((entry) => [entry.uri, entry] as const))("sample %s", (_uri, entry) => {
  const path = join(projectRoot, entry.uri)

  it("exists with the recorded size and hash", () => {
    expect(existsSync(path)).toBe(true)
    const bytes = readFileSync(path)
    expect(bytes.length).toBe(entry.bytes)
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(entry.sha256)
  })

  it("records its record count and largest line", () => {
    if (entry.format !== "jsonl") return
    const bytes = readFileSync(path)
    const text = (entry.compression === "gzip" ? gunzipSync(bytes) : bytes).toString("utf8")
    const lines = text.split("\n").filter((line) => line.trim() !== "")
    expect(lines).toHaveLength(entry.records)
    expect(Math.max(...lines.map((line) => Buffer.byteLength(line)))).toBe(entry.maxRecordBytes)
  })

  it("has a SOURCE.md with origin and license", () => {
    const sourcePath = join(dirname(path), "SOURCE.md")
    expect(existsSync(sourcePath)).toBe(true)
    const source = readFileSync(sourcePath, "utf8")
    const name = entry.uri.split("/").at(-1)!
    expect(source).toContain(`## ${name}`)
    const section = source.slice(source.indexOf(`## ${name}`))
    expect(section).toMatch(/^License: \S/m)
    expect(section).toMatch(/repository `[^`]+`, path `[^`]+`, commit `[0-9a-f]{40}`/)
  })

  it("maps fields present in the first records", async () => {
    const records = await firstRecords(entry, 5)
    expect(records.length).toBeGreaterThan(0)
    for (const record of records) {
      for (const column of Object.values(entry.fields)) {
        expect(record[column], `${entry.uri}: column ${column}`).toBeDefined()
      }
      if (entry.fields.text !== undefined) {
        expect(typeof record[entry.fields.text]).toBe("string")
        expect((record[entry.fields.text] as string).length).toBeGreaterThan(0)
      }
    }
  })

  it("uses no non-commercial source", () => {
    const source = readFileSync(join(dirname(path), "SOURCE.md"), "utf8")
    expect(source).not.toContain("seed_tasks")
    expect(source).not.toMatch(/aime|amc23/i)
    expect(entry.license).not.toMatch(/NC/)
  })
})
