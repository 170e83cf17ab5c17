// Measures the Slurm backend's scheduling overhead on the running cluster with tasks
// that do no work (`true`), so every second measured is overhead:
//
//   npx node bench/slurm.ts [--tasks 20] [--chain 4] [--poll-ms 250]
//
// 1. sbatch latency: wall time of `sbatch --parsable` for a one-task array (5 calls).
// 2. Submit to start: for one node of --tasks shards, each task's start time (written
//    to its log by the sbatch script, in ms) minus the time sbatch returned.
// 3. Dependency hop: for a chain of --chain one-shard nodes, the start of each node's
//    task minus the end of its parent's task.
// 4. Driver wall time of each run, from runNodesOnSlurm's start to its return.
//
// Prints a Markdown report on stdout. Needs an idle Slurm node
// (`bash scripts/slurm/start-cluster.sh`).
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { cpus, tmpdir, totalmem } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { StorageLive } from "../connectors/storage/layer.ts"
import { renderSbatchScript, runNodesOnSlurm, type SlurmNode, submit } from "../runtime/backends/slurm/index.ts"
import { readState } from "../runtime/backends/slurm/state.ts"

const parseOptions = (argv: ReadonlyArray<string>) => {
  const values = new Map<string, number>()
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]
    const value = Number(argv[i + 1])
    if (!["--tasks", "--chain", "--poll-ms"].includes(flag) || !Number.isInteger(value) || value < 1) {
      throw new Error(`invalid argument ${flag} ${argv[i + 1]}: expected --tasks N, --chain N or --poll-ms N with a positive integer`)
    }
    values.set(flag, value)
  }
  return { tasks: values.get("--tasks") ?? 20, chain: values.get("--chain") ?? 4, pollMs: values.get("--poll-ms") ?? 250 }
}

const quantiles = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  return { min: sorted[0], median: at(0.5), max: sorted[sorted.length - 1] }
}

const seconds = (ms: number) => (ms / 1000).toFixed(2)

/** Start and end times (ms since the epoch) that the sbatch script logged for one task. */
const taskTimes = (logFile: string) => {
  const text = readFileSync(logFile, "utf8")
  const start = /started at (\S+)/.exec(text)?.[1]
  const end = /exited with status 0 at (\S+)/.exec(text)?.[1]
  if (start === undefined || end === undefined) throw new Error(`${logFile}: missing the start or end line of a successful task`)
  return { start: Date.parse(start), end: Date.parse(end) }
}

const options = parseOptions(process.argv.slice(2))
const store = mkdtempSync(join(tmpdir(), "mixwright-slurm-bench-"))
const lines: Array<string> = []

// --- 1. sbatch latency -----------------------------------------------------------------
const probeDir = join(store, "probe")
mkdirSync(probeDir, { recursive: true })
const probeScript = join(probeDir, "probe.sbatch")
writeFileSync(probeScript, renderSbatchScript({ jobName: "mw-bench-probe", arraySize: 1, command: ["true"], logDir: probeDir, memMB: 16 }))
const sbatchMs: Array<number> = []
const probeJobs: Array<string> = []
for (let i = 0; i < 5; i++) {
  const started = performance.now()
  probeJobs.push(await Effect.runPromise(submit(probeScript)))
  sbatchMs.push(performance.now() - started)
}
// The probe jobs must finish first, or the tasks measured next queue behind them.
const probesQueued = () =>
  execFileSync("squeue", ["--me", "--noheader", "--states=pending,running,completing", "--format=%F"], { encoding: "utf8" })
    .split("\n")
    .some((jobId) => probeJobs.includes(jobId.trim()))
while (probesQueued()) await new Promise((resolve) => setTimeout(resolve, 100))

// --- 2. one node of many tasks -----------------------------------------------------------
const runNodes = async (name: string, nodes: ReadonlyArray<SlurmNode>) => {
  const storeDir = join(store, name)
  const started = Date.now()
  await Effect.runPromise(
    runNodesOnSlurm({ nodes, taskCommand: () => ["true"], storeDir, pollInterval: `${options.pollMs} millis` }).pipe(Effect.provide(StorageLive))
  )
  const wallMs = Date.now() - started
  const state = await Effect.runPromise(readState(join(storeDir, "slurm", "state.json")).pipe(Effect.provide(StorageLive)))
  return { storeDir, state, wallMs }
}

const resources = { cpus: 1, memMB: 16 }
const wide = await runNodes("wide", [{ id: "wide", name: "wide", shards: options.tasks, dependsOn: [], resources }])
const wideJob = wide.state.nodes.wide.jobs[0]
const submittedAt = Date.parse(wideJob.submittedAt)
const wideTimes = Array.from({ length: options.tasks }, (_, shard) => taskTimes(join(wide.storeDir, "slurm", "logs", "wide", `${wideJob.jobId}_${shard}.log`)))
const submitToStart = wideTimes.map((times) => times.start - submittedAt)
const lastEnd = Math.max(...wideTimes.map((times) => times.end))

// --- 3. a chain of dependent nodes -------------------------------------------------------
const chainNodes: Array<SlurmNode> = Array.from({ length: options.chain }, (_, i) => ({
  id: `chain${i}`,
  name: `chain${i}`,
  shards: 1,
  dependsOn: i === 0 ? [] : [`chain${i - 1}`],
  resources
}))
const chain = await runNodes("chain", chainNodes)
const chainTimes = chainNodes.map((node) => {
  const job = chain.state.nodes[node.id].jobs[0]
  return taskTimes(join(chain.storeDir, "slurm", "logs", node.id, `${job.jobId}_0.log`))
})
const hops = chainTimes.slice(1).map((times, i) => times.start - chainTimes[i].end)

// --- report ------------------------------------------------------------------------------------
const slurmVersion = execFileSync("sinfo", ["--version"], { encoding: "utf8" }).trim()
const node = execFileSync("sinfo", ["--noheader", "--format=%n %c CPUs %m MB"], { encoding: "utf8" }).trim()
const sbatch = quantiles(sbatchMs)
const start = quantiles(submitToStart)
const hop = quantiles(hops)
lines.push(
  `Machine: ${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; ${slurmVersion}; node ${node}.`,
  `Command: \`npx node bench/slurm.ts --tasks ${options.tasks} --chain ${options.chain} --poll-ms ${options.pollMs}\`.`,
  "",
  "| measure | min | median | max |",
  "| --- | --- | --- | --- |",
  `| sbatch call, ms (5 calls) | ${sbatch.min.toFixed(0)} | ${sbatch.median.toFixed(0)} | ${sbatch.max.toFixed(0)} |`,
  `| submit to task start, s (${options.tasks} tasks of one array) | ${seconds(start.min)} | ${seconds(start.median)} | ${seconds(start.max)} |`,
  `| parent task end to dependent task start, s (${hops.length} hops) | ${seconds(hop.min)} | ${seconds(hop.median)} | ${seconds(hop.max)} |`,
  "",
  `- ${options.tasks} no-op tasks: sbatch return to last task end ${seconds(lastEnd - submittedAt)} s ` +
    `(${(options.tasks / ((lastEnd - submittedAt) / 1000)).toFixed(1)} tasks/s); driver wall time ${seconds(wide.wallMs)} s.`,
  `- Chain of ${options.chain} one-task nodes: driver wall time ${seconds(chain.wallMs)} s ` +
    `(${seconds(chain.wallMs / options.chain)} s per node).`
)
process.stdout.write(lines.join("\n") + "\n")
