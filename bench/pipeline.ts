// Measures the single-threaded throughput of read -> quality filters -> exact dedup ->
// Parquet write on the benchmark corpus, in MB of input text per second, and compares
// it with DuckDB scanning the same Parquet `text` column on one thread.
//
//   npx node bench/pipeline.ts [--input bench/corpus/corpus-1x.parquet] [--rounds 3]
//                              [--mode all|plan|bare|duckdb] [--json] [--no-duckdb]
//
// Three measurements, each repeated `--rounds` times (the median is reported):
// - plan: a hand-built plan (read -> filter -> dedup) run by `runPlan` with one shard at
//   a time and no worker threads, on a fresh store per round. Every node commits its
//   artifact as ZSTD Parquet, as in a real run, so the text is written three times.
// - bare: the same operators called as plain functions (hyparquet read, `makeFilter`,
//   `ExactDeduper`, one ZSTD Parquet writer at the end), with no store or executor.
// - duckdb: `SELECT sum(length(text)) FROM read_parquet(...)` with `SET threads=1`,
//   which decompresses and decodes every value of the column.
//
// With `--json` the script prints one JSON object (used by `bench/memory.ts`). With
// `--no-duckdb` (plan or bare mode only) DuckDB is never loaded, and the text size is
// not measured, so the rates are NaN.
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs"
import { cpus, loadavg, tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { Effect } from "effect"
import type { IrNode, JsonValue, NodeKind } from "../compiler/ir.ts"
import { nodeId } from "../compiler/hash.ts"
import { asyncBufferFromFile, makeParquetWriter, readParquetBatches } from "../connectors/formats/index.ts"
import { StorageLive } from "../connectors/storage/layer.ts"
import { runPlan } from "../runtime/executor/run.ts"
import type { ExecutablePlan, RunSummary } from "../runtime/executor/types.ts"
import { ExactDeduper } from "../runtime/ops/dedup/index.ts"
import { makeFilter } from "../runtime/ops/filters/index.ts"

const option = (name: string, fallback: string): string => {
  const index = process.argv.indexOf(name)
  return index === -1 ? fallback : process.argv[index + 1]
}

const input = resolve(option("--input", "bench/corpus/corpus-1x.parquet"))
const rounds = Number(option("--rounds", "3"))
const mode = option("--mode", "all")
const json = process.argv.includes("--json")
const noDuckdb = process.argv.includes("--no-duckdb")

if (!existsSync(input)) {
  process.stderr.write(`input not found: ${input}; build it with \`npx node bench/corpus.ts\` (200 MB) or pass --input\n`)
  process.exit(1)
}

/** Gopher quality and repetition, C4 and FineWeb rules, all with their default thresholds. */
export const QUALITY_RULES = [
  { rule: "gopher_quality" },
  { rule: "gopher_repetition" },
  { rule: "c4" },
  { rule: "fineweb" }
] as const

const EXACT_DEDUP = { method: "exact", field: "text", ngram: 5, bands: 14, rows: 8, threshold: 0.8, seed: 0 } as const

/** Builds read -> filter -> dedup over one Parquet file, with content-hashed node ids as the compiler makes them. */
const pipelinePlan = (file: string): ExecutablePlan => {
  const nodes: Array<IrNode> = []
  const add = (kind: NodeKind, name: string, params: { readonly [key: string]: JsonValue }, inputs: ReadonlyArray<string>): string => {
    const id = nodeId({ kind, params, inputs, version: "1" })
    nodes.push({ id, kind, name, params, inputs, version: "1" })
    return id
  }
  const read = add("read", "read:corpus", {
    source: "corpus",
    uris: [file],
    format: "parquet",
    fields: { text: "text", id: "id" },
    onError: "fail",
    maxRecordBytes: 1 << 26
  }, [])
  const filter = add("filter", "filter:quality", { field: "text", rules: QUALITY_RULES.map((rule) => ({ ...rule })) }, [read])
  add("dedup", "dedup:exact", { ...EXACT_DEDUP }, [filter])
  return { nodes }
}

interface Sample {
  readonly wallSeconds: number
  readonly cpuSeconds: number
  readonly rowsIn: number
  readonly rowsOut: number
}

/** Times one call: wall seconds, and user + system CPU seconds of this process. */
const timed = async (body: () => Promise<{ rowsIn: number; rowsOut: number }>): Promise<Sample> => {
  const start = performance.now()
  const startCpu = process.cpuUsage()
  const rows = await body()
  const used = process.cpuUsage(startCpu)
  return { wallSeconds: (performance.now() - start) / 1000, cpuSeconds: (used.user + used.system) / 1e6, ...rows }
}

const runPlanOnce = async (): Promise<{ rowsIn: number; rowsOut: number; summary: RunSummary }> => {
  const root = mkdtempSync(join(tmpdir(), "mixwright-bench-pipeline-"))
  try {
    const summary = await Effect.runPromise(Effect.provide(runPlan(pipelinePlan(input), { root, concurrency: 1, workers: 0 }), StorageLive))
    if (summary.status !== "succeeded") throw new Error(`the plan run failed: ${JSON.stringify(summary.nodes.map((node) => node.error ?? node.status))}`)
    const read = summary.nodes.find((node) => node.kind === "read")!
    const dedup = summary.nodes.find((node) => node.kind === "dedup")!
    return { rowsIn: read.rowsOut, rowsOut: dedup.rowsOut, summary }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

const runBareOnce = async (): Promise<{ rowsIn: number; rowsOut: number }> => {
  const dir = mkdtempSync(join(tmpdir(), "mixwright-bench-bare-"))
  const filter = makeFilter(QUALITY_RULES)
  const deduper = new ExactDeduper()
  const writer = makeParquetWriter({ columns: [{ name: "text", type: "string" }, { name: "id", type: "string", nullable: true }], rowGroupRows: 8192 })
  const out = openSync(join(dir, "part-00000.parquet"), "w")
  let rowsIn = 0
  let rowsOut = 0
  try {
    const buffer = await asyncBufferFromFile(input)
    for await (const batch of readParquetBatches(buffer, { name: input, columns: ["text", "id"] })) {
      rowsIn += batch.length
      const kept = deduper.filterBatch(filter(batch, "text").kept, "text").kept
      rowsOut += kept.length
      writeSync(out, writer.writeRows(kept))
    }
    writeSync(out, writer.finish())
  } finally {
    closeSync(out)
    rmSync(dir, { recursive: true, force: true })
  }
  return { rowsIn, rowsOut }
}

// DuckDB is imported only when used, so `--no-duckdb` runs (the memory benchmark's)
// do not load its native library into the measured process.
const duckdbQuery = async (sql: string): Promise<Array<Array<unknown>>> => {
  const { DuckDBInstance } = await import("@duckdb/node-api")
  const instance = await DuckDBInstance.create(":memory:")
  const connection = await instance.connect()
  try {
    await connection.run("SET threads=1")
    const reader = await connection.runAndReadAll(sql)
    return reader.getRows() as Array<Array<unknown>>
  } finally {
    connection.closeSync()
    instance.closeSync()
  }
}

const quoted = `'${input.replaceAll("'", "''")}'`

/** UTF-8 bytes and rows of the `text` column, the denominator of every rate here. */
const inputSize = async (): Promise<{ textBytes: number; rows: number }> => {
  const [[bytes, rows]] = await duckdbQuery(`SELECT sum(strlen(text)), count(*) FROM read_parquet(${quoted})`)
  return { textBytes: Number(bytes), rows: Number(rows) }
}

const runDuckdbOnce = async (): Promise<{ rowsIn: number; rowsOut: number }> => {
  const [[characters]] = await duckdbQuery(`SELECT sum(length(text)) FROM read_parquet(${quoted})`)
  if (!(Number(characters) > 0)) throw new Error("DuckDB returned no text")
  return { rowsIn: 0, rowsOut: 0 }
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

interface Result {
  readonly name: string
  readonly samples: ReadonlyArray<Sample>
  readonly medianWallSeconds: number
  readonly medianCpuSeconds: number
  /** MB of input text per wall second, from the median wall time. */
  readonly mbPerSecond: number
  /** MB of input text per CPU second of this process, from the median CPU time. */
  readonly mbPerCpuSecond: number
}

if (noDuckdb && (mode === "all" || mode === "duckdb")) {
  process.stderr.write("--no-duckdb needs --mode plan or --mode bare\n")
  process.exit(1)
}
const size = noDuckdb ? { textBytes: Number.NaN, rows: Number.NaN } : await inputSize()
const megabytes = size.textBytes / 1e6
const results: Array<Result> = []
let lastSummary: RunSummary | undefined

const measure = async (name: string, body: () => Promise<{ rowsIn: number; rowsOut: number }>): Promise<void> => {
  const samples: Array<Sample> = []
  for (let round = 0; round < rounds; round++) samples.push(await timed(body))
  const wall = median(samples.map((sample) => sample.wallSeconds))
  const cpu = median(samples.map((sample) => sample.cpuSeconds))
  results.push({ name, samples, medianWallSeconds: wall, medianCpuSeconds: cpu, mbPerSecond: megabytes / wall, mbPerCpuSecond: megabytes / cpu })
}

if (mode === "all" || mode === "duckdb") await measure("duckdb", runDuckdbOnce)
if (mode === "all" || mode === "plan") {
  await measure("plan", async () => {
    const { summary, ...rows } = await runPlanOnce()
    lastSummary = summary
    return rows
  })
}
if (mode === "all" || mode === "bare") await measure("bare", runBareOnce)

const machine = { cpu: cpus()[0].model, cores: cpus().length, node: process.version }
const load = loadavg()
const maxRssBytes = process.resourceUsage().maxRSS * 1024

if (json) {
  process.stdout.write(JSON.stringify({ input, ...size, machine, loadavg: load, maxRssBytes, results, nodes: lastSummary?.nodes }) + "\n")
} else {
  const duckdb = results.find((result) => result.name === "duckdb")
  const ratio = (rate: number, base: number | undefined): string => base === undefined ? "-" : `1/${(base / rate).toFixed(1)}`
  const lines = [
    `Input: ${input}, ${size.rows} rows, ${megabytes.toFixed(1)} MB of text.`,
    `Machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}. Load average at the end: ${load.map((value) => value.toFixed(2)).join(", ")}.`,
    "",
    "| pipeline | rows in -> out | wall s (each round) | median wall s | MB/s wall | MB per CPU-s | vs DuckDB (wall) | vs DuckDB (CPU) |",
    "|---|---:|---|---:|---:|---:|---:|---:|",
    ...results.map((result) =>
      `| ${result.name} | ${result.name === "duckdb" ? "-" : `${result.samples[0].rowsIn} -> ${result.samples[0].rowsOut}`} | ${result.samples.map((sample) => sample.wallSeconds.toFixed(2)).join(", ")} | ${result.medianWallSeconds.toFixed(2)} | ${result.mbPerSecond.toFixed(1)} | ${result.mbPerCpuSecond.toFixed(1)} | ${ratio(result.mbPerSecond, duckdb?.mbPerSecond)} | ${ratio(result.mbPerCpuSecond, duckdb?.mbPerCpuSecond)} |`
    )
  ]
  if (lastSummary !== undefined) {
    lines.push("", "Plan nodes (last round):", "", "| node | rows in | rows out | seconds | drops |", "|---|---:|---:|---:|---|")
    for (const node of lastSummary.nodes) lines.push(`| ${node.name} | ${node.rowsIn} | ${node.rowsOut} | ${node.seconds.toFixed(2)} | ${JSON.stringify(node.drops)} |`)
  }
  process.stdout.write(lines.join("\n") + "\n")
}
