// Measures single-core throughput of the dedup operators on real text: MinHash
// signatures (word 5-grams, 14 bands x 8 rows), the full MinHash-LSH deduper, and
// exact dedup, in MB of UTF-8 input per second.
//
//   npx node bench/minhash.ts [--mb 50]
//
// Prints a Markdown section for bench/RESULTS-ops.md. The goal for signatures is at
// least 10 MB/s per core.
import { cpus, loadavg } from "node:os"
import { ExactDeduper, MinHashDeduper, MinHasher, normalizeIntoBuffer, type MinHashOptions } from "../runtime/ops/dedup/index.ts"
import { loadCorpus } from "./opsCorpus.ts"

const argument = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(name)
  return index === -1 ? fallback : Number(process.argv[index + 1])
}

const minMb = argument("--mb", 50)
const corpus = loadCorpus(minMb * 1e6)
const documents = corpus.documents
const megabytes = documents.reduce((sum, doc) => sum + Buffer.byteLength(doc), 0) / 1e6

/**
 * Runs `body` over the corpus `rounds` times and returns the best MB/s by wall time
 * and by process CPU time. Other processes on a busy machine slow the wall-clock rate;
 * the CPU-time rate is what one core delivers while it runs this code.
 */
const measure = (body: () => void, rounds = 3): Rate => {
  let wall = 0
  let cpu = 0
  for (let round = 0; round < rounds; round++) {
    const start = performance.now()
    const startCpu = process.cpuUsage()
    body()
    const used = process.cpuUsage(startCpu)
    wall = Math.max(wall, megabytes / ((performance.now() - start) / 1000))
    cpu = Math.max(cpu, megabytes / ((used.user + used.system) / 1e6))
  }
  return { wall, cpu }
}

interface Rate {
  readonly wall: number
  readonly cpu: number
}

const wordOptions: MinHashOptions = { shingle: "word", ngram: 5, bands: 14, rows: 8, threshold: 0.7, seed: 1 }
const charOptions: MinHashOptions = { ...wordOptions, shingle: "char", ngram: 5 }

const results: Array<[string, Rate]> = []

results.push(["normalise only (NFKC path for non-ASCII)", measure(() => {
  for (const doc of documents) normalizeIntoBuffer(doc)
})])

for (const [label, options] of [["MinHash signature, word 5-grams, 112 permutations", wordOptions], ["MinHash signature, char 5-grams, 112 permutations", charOptions]] as const) {
  const hasher = new MinHasher(options)
  const out = new Uint32Array(hasher.permutations)
  results.push([label, measure(() => {
    for (const doc of documents) hasher.signature(doc, out)
  })])
}

let minhashDuplicates = 0
results.push(["MinHash-LSH dedup (signature + bands + verify)", measure(() => {
  const deduper = new MinHashDeduper(wordOptions)
  minhashDuplicates = 0
  for (const doc of documents) if (deduper.add(doc) !== undefined) minhashDuplicates++
})])

let exactDuplicates = 0
results.push(["exact dedup (normalise + MurmurHash3 x86_128 + set)", measure(() => {
  const deduper = new ExactDeduper()
  exactDuplicates = 0
  for (const doc of documents) if (!deduper.add(doc)) exactDuplicates++
})])

const lines = [
  "## MinHash and exact dedup",
  "",
  `Command: \`npx node bench/minhash.ts --mb ${minMb}\``,
  "",
  `Machine: ${cpus()[0].model}, ${cpus().length} cores, Node ${process.version}; one thread.`,
  "",
  `Corpus: ${megabytes.toFixed(1)} MB UTF-8 in ${documents.length} documents from ${corpus.files} distinct files ` +
    `(${corpus.sharedFiles} from the shared data folder, the rest from node_modules).`,
  `Duplicates found: ${minhashDuplicates} near-duplicates (MinHash), ${exactDuplicates} exact.`,
  "",
  `Load average at the end: ${loadavg().map((load) => load.toFixed(1)).join(", ")} (other processes share the cores).`,
  "",
  "| operation | MB/s wall | MB per CPU-second | CPU rate vs 10 MB/s goal |",
  "|---|---:|---:|---:|",
  ...results.map(([label, rate]) =>
    `| ${label} | ${rate.wall.toFixed(1)} | ${rate.cpu.toFixed(1)} | ${(rate.cpu / 10).toFixed(2)}x |`
  )
]
process.stdout.write(lines.join("\n") + "\n")
