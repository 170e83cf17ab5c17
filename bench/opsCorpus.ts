/**
 * Loads the real-text corpus that the operator benchmarks (`minhash.ts`,
 * `tokenize.ts`) run on.
 *
 * The corpus is every distinct text file under the shared data folder: web text,
 * wiki, books, law, academic, social, multilingual, code, SFT and math samples. When
 * that is less than the requested size, distinct Markdown, text and JavaScript files
 * from `node_modules` are added until it is reached. No file is read twice and no sample is
 * repeated. Files are split into documents of 2 to 8 KB (`splitDocuments`), so
 * per-document overhead is part of the measurement.
 */
import { createHash } from "node:crypto"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { SHARED_DATA } from "../test/support/data.ts"

const TEXT_EXTENSIONS = /\.(txt|jsonl|json|md|conllu|py|go|java|rs|ts|js|c|h|csv|tsv|deu|spa|fra|nld|por|ita|eng|tex|rst)$/i
const MODULE_EXTENSIONS = /\.(md|txt|js)$/i
const MIN_DOCUMENT_CHARS = 2048
const MAX_DOCUMENT_CHARS = 8192

const walk = (root: string, pattern: RegExp, out: Array<string>): void => {
  let entries
  try {
    entries = readdirSync(root, { withFileTypes: true })
  } catch {
    return
  }
  entries.sort((a, b) => a.name.localeCompare(b.name))
  for (const entry of entries) {
    const path = join(root, entry.name)
    if (entry.isDirectory()) walk(path, pattern, out)
    else if (entry.isFile() && pattern.test(entry.name) && !entry.name.endsWith(".min.js")) out.push(path)
  }
}

/**
 * Splits a file into documents of whole lines: a document ends at the first blank
 * line after 2 KB, or at the first line end after 8 KB. One line longer than that
 * (minified JSON, a long JSONL record) stays one document.
 */
const splitDocuments = (text: string): Array<string> => {
  const documents: Array<string> = []
  let current: Array<string> = []
  let length = 0
  for (const line of text.split("\n")) {
    current.push(line)
    length += line.length + 1
    if ((length >= MIN_DOCUMENT_CHARS && line.trim() === "") || length >= MAX_DOCUMENT_CHARS) {
      documents.push(current.join("\n"))
      current = []
      length = 0
    }
  }
  const rest = current.join("\n")
  if (rest.trim().length > 0) documents.push(rest)
  return documents
}

export interface Corpus {
  readonly documents: Array<string>
  readonly bytes: number
  readonly files: number
  readonly sharedFiles: number
}

/** Reads distinct files until `minBytes` of UTF-8 text is collected. */
export const loadCorpus = (minBytes: number, sharedData = SHARED_DATA, modules = "node_modules"): Corpus => {
  const shared: Array<string> = []
  walk(sharedData, TEXT_EXTENSIONS, shared)
  const extra: Array<string> = []
  walk(modules, MODULE_EXTENSIONS, extra)

  const seen = new Set<string>()
  const documents: Array<string> = []
  let bytes = 0
  let files = 0
  let sharedFiles = 0
  for (const [index, path] of [...shared, ...extra].entries()) {
    if (index >= shared.length && bytes >= minBytes) break
    if (statSync(path).size > 20_000_000) continue
    const buffer = readFileSync(path)
    // Skip binary files and exact copies of files already read.
    if (buffer.includes(0)) continue
    const digest = createHash("sha1").update(buffer).digest("hex")
    if (seen.has(digest)) continue
    seen.add(digest)
    const text = buffer.toString("utf8")
    documents.push(...splitDocuments(text))
    bytes += buffer.length
    files++
    if (index < shared.length) sharedFiles++
  }
  return { documents, bytes, files, sharedFiles }
}
