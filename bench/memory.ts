// Measures the peak RSS of the read -> quality filters -> exact dedup -> Parquet
// pipeline of `bench/pipeline.ts` at 1x (20 MB) and 10x (200 MB) input, each run in a
// fresh child process, and the growth from 1x to 10x.
//
//   npx node bench/memory.ts [--rounds 3] [--modes plan,bare]
//       [--small bench/corpus/20mb/corpus-1x.parquet] [--large bench/corpus/corpus-1x.parquet]
//
// Each child runs `bench/pipeline.ts --mode <plan|bare> --rounds 1 --json --no-duckdb`
// under `/usr/bin/time -v` when it exists. The child reports its own
// `process.resourceUsage().maxRSS`, and `time` reports the maximum resident set size
// of the process it started. The goal is less than 20% growth from 1x to 10x.
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { resolve } from "node:path"

const option = (name: string, fallback: string): string => {
  const index = process.argv.indexOf(name)
  return index === -1 ? fallback : process.argv[index + 1]
}

const rounds = Number(option("--rounds", "3"))
const modes = option("--modes", "plan,bare").split(",")
const inputs = {
  "1x": resolve(option("--small", "bench/corpus/20mb/corpus-1x.parquet")),
  "10x": resolve(option("--large", "bench/corpus/corpus-1x.parquet"))
} as const

for (const file of Object.values(inputs)) {
  if (!existsSync(file)) {
    process.stderr.write(`input not found: ${file}; build it with bench/corpus.ts (see bench/README.md)\n`)
    process.exit(1)
  }
}

const TIME = "/usr/bin/time"
const hasTime = existsSync(TIME)

interface Peak {
  /** `process.resourceUsage().maxRSS` of the child, in bytes. */
  readonly selfBytes: number
  /** `/usr/bin/time -v` maximum resident set size, in bytes; NaN without `time`. */
  readonly timeBytes: number
  readonly wallSeconds: number
  readonly rowsIn: number
  readonly rowsOut: number
}

const runChild = (mode: string, file: string): Peak => {
  const pipeline = [process.execPath, "bench/pipeline.ts", "--mode", mode, "--rounds", "1", "--json", "--no-duckdb", "--input", file]
  const [command, ...args] = hasTime ? [TIME, "-v", ...pipeline] : pipeline
  const child = spawnSync(command, args, { encoding: "utf8", maxBuffer: 1 << 26 })
  if (child.status !== 0) throw new Error(`${pipeline.join(" ")} exited with ${child.status ?? child.signal}: ${child.stderr.slice(-2000)}`)
  const result = JSON.parse(child.stdout.trim().split("\n").at(-1)!) as {
    maxRssBytes: number
    results: Array<{ medianWallSeconds: number; samples: Array<{ rowsIn: number; rowsOut: number }> }>
  }
  const timeMatch = /Maximum resident set size \(kbytes\): (\d+)/.exec(child.stderr)
  return {
    selfBytes: result.maxRssBytes,
    timeBytes: timeMatch === null ? Number.NaN : Number(timeMatch[1]) * 1024,
    wallSeconds: result.results[0].medianWallSeconds,
    rowsIn: result.results[0].samples[0].rowsIn,
    rowsOut: result.results[0].samples[0].rowsOut
  }
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(0)

const lines = [
  `Machine: ${cpus()[0].model}, ${cpus().length} cores, Node ${process.version}. Rounds: ${rounds} (medians). ` +
    `Load average at the start: ${loadavg().map((value) => value.toFixed(2)).join(", ")}.`,
  "",
  "| pipeline | input | rows in -> out | peak RSS MB, `time -v` (each round) | peak RSS MB, maxRSS (each round) | median MB (`time -v`) | wall s (median) |",
  "|---|---|---:|---|---|---:|---:|"
]
const growth: Array<string> = []
for (const mode of modes) {
  const medians: Record<string, number> = {}
  for (const [label, file] of Object.entries(inputs)) {
    const peaks: Array<Peak> = []
    for (let round = 0; round < rounds; round++) peaks.push(runChild(mode, file))
    const peakOf = (peak: Peak): number => Number.isNaN(peak.timeBytes) ? peak.selfBytes : peak.timeBytes
    medians[label] = median(peaks.map(peakOf))
    lines.push(
      `| ${mode} | ${label} (${file.replace(`${process.cwd()}/`, "")}) | ${peaks[0].rowsIn} -> ${peaks[0].rowsOut} | ${peaks.map((peak) => mb(peak.timeBytes)).join(", ")} | ${peaks.map((peak) => mb(peak.selfBytes)).join(", ")} | ${mb(medians[label])} | ${median(peaks.map((peak) => peak.wallSeconds)).toFixed(1)} |`
    )
  }
  growth.push(`| ${mode} | ${mb(medians["1x"])} | ${mb(medians["10x"])} | ${(((medians["10x"] / medians["1x"]) - 1) * 100).toFixed(0)}% |`)
}
lines.push("", "| pipeline | 1x peak MB | 10x peak MB | growth (goal < 20%) |", "|---|---:|---:|---:|", ...growth)
lines.push("", `Load average at the end: ${loadavg().map((value) => value.toFixed(2)).join(", ")}.`)
process.stdout.write(lines.join("\n") + "\n")
