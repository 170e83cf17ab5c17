// Compares the tokenize operator with bare encode loops on real text, in the same
// process and on the same documents.
//
//   npx node bench/tokenize.ts [--mb 50]
//
// Variants: WASM `tiktoken` encode_ordinary (bare loop), js-tiktoken encode (bare
// loop), and `makeTokenizeBatch` (EOS appended, Uint32Array rows) for cl100k_base and
// arcade100k. The goal is operator throughput at least 0.9x the fastest bare loop.
// Prints a Markdown section for bench/RESULTS-ops.md.
import { createRequire } from "node:module"
import { cpus, loadavg } from "node:os"
import { Tiktoken as JsTiktoken } from "js-tiktoken/lite"
import cl100kRanks from "js-tiktoken/ranks/cl100k_base"
import { ARCADE100K_PATTERN, ARCADE100K_SPECIAL_TOKENS, makeTokenizeBatch } from "../connectors/tokenizers/index.ts"
import type { Row } from "../runtime/batch.ts"
import { loadCorpus } from "./opsCorpus.ts"

const argument = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(name)
  return index === -1 ? fallback : Number(process.argv[index + 1])
}

const minMb = argument("--mb", 50)
const corpus = loadCorpus(minMb * 1e6)
// Documents with a run of 1,000+ letters, punctuation marks or spaces are left out.
// Bare tiktoken spends quadratic time on them (16 s for one run of 100,000 "["), and
// the operator encodes them in segments, so they would inflate the ratio.
const LONG_RUN = /\p{L}{1000,}|[^\s\p{L}\p{N}]{1000,}|\s{1000,}/u
const documents = corpus.documents.filter((doc) => !LONG_RUN.test(doc))
const excluded = corpus.documents.length - documents.length
const megabytes = documents.reduce((sum, doc) => sum + Buffer.byteLength(doc), 0) / 1e6
const BATCH_ROWS = 1024
const batches: Array<Array<Row>> = []
for (let start = 0; start < documents.length; start += BATCH_ROWS) {
  batches.push(documents.slice(start, start + BATCH_ROWS).map((text) => ({ text, source: "bench" })))
}

interface Rate {
  readonly wall: number
  readonly cpu: number
  readonly tokens: number
}

/** Runs `body` `rounds` times; returns the best MB/s by wall and CPU time and the token count. */
const measure = (body: () => number, rounds: number): Rate => {
  let wall = 0
  let cpu = 0
  let tokens = 0
  for (let round = 0; round < rounds; round++) {
    const start = performance.now()
    const startCpu = process.cpuUsage()
    tokens = body()
    const used = process.cpuUsage(startCpu)
    wall = Math.max(wall, megabytes / ((performance.now() - start) / 1000))
    cpu = Math.max(cpu, megabytes / ((used.user + used.system) / 1e6))
  }
  return { wall, cpu, tokens }
}

interface WasmTiktoken {
  encode_ordinary(text: string): Uint32Array
}
const require = createRequire(import.meta.url)
const { Tiktoken: WasmTiktokenClass } = require("tiktoken/lite") as {
  Tiktoken: new (ranks: string, special: Record<string, number>, pattern: string) => WasmTiktoken
}
const encoding = require("tiktoken/encoders/cl100k_base.json") as { bpe_ranks: string; pat_str: string; special_tokens: Record<string, number> }

const bareWasm = (tokenizer: WasmTiktoken) => (): number => {
  let tokens = 0
  for (const doc of documents) tokens += tokenizer.encode_ordinary(doc).length
  return tokens
}
const operator = (name: "cl100k_base" | "arcade100k") => {
  const run = makeTokenizeBatch({ tokenizer: name, field: "text", appendEos: true })
  return (): number => {
    let tokens = 0
    for (const batch of batches) for (const row of run(batch)) tokens += (row.tokens as Uint32Array).length
    return tokens
  }
}

const wasmCl100k = new WasmTiktokenClass(encoding.bpe_ranks, encoding.special_tokens, encoding.pat_str)
const wasmArcade = new WasmTiktokenClass(encoding.bpe_ranks, { ...ARCADE100K_SPECIAL_TOKENS }, ARCADE100K_PATTERN)
const jsCl100k = new JsTiktoken(cl100kRanks)

// Interleave variants so that a change in machine load affects all of them alike.
const rows: Array<[string, Rate]> = []
const rounds = 2
const results = new Map<string, Array<Rate>>()
const variants: Array<[string, () => number]> = [
  ["cl100k_base: WASM tiktoken bare encode_ordinary loop", bareWasm(wasmCl100k)],
  ["cl100k_base: makeTokenizeBatch (appendEos, Uint32Array rows)", operator("cl100k_base")],
  ["arcade100k: WASM tiktoken bare encode_ordinary loop", bareWasm(wasmArcade)],
  ["arcade100k: makeTokenizeBatch (appendEos, Uint32Array rows)", operator("arcade100k")]
]
for (let round = 0; round < rounds; round++) {
  for (const [label, body] of variants) {
    const list = results.get(label) ?? []
    list.push(measure(body, 1))
    results.set(label, list)
  }
}
for (const [label, list] of results) {
  rows.push([label, {
    wall: Math.max(...list.map((rate) => rate.wall)),
    cpu: Math.max(...list.map((rate) => rate.cpu)),
    tokens: list[0].tokens
  }])
}
rows.push(["cl100k_base: js-tiktoken bare encode loop", measure(() => {
  let tokens = 0
  // Empty disallowed list: "<|endoftext|>" in a document is ordinary text, as in encode_ordinary.
  for (const doc of documents) tokens += jsCl100k.encode(doc, [], []).length
  return tokens
}, 1)])

const rate = (label: string): Rate => rows.find(([name]) => name === label)![1]
const ratio = (operatorLabel: string, bareLabel: string): string => {
  const ours = rate(operatorLabel)
  const bare = rate(bareLabel)
  return `${(ours.wall / bare.wall).toFixed(3)} (wall), ${(ours.cpu / bare.cpu).toFixed(3)} (CPU)`
}

const lines = [
  "## Tokenization",
  "",
  `Command: \`npx node bench/tokenize.ts --mb ${minMb}\``,
  "",
  `Machine: ${cpus()[0].model}, ${cpus().length} cores, Node ${process.version}; one thread.`,
  "",
  `Corpus: ${megabytes.toFixed(1)} MB UTF-8 in ${documents.length} documents from ${corpus.files} distinct files ` +
    `(${corpus.sharedFiles} from the shared data folder, the rest from node_modules), batches of ${BATCH_ROWS} rows; ` +
    `${excluded} documents with a run of 1,000+ letters, punctuation marks or spaces left out.`,
  `Load average at the end: ${loadavg().map((load) => load.toFixed(1)).join(", ")} (other processes share the cores).`,
  "",
  "| variant | MB/s wall | MB per CPU-second | tokens |",
  "|---|---:|---:|---:|",
  ...rows.map(([label, { wall, cpu, tokens }]) => `| ${label} | ${wall.toFixed(2)} | ${cpu.toFixed(2)} | ${tokens} |`),
  "",
  `Operator / bare WASM loop, cl100k_base: ${ratio(rows[1][0], rows[0][0])}; goal >= 0.9.`,
  `Operator / bare WASM loop, arcade100k: ${ratio(rows[3][0], rows[2][0])}; goal >= 0.9.`,
  `WASM / js-tiktoken, cl100k_base: ${(rate(rows[0][0]).cpu / rate(rows[4][0]).cpu).toFixed(2)}x (CPU).`,
  "Operator token counts include one EOS per document."
]
process.stdout.write(lines.join("\n") + "\n")
