/**
 * Search-trace generation rate per core: BFS, DFS and best-first on sampled 24-game and
 * Countdown problems. Runs on one thread, so the rate is per core.
 *
 * Usage: npx node bench/generators.ts [count]
 */
import { cpus } from "node:os"
import {
  type CountdownProblem,
  decodeSearchTraceConfig,
  generateSearchTraces,
  type SearchTraceConfig,
  sampleCountdownProblem
} from "../connectors/generators/countdown/index.ts"
import { resolveDifficulty } from "../connectors/generators/countdown/generate.ts"

const count = Number(process.argv[2] ?? 1000)

interface Case {
  readonly name: string
  readonly config: SearchTraceConfig
}

const cases: Array<Case> = []
for (const task of ["game24", "countdown"] as const) {
  for (const search of ["bfs", "dfs", "best-first"] as const) {
    cases.push({ name: `${task} ${search}`, config: decodeSearchTraceConfig({ type: "search-trace", task, search, count, seed: 1, maxNodes: 2000 }) })
  }
}

const measure = (config: SearchTraceConfig, problems: ReadonlyArray<CountdownProblem>) => {
  let chars = 0
  let verified = 0
  let nodes = 0
  const started = performance.now()
  for (const row of generateSearchTraces(config, problems)) {
    chars += row.trace.length
    nodes += row.nodesExpanded
    if (row.verified) verified++
  }
  const seconds = (performance.now() - started) / 1000
  return { seconds, chars, verified, nodes }
}

console.log(`# search-trace generation, ${count} problems per case, node ${process.version}, ${cpus()[0]?.model ?? "unknown CPU"}`)
console.log("")
console.log("| case | sampling (problems/s) | traces/s per core | mean trace chars | mean nodes expanded | verified |")
console.log("|---|---:|---:|---:|---:|---:|")
for (const { name, config } of cases) {
  const difficulty = resolveDifficulty(config)
  const sampleStart = performance.now()
  const problems = Array.from({ length: count }, (_, i) => sampleCountdownProblem(difficulty, config.seed, i))
  const sampleRate = count / ((performance.now() - sampleStart) / 1000)
  // One warm-up pass so the JIT has compiled the search before the timed pass.
  measure(config, problems.slice(0, Math.min(100, count)))
  const { seconds, chars, verified, nodes } = measure(config, problems)
  console.log(
    `| ${name} | ${sampleRate.toFixed(0)} | ${(count / seconds).toFixed(0)} | ${(chars / count).toFixed(0)} | ${(nodes / count).toFixed(1)} | ${verified}/${count} |`
  )
}
