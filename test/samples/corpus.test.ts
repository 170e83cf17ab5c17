import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parquetMetadata, parquetReadObjects } from "hyparquet"
import { compressors } from "hyparquet-compressors"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const projectRoot = join(import.meta.dirname, "..", "..")
const script = join(projectRoot, "bench", "corpus.ts")

function runCorpus(args: ReadonlyArray<string>) {
  return spawnSync(process.execPath, [script, ...args], { cwd: projectRoot, encoding: "utf8", timeout: 120_000 })
}

interface CorpusManifest {
  readonly documents: number
  readonly textBytes: number
  readonly sources: Record<string, { documents: number; textBytes: number }>
  readonly files: Record<string, { bytes: number; sha256: string }>
  readonly parquet: { codec: string; rowGroups: number }
}

describe("bench/corpus.ts", () => {
  let out: string

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), "mixwright-corpus-"))
  })

  afterAll(() => {
    rmSync(out, { recursive: true, force: true })
  })

  it("builds a 3 MB corpus twice with identical bytes", async () => {
    const first = runCorpus(["--size-mb", "3", "--out", join(out, "a"), "--name", "small"])
    expect(first.status, first.stderr).toBe(0)
    const second = runCorpus(["--size-mb", "3", "--out", join(out, "b"), "--name", "small"])
    expect(second.status, second.stderr).toBe(0)

    const manifestA: CorpusManifest = JSON.parse(readFileSync(join(out, "a", "MANIFEST.json"), "utf8")).corpora.small
    const manifestB: CorpusManifest = JSON.parse(readFileSync(join(out, "b", "MANIFEST.json"), "utf8")).corpora.small
    expect(manifestB.files).toEqual(manifestA.files)
    expect(manifestA.textBytes).toBeGreaterThanOrEqual(3_000_000)
    expect(manifestA.sources.node_modules!.documents).toBeGreaterThan(0)

    for (const [name, { bytes, sha256 }] of Object.entries(manifestA.files)) {
      const content = readFileSync(join(out, "a", name))
      expect(content.length, name).toBe(bytes)
      expect(createHash("sha256").update(content).digest("hex"), name).toBe(sha256)
    }
  })

  it("writes the same documents to Parquet and JSONL", async () => {
    const manifest: CorpusManifest = JSON.parse(readFileSync(join(out, "a", "MANIFEST.json"), "utf8")).corpora.small
    const lines = readFileSync(join(out, "a", "small.jsonl"), "utf8").trimEnd().split("\n")
    const jsonlRows = lines.map((line) => JSON.parse(line) as { text: string; id: string })
    const bytes = readFileSync(join(out, "a", "small.parquet"))
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
    const metadata = parquetMetadata(file)
    const parquetRows = (await parquetReadObjects({ file, compressors })) as Array<{ text: string; id: string }>

    expect(jsonlRows).toHaveLength(manifest.documents)
    expect(parquetRows).toHaveLength(manifest.documents)
    expect(metadata.row_groups).toHaveLength(manifest.parquet.rowGroups)
    expect(metadata.row_groups[0]!.columns[0]!.meta_data!.codec).toBe("ZSTD")
    for (let i = 0; i < jsonlRows.length; i++) {
      expect(parquetRows[i]!.id).toBe(jsonlRows[i]!.id)
      expect(parquetRows[i]!.text).toBe(jsonlRows[i]!.text)
    }
  })

  it("never repeats a document", () => {
    const lines = readFileSync(join(out, "a", "small.jsonl"), "utf8").trimEnd().split("\n")
    const texts = lines.map((line) => (JSON.parse(line) as { text: string }).text)
    const total = texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0)
    expect(new Set(texts).size).toBe(texts.length)
    expect(texts.every((text) => text.trim() !== "")).toBe(true)
    expect(total).toBeGreaterThanOrEqual(3_000_000)
  })

  it("rejects an unknown option", () => {
    const result = runCorpus(["--size", "3"])
    expect(result.status).toBe(1)
    expect(result.stderr).toContain("invalid argument --size")
  })
})
