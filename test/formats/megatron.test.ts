import { spawnSync } from "node:child_process"
import { existsSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { FormatError } from "../../connectors/formats/FormatError.ts"
import {
  makeIndexedDatasetWriter,
  readIndexedDatasetIndex,
  readIndexedDatasetSequence,
  writeBlendFile,
  writeIndexedDatasetFiles
} from "../../connectors/formats/megatron.ts"
import { dataPath, makeTempDir } from "./helpers.ts"
import { concatBytes } from "../../connectors/formats/bytes.ts"

const temp = makeTempDir("megatron")
afterAll(() => temp.cleanup())

const pythonReader = join(import.meta.dirname, "read_indexed.py")
// Debian's interpreter first: .ci/run installs python3-numpy for it, and a python3
// earlier on PATH (pyenv, a virtualenv) may lack numpy.
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3"
const hasNumpy = spawnSync(PYTHON, ["-c", "import numpy"], { stdio: "ignore" }).status === 0
if (!hasNumpy) console.warn("python3 with numpy not found; skipping the independent indexed-dataset reader checks (apt-get install python3-numpy)")

interface PythonView {
  version: number
  dtype_code: number
  dtype: string
  sizes: Array<number>
  pointers: Array<number>
  doc_idx: Array<number>
  sequences: Array<Array<number>>
}

const readWithPython = (prefix: string, limit?: number): PythonView => {
  const result = spawnSync(PYTHON, [pythonReader, prefix, ...(limit === undefined ? [] : [String(limit)])], { encoding: "utf8", maxBuffer: 256 << 20 })
  if (result.status !== 0) throw new Error(`read_indexed.py failed: ${result.stderr}`)
  return JSON.parse(result.stdout) as PythonView
}

const concat = (chunks: Iterable<Uint8Array>): Uint8Array => concatBytes([...chunks])

const gpt2 = dataPath("megatron/bigscience-workshop__Megatron-DeepSpeed/tests/data/gpt2")
const realPrefixes = ["meg-gpt2-openwebtext_text_document", "ag_news_prompt_inputs_document", "ag_news_prompt_targets_document"]

describe.skipIf(gpt2 === undefined)("megatron index on real files", () => {
  for (const base of realPrefixes) {
    const prefix = join(gpt2 ?? "", base)

    it(`parses ${base}`, () => {
      const index = readIndexedDatasetIndex(readFileSync(`${prefix}.idx`), base)
      const bin = readFileSync(`${prefix}.bin`)
      const itemSize = index.dtype === "uint16" ? 2 : 4
      expect(["uint16", "int32"]).toContain(index.dtype)
      expect(statSync(`${prefix}.idx`).size).toBe(34 + index.sizes.length * 12 + index.documentIndex.length * 8)
      let pointer = 0
      for (let i = 0; i < index.sizes.length; i++) {
        expect(index.pointers[i]).toBe(pointer)
        pointer += index.sizes[i] * itemSize
      }
      expect(pointer).toBe(bin.byteLength)
      expect(index.documentIndex[0]).toBe(0)
      expect(index.documentIndex[index.documentIndex.length - 1]).toBe(index.sizes.length)
    })

    it.skipIf(!hasNumpy)(`agrees with numpy on ${base}`, () => {
      const python = readWithPython(prefix, 20)
      const index = readIndexedDatasetIndex(readFileSync(`${prefix}.idx`), base)
      const bin = readFileSync(`${prefix}.bin`)
      expect(python.version).toBe(1)
      expect(python.dtype_code).toBe(index.dtypeCode)
      expect(python.dtype).toBe(index.dtype)
      expect(python.sizes).toEqual(Array.from(index.sizes))
      expect(python.pointers).toEqual(Array.from(index.pointers))
      expect(python.doc_idx).toEqual(Array.from(index.documentIndex))
      for (let i = 0; i < python.sequences.length; i++) expect(readIndexedDatasetSequence(index, bin, i)).toEqual(python.sequences[i])
    })

    it(`rewrites ${base} byte for byte`, () => {
      const index = readIndexedDatasetIndex(readFileSync(`${prefix}.idx`), base)
      const bin = readFileSync(`${prefix}.bin`)
      const writer = makeIndexedDatasetWriter({ dtype: index.dtype === "uint16" ? "uint16" : "int32", name: base })
      const binChunks: Array<Uint8Array> = []
      // Rebuild documents from the document index so multi-sequence documents stay whole.
      for (let d = 0; d + 1 < index.documentIndex.length; d++) {
        const sequences: Array<Uint32Array> = []
        for (let s = index.documentIndex[d]; s < index.documentIndex[d + 1]; s++) {
          sequences.push(Uint32Array.from(readIndexedDatasetSequence(index, bin, s)))
        }
        binChunks.push(writer.addDocument(sequences))
      }
      expect(Buffer.from(concat(binChunks)).equals(bin)).toBe(true)
      expect(Buffer.from(concat(writer.finishIndex())).equals(readFileSync(`${prefix}.idx`))).toBe(true)
    })
  }
})

describe("megatron writer", () => {
  const documents = Array.from({ length: 500 }, (_, d) =>
    Uint32Array.from({ length: (d % 13) + 1 }, (_, k) => (d * 100_003 + k * 7_919) % 100_352))

  it("streams files and reads back with numpy", async () => {
    const prefix = join(temp.dir, "arcade")
    async function* source() {
      for (const document of documents) yield document
    }
    const summary = await writeIndexedDatasetFiles(prefix, source(), { dtype: "uint32" })
    expect(summary).toEqual({
      dtype: "int32",
      sequences: 500,
      documents: 500,
      tokens: documents.reduce((sum, d) => sum + d.length, 0),
      binBytes: documents.reduce((sum, d) => sum + d.length, 0) * 4
    })
    const index = readIndexedDatasetIndex(readFileSync(`${prefix}.idx`), prefix)
    expect(index.dtypeCode).toBe(4)
    expect(readIndexedDatasetSequence(index, readFileSync(`${prefix}.bin`), 77)).toEqual(Array.from(documents[77]))
    if (!hasNumpy) return
    const python = readWithPython(prefix)
    expect(python.dtype).toBe("int32")
    expect(python.doc_idx).toEqual(Array.from({ length: 501 }, (_, i) => i))
    expect(python.sequences).toEqual(documents.map((d) => Array.from(d)))
    expect(Math.max(...python.sequences.flat())).toBeGreaterThan(65_535)
  })

  it.skipIf(!hasNumpy)("keeps multi-sequence documents in doc_idx", async () => {
    const prefix = join(temp.dir, "multi")
    const writer = makeIndexedDatasetWriter({ dtype: "uint16" })
    const bin = concat([
      writer.addDocument([Uint32Array.from([1, 2]), Uint32Array.from([3])]),
      writer.addDocument(Uint32Array.from([4, 5, 6])),
      writer.addDocument([Uint32Array.from([]), Uint32Array.from([65_535])])
    ])
    const { writeFileSync } = await import("node:fs")
    writeFileSync(`${prefix}.bin`, bin)
    writeFileSync(`${prefix}.idx`, concat(writer.finishIndex()))
    const python = readWithPython(prefix)
    expect(python.dtype_code).toBe(8)
    expect(python.sizes).toEqual([2, 1, 3, 0, 1])
    expect(python.pointers).toEqual([0, 4, 6, 12, 12])
    expect(python.doc_idx).toEqual([0, 2, 3, 5])
    expect(python.sequences).toEqual([[1, 2], [3], [4, 5, 6], [], [65_535]])
  })

  it("rejects ids wider than the dtype", () => {
    const writer = makeIndexedDatasetWriter({ dtype: "uint16", name: "out/tokens" })
    const error = (() => {
      try {
        writer.addDocument(Uint32Array.from([1, 70_000]))
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(FormatError)
    expect((error as FormatError).reason).toBe("InvalidArgument")
    expect((error as FormatError).message).toContain("70000")
    expect(() => makeIndexedDatasetWriter({ dtype: "uint32" }).addDocument(Uint32Array.from([2 ** 31]))).toThrow(/does not fit/)
  })

  it("rejects truncated and foreign index files", () => {
    const writer = makeIndexedDatasetWriter()
    writer.addDocument(Uint32Array.from([1, 2, 3]))
    const idx = concat(writer.finishIndex())
    const cut = (() => {
      try {
        readIndexedDatasetIndex(idx.subarray(0, idx.byteLength - 4), "cut.idx")
      } catch (e) {
        return e as FormatError
      }
    })()
    expect(cut?.reason).toBe("Truncated")
    expect(cut?.message).toContain("cut.idx")
    expect(() => readIndexedDatasetIndex(new TextEncoder().encode("TNTIDX\0\0 legacy header"), "old.idx")).toThrow(/bad magic/)
  })
})

describe("blend file", () => {
  it("encodes Megatron and gpt-neox forms", () => {
    const blend = writeBlendFile([
      { weight: 0.7, prefix: "/data/web_text_document" },
      { weight: 0.3, prefix: "/data/code_text_document" }
    ])
    expect(blend.text).toBe("0.7 /data/web_text_document 0.3 /data/code_text_document\n")
    const json = JSON.parse(blend.json)
    expect(json["train-data-paths"]).toEqual(["/data/web_text_document", "/data/code_text_document"])
    expect(json["train-data-weights"]).toEqual([0.7, 0.3])
    expect(json["data-path"]).toEqual(["0.7", "/data/web_text_document", "0.3", "/data/code_text_document"])
  })

  it("rejects bad weights and prefixes", () => {
    expect(() => writeBlendFile([{ weight: 0, prefix: "/a" }])).toThrow(/weights must be positive/)
    expect(() => writeBlendFile([{ weight: 1, prefix: "/a b" }])).toThrow(/whitespace/)
    expect(() => writeBlendFile([])).toThrow(/at least one/)
  })
})
