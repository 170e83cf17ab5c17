// Measures what caching saves when a recipe runs again through the CLI.
//
//   npx node bench/rerun.ts [--rounds 3] [--only stablelm,swap,slurm] [--slurm-timeout 600]
//                           [--swap-concurrency N]
//
// (a) stablelm: `recipes/stablelm-2-1_6b.ts --profile sample` on a fresh store, then the
//     identical run on the same store (every node cached). Reports both runs' process
//     wall time and the summary's own `seconds`, and the second/first ratio.
// (b) swap: `recipes/meta-cot-countdown.ts` in full on a fresh store, then
//     `--set generators.traces.search=bfs` on the same store. The re-run is compared
//     with a full bfs run on another fresh store, and with the share of that full run
//     spent on the nodes the re-run recomputed (sum of their `seconds` / total).
//     A node's `seconds` spans its start to its end and nodes overlap, so that share
//     can pass 100%, even with `--swap-concurrency 1` (one shard at a time). The share
//     is also given by each manifest's `timings.shardSeconds`, which do not overlap.
// (c) slurm: the StableLM sample with `--executor slurm` against the local executor,
//     each on a fresh store; skipped unless `sinfo` lists a node.
//
// Every measurement repeats `--rounds` times; the medians are printed as Markdown.
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { cpus, loadavg, tmpdir } from "node:os"
import { join } from "node:path"

const option = (name: string, fallback: string): string => {
  const index = process.argv.indexOf(name)
  return index === -1 ? fallback : process.argv[index + 1]
}

const rounds = Number(option("--rounds", "3"))
const only = new Set(option("--only", "stablelm,swap,slurm").split(","))
const slurmTimeoutSeconds = Number(option("--slurm-timeout", "600"))
const swapConcurrency = option("--swap-concurrency", "")

const STABLELM = ["recipes/stablelm-2-1_6b.ts", "--profile", "sample"]
const COUNTDOWN = ["recipes/meta-cot-countdown.ts", ...(swapConcurrency === "" ? [] : ["--concurrency", swapConcurrency])]
const BFS = ["--set", "generators.traces.search=bfs"]

interface NodeRecord {
  readonly id: string
  readonly name: string
  readonly status: string
  readonly seconds: number
}

interface CliRun {
  readonly wallSeconds: number
  /** The run summary's `seconds`. */
  readonly seconds: number
  readonly nodes: ReadonlyArray<NodeRecord>
}

/** Runs `mixwright run ... --json` in a child process with this Node and returns its wall time and summary. */
const runCli = (args: ReadonlyArray<string>, store: string, timeoutSeconds = 1800): CliRun => {
  const start = performance.now()
  const child = spawnSync(process.execPath, ["cli/entry.ts", "run", ...args, "--store", store, "--json"], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
    timeout: timeoutSeconds * 1000
  })
  const wallSeconds = (performance.now() - start) / 1000
  if (child.status !== 0) {
    throw new Error(`mixwright run ${args.join(" ")} exited with ${child.status ?? child.signal}: ${child.stderr.slice(-2000)}`)
  }
  const summary = JSON.parse(child.stdout.slice(child.stdout.indexOf("{"))) as { seconds: number; nodes: Array<NodeRecord> }
  return { wallSeconds, seconds: summary.seconds, nodes: summary.nodes }
}

/**
 * Sums `timings.shardSeconds` (the shards' own seconds) from each node's committed
 * manifest in `store`, by node id. Unlike the summary's per-node wall `seconds`,
 * these do not overlap when nodes run at the same time.
 */
const shardSeconds = (store: string, nodes: ReadonlyArray<NodeRecord>): Map<string, number> => {
  const out = new Map<string, number>()
  for (const node of nodes) {
    const manifest = join(store, "artifacts", node.id, "_manifest.json")
    if (!existsSync(manifest)) continue
    const parsed = JSON.parse(readFileSync(manifest, "utf8")) as { timings: { shardSeconds: number } }
    out.set(node.id, parsed.timings.shardSeconds)
  }
  return out
}

const freshStore = (label: string): string => mkdtempSync(join(tmpdir(), `mixwright-bench-rerun-${label}-`))

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

const seconds = (values: ReadonlyArray<number>): string => values.map((value) => value.toFixed(2)).join(", ")
const percent = (value: number): string => `${(value * 100).toFixed(1)}%`

const lines: Array<string> = [
  `Machine: ${cpus()[0].model}, ${cpus().length} cores, Node ${process.version}. Rounds: ${rounds} (medians).`,
  `Load average at the start: ${loadavg().map((value) => value.toFixed(2)).join(", ")}.`
]

if (only.has("stablelm")) {
  const first: Array<CliRun> = []
  const second: Array<CliRun> = []
  for (let round = 0; round < rounds; round++) {
    const store = freshStore("stablelm")
    try {
      first.push(runCli(STABLELM, store))
      second.push(runCli(STABLELM, store))
    } finally {
      rmSync(store, { recursive: true, force: true })
    }
  }
  const notCached = second.flatMap((run) => run.nodes.filter((node) => node.status !== "cached" && node.status !== "external"))
  const firstWall = median(first.map((run) => run.wallSeconds))
  const secondWall = median(second.map((run) => run.wallSeconds))
  const firstSummary = median(first.map((run) => run.seconds))
  const secondSummary = median(second.map((run) => run.seconds))
  lines.push(
    "",
    "### (a) StableLM sample: first run and identical re-run",
    "",
    "| measure | first run (each round) | re-run (each round) | median first | median re-run | re-run / first |",
    "|---|---|---|---:|---:|---:|",
    `| process wall s | ${seconds(first.map((run) => run.wallSeconds))} | ${seconds(second.map((run) => run.wallSeconds))} | ${firstWall.toFixed(2)} | ${secondWall.toFixed(2)} | ${percent(secondWall / firstWall)} |`,
    `| summary \`seconds\` | ${seconds(first.map((run) => run.seconds))} | ${seconds(second.map((run) => run.seconds))} | ${firstSummary.toFixed(2)} | ${secondSummary.toFixed(2)} | ${percent(secondSummary / firstSummary)} |`,
    "",
    `Nodes in the plan: ${first[0].nodes.length}; nodes the re-runs did not take from the cache: ${notCached.length === 0 ? "none" : notCached.map((node) => `${node.name} (${node.status})`).join(", ")}.`
  )
}

if (only.has("swap")) {
  const dfsFull: Array<CliRun> = []
  const swapRerun: Array<CliRun> = []
  const bfsFull: Array<CliRun> = []
  const changedShares: Array<number> = []
  const changedShardShares: Array<number> = []
  let changedNames: Array<string> = []
  for (let round = 0; round < rounds; round++) {
    const store = freshStore("swap")
    const bfsStore = freshStore("bfs")
    try {
      dfsFull.push(runCli(COUNTDOWN, store))
      const rerun = runCli([...COUNTDOWN, ...BFS], store)
      swapRerun.push(rerun)
      const full = runCli([...COUNTDOWN, ...BFS], bfsStore)
      bfsFull.push(full)
      const changed = new Set(rerun.nodes.filter((node) => node.status === "computed").map((node) => node.id))
      changedNames = rerun.nodes.filter((node) => changed.has(node.id)).map((node) => node.name)
      const changedSeconds = full.nodes.filter((node) => changed.has(node.id)).reduce((sum, node) => sum + node.seconds, 0)
      changedShares.push(changedSeconds / full.seconds)
      const perNode = shardSeconds(bfsStore, full.nodes)
      const allShardSeconds = [...perNode.values()].reduce((sum, value) => sum + value, 0)
      const changedShardSeconds = [...perNode].filter(([id]) => changed.has(id)).reduce((sum, [, value]) => sum + value, 0)
      changedShardShares.push(changedShardSeconds / allShardSeconds)
    } finally {
      rmSync(store, { recursive: true, force: true })
      rmSync(bfsStore, { recursive: true, force: true })
    }
  }
  const rerunWall = median(swapRerun.map((run) => run.wallSeconds))
  const fullWall = median(bfsFull.map((run) => run.wallSeconds))
  const rerunSummary = median(swapRerun.map((run) => run.seconds))
  const fullSummary = median(bfsFull.map((run) => run.seconds))
  const share = median(changedShares)
  lines.push(
    "",
    "### (b) Generator swap (dfs -> bfs) on a warm store",
    "",
    `Shard concurrency: ${swapConcurrency === "" ? "the default (CPU count)" : swapConcurrency}.`,
    "",
    "| measure | full dfs run (each round) | bfs re-run on the dfs store (each round) | full bfs run, fresh store (each round) | median re-run / median full bfs |",
    "|---|---|---|---|---:|",
    `| process wall s | ${seconds(dfsFull.map((run) => run.wallSeconds))} | ${seconds(swapRerun.map((run) => run.wallSeconds))} | ${seconds(bfsFull.map((run) => run.wallSeconds))} | ${percent(rerunWall / fullWall)} |`,
    `| summary \`seconds\` | ${seconds(dfsFull.map((run) => run.seconds))} | ${seconds(swapRerun.map((run) => run.seconds))} | ${seconds(bfsFull.map((run) => run.seconds))} | ${percent(rerunSummary / fullSummary)} |`,
    "",
    `Nodes recomputed by the re-run (${changedNames.length} of ${swapRerun[0].nodes.length}): ${changedNames.join(", ")}.`,
    `Their share of the full bfs run (sum of their \`seconds\` / summary \`seconds\`), each round: ${changedShares.map(percent).join(", ")}; median ${percent(share)}.`,
    `Their share of the full bfs run's shard seconds (\`timings.shardSeconds\` of each manifest, summed), each round: ${changedShardShares.map(percent).join(", ")}; median ${percent(median(changedShardShares))}.`,
    `Re-run / full bfs per round (summary seconds): ${swapRerun.map((run, round) => percent(run.seconds / bfsFull[round].seconds)).join(", ")}; median ${percent(median(swapRerun.map((run, round) => run.seconds / bfsFull[round].seconds)))}.`,
    `Goal: re-run <= changed share + 10 points = ${percent(share + 0.1)} by node seconds, ${percent(median(changedShardShares) + 0.1)} by shard seconds; measured ${percent(rerunSummary / fullSummary)} (summary seconds), ${percent(rerunWall / fullWall)} (process wall).`
  )
}

const slurmNodes = (): string => {
  try {
    return execFileSync("sinfo", ["-h", "-o", "%N %T"], { encoding: "utf8", timeout: 10_000 }).trim()
  } catch {
    return ""
  }
}

if (only.has("slurm")) {
  const nodes = slurmNodes()
  if (nodes === "") {
    lines.push("", "### (c) Slurm executor", "", "Skipped: `sinfo` lists no node.")
  } else {
    const local: Array<CliRun> = []
    const slurm: Array<CliRun> = []
    for (let round = 0; round < rounds; round++) {
      const localStore = freshStore("local")
      const slurmStore = freshStore("slurm")
      try {
        local.push(runCli([...STABLELM, "--executor", "local"], localStore))
        slurm.push(runCli([...STABLELM, "--executor", "slurm"], slurmStore, slurmTimeoutSeconds))
      } finally {
        rmSync(localStore, { recursive: true, force: true })
        rmSync(slurmStore, { recursive: true, force: true })
      }
    }
    const localWall = median(local.map((run) => run.wallSeconds))
    const slurmWall = median(slurm.map((run) => run.wallSeconds))
    lines.push(
      "",
      "### (c) StableLM sample: Slurm executor against the local executor",
      "",
      `\`sinfo\` at the start: ${nodes}.`,
      "",
      "| executor | process wall s (each round) | median wall s | summary `seconds` (each round) |",
      "|---|---|---:|---|",
      `| local | ${seconds(local.map((run) => run.wallSeconds))} | ${localWall.toFixed(2)} | ${seconds(local.map((run) => run.seconds))} |`,
      `| slurm | ${seconds(slurm.map((run) => run.wallSeconds))} | ${slurmWall.toFixed(2)} | ${seconds(slurm.map((run) => run.seconds))} |`,
      "",
      `Slurm / local (median wall): ${(slurmWall / localWall).toFixed(2)}x.`
    )
  }
}

lines.push("", `Load average at the end: ${loadavg().map((value) => value.toFixed(2)).join(", ")}.`)
process.stdout.write(lines.join("\n") + "\n")
