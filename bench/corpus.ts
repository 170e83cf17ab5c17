// Builds the benchmark corpus: at least --size-mb million bytes of real UTF-8 text, one document
// per file or per record, from the text files of the project's locked node_modules tree and the
// public data snapshot. Documents are deduplicated by content hash and never repeated, so a size
// larger than the available text fails instead of padding.
//
//   npx node bench/corpus.ts [--size-mb 200] [--out bench/corpus] [--name corpus-1x] [--data DIR] [--extra DIR]...
//
// Writes <out>/<name>.parquet (columns `text`, `id`; ZSTD; one row group per ~16 MB of text),
// <out>/<name>.jsonl ({"text", "id"} per line) and an entry for <name> in <out>/MANIFEST.json.
import { createHash } from "node:crypto"
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from "node:fs"
import { basename, dirname, join, relative } from "node:path"
import { gunzipSync, zstdCompressSync } from "node:zlib"
import { decompress as zstdDecompress } from "fzstd"
import { fileWriter } from "hyparquet-writer"
import { ParquetWriter } from "hyparquet-writer"
import { SHARED_DATA } from "../test/support/data.ts"

const projectRoot = join(import.meta.dirname, "..")

interface Options {
  readonly sizeMb: number
  readonly out: string
  readonly name: string
  readonly dataRoot: string
  readonly extraDirs: ReadonlyArray<string>
}

const usage = "usage: npx node bench/corpus.ts [--size-mb N] [--out DIR] [--name NAME] [--data DIR] [--extra DIR]..."

function parseOptions(argv: ReadonlyArray<string>): Options {
  const values = new Map<string, string>()
  const extraDirs: Array<string> = []
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!
    const value = argv[i + 1]
    if (!["--size-mb", "--out", "--name", "--data", "--extra"].includes(flag) || value === undefined) {
      throw new Error(`invalid argument ${flag}: every option takes a value. ${usage}`)
    }
    if (flag === "--extra") extraDirs.push(value)
    else values.set(flag, value)
  }
  const sizeMb = Number(values.get("--size-mb") ?? "200")
  if (!Number.isFinite(sizeMb) || sizeMb <= 0) {
    throw new Error(`invalid --size-mb ${values.get("--size-mb")}: expected a positive number of megabytes (10^6 bytes)`)
  }
  for (const dir of extraDirs) if (!existsSync(dir)) throw new Error(`--extra ${dir}: directory not found`)
  return {
    sizeMb,
    out: values.get("--out") ?? join(projectRoot, "bench", "corpus"),
    name: values.get("--name") ?? "corpus-1x",
    dataRoot: values.get("--data") ?? process.env.MIXWRIGHT_DATA ?? SHARED_DATA,
    extraDirs,
  }
}

interface Document {
  readonly id: string
  readonly text: string
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

// Returns the file as text, or undefined when it contains a NUL byte or is not valid UTF-8.
function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.indexOf(0) >= 0) return undefined
  try {
    return utf8.decode(bytes)
  } catch {
    return undefined
  }
}

function hasNulPrefix(path: string): boolean {
  const fd = openSync(path, "r")
  try {
    const head = Buffer.alloc(8192)
    const read = readSync(fd, head, 0, head.length, 0)
    return head.subarray(0, read).indexOf(0) >= 0
  } finally {
    closeSync(fd)
  }
}

// Walks a directory in sorted order without following symbolic links.
function* walk(dir: string, skip: (path: string) => boolean): Generator<string> {
  const entries = readdirSync(dir).sort()
  for (const entry of entries) {
    const path = join(dir, entry)
    if (skip(path)) continue
    const stat = lstatSync(path)
    if (stat.isDirectory()) yield* walk(path, skip)
    else if (stat.isFile()) yield path
  }
}

// Every text file under `dir` (sources, type declarations, JSON, source maps, docs, licenses):
// a file counts as text when its first 8 KiB has no NUL byte and the whole file is valid UTF-8.
// Entries starting with "." directly inside a node_modules folder (.bin, .package-lock.json and
// the .vite and .vitest-cache caches that test runs rewrite) are npm and tool metadata, so they
// are skipped to keep the corpus a function of the lockfile.
function* textFileDocuments(dir: string, idPrefix: string): Generator<Document> {
  const skip = (path: string) => basename(dirname(path)) === "node_modules" && basename(path).startsWith(".")
  for (const path of walk(dir, skip)) {
    if (hasNulPrefix(path)) continue
    const text = decodeText(readFileSync(path))
    if (text !== undefined && text.trim() !== "") yield { id: `${idPrefix}${relative(dir, path)}`, text }
  }
}

function stringsOf(value: unknown, out: Array<string>): void {
  if (typeof value === "string") out.push(value)
  else if (Array.isArray(value)) for (const item of value) stringsOf(item, out)
  else if (value !== null && typeof value === "object") for (const item of Object.values(value)) stringsOf(item, out)
}

// A record's text is its `text` field when that is a string, else all its string values joined
// by newlines (questions and answers, chosen and rejected transcripts, chat turns).
function recordText(record: unknown): string {
  if (record !== null && typeof record === "object" && typeof (record as { text?: unknown }).text === "string") {
    return (record as { text: string }).text
  }
  const strings: Array<string> = []
  stringsOf(record, strings)
  return strings.join("\n")
}

function* jsonlDocuments(id: string, text: string): Generator<Document> {
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.trim() === "") continue
    let record: unknown
    try {
      record = JSON.parse(line)
    } catch {
      continue
    }
    yield { id: `${id}#L${i + 1}`, text: recordText(record) }
  }
}

// Skipped folders of the data snapshot: Parquet and Arrow files are binary (and one Parquet test
// file expands to more than 2 GB), jsonhard/ is deliberately malformed JSON, and megatron/ is
// decoded back to text by megatronDocuments.
const skippedDataFolders = ["parquet", "arrow", "megatron", "jsonhard"]

// GPT-2's byte-level BPE maps every byte to a printable character; this inverts that table.
function gpt2ByteDecoder(): Map<string, number> {
  const bytes: Array<number> = []
  for (let b = 33; b <= 126; b++) bytes.push(b)
  for (let b = 161; b <= 172; b++) bytes.push(b)
  for (let b = 174; b <= 255; b++) bytes.push(b)
  const chars = [...bytes]
  let extra = 0
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b)
      chars.push(256 + extra)
      extra++
    }
  }
  return new Map(bytes.map((b, i) => [String.fromCharCode(chars[i]!), b]))
}

// Decodes Megatron MMIDIDX uint16 datasets (`<name>.idx` + `<name>.bin`) that sit next to a
// GPT-2 style `*vocab.json`, one document per sequence. A dataset with a token id missing from
// the vocabulary is skipped whole, because its tokenizer is not the one next to it.
function* megatronDocuments(dir: string, dataRoot: string): Generator<Document> {
  if (!existsSync(dir)) return
  const files = [...walk(dir, () => false)]
  const byteDecoder = gpt2ByteDecoder()
  for (const idxPath of files.filter((path) => path.endsWith(".idx"))) {
    const binPath = idxPath.slice(0, -4) + ".bin"
    const vocabPath = files.find((path) => dirname(path) === dirname(idxPath) && path.endsWith("vocab.json"))
    if (!files.includes(binPath) || vocabPath === undefined) continue
    const idx = readFileSync(idxPath)
    const dtypeUint16 = 8
    if (idx.subarray(0, 9).toString("latin1") !== "MMIDIDX\0\0" || idx[17] !== dtypeUint16) continue
    const count = Number(idx.readBigUInt64LE(18))
    const headerBytes = 34
    const sizes = new Int32Array(idx.buffer.slice(idx.byteOffset + headerBytes, idx.byteOffset + headerBytes + 4 * count))
    const bin = readFileSync(binPath)
    const tokens = new Uint16Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength - (bin.byteLength % 2)))
    const idToToken: Array<string> = []
    for (const [token, id] of Object.entries(JSON.parse(readFileSync(vocabPath, "utf8")) as Record<string, number>)) idToToken[id] = token
    const decoded: Array<Document> = []
    let offset = 0
    let valid = true
    for (let sequence = 0; sequence < count && valid; sequence++) {
      const bytes: Array<number> = []
      for (const id of tokens.subarray(offset, offset + sizes[sequence]!)) {
        const token = idToToken[id]
        if (token === undefined) {
          valid = false
          break
        }
        for (const char of token) bytes.push(byteDecoder.get(char) ?? 0x3f)
      }
      offset += sizes[sequence]!
      decoded.push({ id: `data/${relative(dataRoot, binPath)}#${sequence}`, text: new TextDecoder().decode(new Uint8Array(bytes)) })
    }
    if (valid) yield* decoded
  }
}

function* dataDocuments(dataRoot: string): Generator<Document> {
  const skip = (path: string) => skippedDataFolders.some((folder) => path === join(dataRoot, folder))
  for (const path of walk(dataRoot, skip)) {
    const id = `data/${relative(dataRoot, path)}`
    let bytes: Uint8Array = readFileSync(path)
    let name = path
    try {
      if (name.endsWith(".gz")) {
        bytes = gunzipSync(bytes)
        name = name.slice(0, -3)
      } else if (name.endsWith(".zst")) {
        bytes = zstdDecompress(bytes)
        name = name.slice(0, -4)
      }
    } catch {
      continue // a Git LFS pointer stored under a .gz name, for example
    }
    const text = decodeText(bytes)
    if (text === undefined) continue
    if (name.endsWith(".jsonl") || (name.endsWith(".json") && path.endsWith(".gz"))) {
      yield* jsonlDocuments(id, text)
    } else if (name.endsWith(".json")) {
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        yield* jsonlDocuments(id, text)
        continue
      }
      const items = Array.isArray(parsed) ? parsed : [parsed]
      for (let i = 0; i < items.length; i++) yield { id: `${id}#${i}`, text: recordText(items[i]) }
    } else {
      yield { id, text }
    }
  }
  yield* megatronDocuments(join(dataRoot, "megatron"), dataRoot)
}

// Interleaves two document streams by bytes so that a small corpus still mixes both kinds of text.
function* interleave(first: Iterator<Document>, second: Iterator<Document>): Generator<Document> {
  let firstBytes = 0
  let secondBytes = 0
  let firstDone = false
  let secondDone = false
  while (!firstDone || !secondDone) {
    const takeFirst = !firstDone && (secondDone || firstBytes <= secondBytes)
    const next = takeFirst ? first.next() : second.next()
    if (next.done) {
      if (takeFirst) firstDone = true
      else secondDone = true
      continue
    }
    const bytes = Buffer.byteLength(next.value.text)
    if (takeFirst) firstBytes += bytes
    else secondBytes += bytes
    yield next.value
  }
}

interface Manifest {
  readonly command: string
  readonly inputs: Record<string, string> // sha256 of package-lock.json and of the data snapshot's catalog.tsv
  readonly sizeMb: number
  readonly documents: number
  readonly textBytes: number
  readonly duplicatesSkipped: number
  readonly emptySkipped: number
  readonly sources: Record<string, { documents: number; textBytes: number }>
  readonly files: Record<string, { bytes: number; sha256: string }>
  readonly parquet: { codec: string; rowGroups: number }
  readonly seconds: number
}

const rowGroupTextBytes = 16_000_000

// Hashes a file in 4 MiB reads so that a 200 MB output is never held in memory at once.
function hashFile(path: string): { bytes: number; sha256: string } {
  const hash = createHash("sha256")
  const buffer = Buffer.alloc(4 * 1024 * 1024)
  const fd = openSync(path, "r")
  let bytes = 0
  try {
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer)) {
      hash.update(buffer.subarray(0, read))
      bytes += read
    }
  } finally {
    closeSync(fd)
  }
  return { bytes, sha256: hash.digest("hex") }
}

function inputHashes(options: Options): Record<string, string> {
  const inputs: Record<string, string> = {}
  const candidates = [join(projectRoot, "package-lock.json"), join(options.dataRoot, "catalog.tsv")]
  for (const path of candidates) {
    if (existsSync(path)) inputs[path] = createHash("sha256").update(readFileSync(path)).digest("hex")
  }
  return inputs
}

// MANIFEST.json keeps one entry per corpus name, so several sizes can share an output folder.
function writeManifest(path: string, name: string, manifest: Manifest): void {
  let corpora: Record<string, Manifest> = {}
  if (existsSync(path)) {
    try {
      corpora = (JSON.parse(readFileSync(path, "utf8")) as { corpora?: Record<string, Manifest> }).corpora ?? {}
    } catch {
      corpora = {} // an unreadable manifest from an interrupted run is replaced
    }
  }
  corpora[name] = manifest
  writeFileSync(path, JSON.stringify({ corpora }, null, 2) + "\n")
}

async function build(options: Options): Promise<Manifest> {
  const started = performance.now()
  const target = options.sizeMb * 1_000_000
  mkdirSync(options.out, { recursive: true })
  const parquetPath = join(options.out, `${options.name}.parquet`)
  const jsonlPath = join(options.out, `${options.name}.jsonl`)

  const writer = new ParquetWriter({
    writer: fileWriter(parquetPath),
    schema: [
      { name: "root", num_children: 2 },
      { name: "text", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
      { name: "id", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" },
    ],
    codec: "ZSTD",
    compressors: { ZSTD: (input: Uint8Array) => new Uint8Array(zstdCompressSync(input)) },
    statistics: false,
    createdBy: "mixwright bench/corpus.ts",
  })
  const jsonl = openSync(jsonlPath, "w")

  let texts: Array<string> = []
  let ids: Array<string> = []
  let groupBytes = 0
  let rowGroups = 0
  const flushGroup = async () => {
    if (texts.length === 0) return
    const lines = texts.map((text, i) => JSON.stringify({ text, id: ids[i] })).join("\n") + "\n"
    writeSync(jsonl, lines)
    await writer.write({
      columnData: [
        { name: "text", data: texts, encoding: "PLAIN" },
        { name: "id", data: ids },
      ],
      rowGroupSize: texts.length,
    })
    rowGroups++
    texts = []
    ids = []
    groupBytes = 0
  }

  const seen = new Set<string>()
  const sources: Record<string, { documents: number; textBytes: number }> = {
    node_modules: { documents: 0, textBytes: 0 },
    data: { documents: 0, textBytes: 0 },
    extra: { documents: 0, textBytes: 0 },
  }
  let textBytes = 0
  let documents = 0
  let duplicatesSkipped = 0
  let emptySkipped = 0
  const code = (function* () {
    yield* textFileDocuments(join(projectRoot, "node_modules"), "node_modules/")
    for (const dir of options.extraDirs) yield* textFileDocuments(dir, `extra/${basename(dir)}/`)
  })()
  const data = existsSync(options.dataRoot) ? dataDocuments(options.dataRoot) : [][Symbol.iterator]()
  const stream = interleave(code, data)
  for (const document of stream) {
    if (document.text.trim() === "") {
      emptySkipped++
      continue
    }
    const hash = createHash("sha256").update(document.text).digest("base64")
    if (seen.has(hash)) {
      duplicatesSkipped++
      continue
    }
    seen.add(hash)
    const bytes = Buffer.byteLength(document.text)
    const source = document.id.startsWith("data/") ? sources.data! : document.id.startsWith("node_modules/") ? sources.node_modules! : sources.extra!
    source.documents++
    source.textBytes += bytes
    texts.push(document.text)
    ids.push(document.id)
    groupBytes += bytes
    textBytes += bytes
    documents++
    if (groupBytes >= rowGroupTextBytes) await flushGroup()
    if (textBytes >= target) break
  }
  await flushGroup()
  await writer.finish()
  closeSync(jsonl)

  if (textBytes < target) {
    rmSync(parquetPath, { force: true })
    rmSync(jsonlPath, { force: true })
    throw new Error(
      `only ${textBytes} bytes of distinct text found in ${join(projectRoot, "node_modules")}, ${options.dataRoot}` +
      `${options.extraDirs.map((dir) => `, ${dir}`).join("")}: less than --size-mb ${options.sizeMb}. ` +
      "Lower --size-mb, or add text folders with --extra DIR (the corpus never repeats a document)",
    )
  }

  const files: Record<string, { bytes: number; sha256: string }> = {}
  for (const path of [parquetPath, jsonlPath]) {
    files[relative(options.out, path)] = hashFile(path)
  }
  const manifest: Manifest = {
    command: `npx node bench/corpus.ts ${process.argv.slice(2).join(" ")}`.trim(),
    inputs: inputHashes(options),
    sizeMb: options.sizeMb,
    documents,
    textBytes,
    duplicatesSkipped,
    emptySkipped,
    sources,
    files,
    parquet: { codec: "ZSTD", rowGroups },
    seconds: Math.round((performance.now() - started) / 100) / 10,
  }
  writeManifest(join(options.out, "MANIFEST.json"), options.name, manifest)
  return manifest
}

try {
  const manifest = await build(parseOptions(process.argv.slice(2)))
  console.log(JSON.stringify(manifest, null, 2))
} catch (error) {
  console.error(`bench/corpus.ts: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
}
