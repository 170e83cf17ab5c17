/**
 * Renders run events: a live status line per node on a terminal, one JSON log line
 * per event otherwise (for CI logs and schedulers).
 */
import type { RunEvent, RunSummary } from "../runtime/executor/types.ts"
import { table } from "../compiler/render.ts"
import { formatTokens } from "../compiler/recipe/units.ts"

const seconds = (s: number | undefined): string => {
  if (s === undefined || !Number.isFinite(s)) return "?"
  if (s < 60) return `${s.toFixed(1)}s`
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`
}

/** Returns an event handler writing to `stream` (stderr by default). */
export const makeProgressRenderer = (stream: NodeJS.WriteStream = process.stderr): ((event: RunEvent) => void) => {
  if (!stream.isTTY) {
    return (event) => {
      stream.write(JSON.stringify({ at: new Date().toISOString(), ...event }) + "\n")
    }
  }
  let live = false
  const clear = () => {
    if (live) stream.write("\r\x1b[2K")
    live = false
  }
  return (event) => {
    switch (event.type) {
      case "run-started":
        stream.write(`run ${event.runId}: ${event.nodes} nodes, store ${event.root}\n`)
        break
      case "node-started":
        clear()
        stream.write(`  start ${event.name} (${event.shards} shard${event.shards === 1 ? "" : "s"}${event.resumedShards > 0 ? `, ${event.resumedShards} resumed` : ""})`)
        live = true
        break
      case "node-progress":
        clear()
        stream.write(
          `  ${event.name}: ${event.shardsDone}/${event.shards} shards, ${event.rowsOut} rows, ` +
            `${Math.round(event.rowsPerSecond)} rows/s, ${event.megabytesPerSecond.toFixed(1)} MB/s, ETA ${seconds(event.etaSeconds)}`
        )
        live = true
        break
      case "node-finished":
        clear()
        if (event.status === "computed" || event.status === "failed") {
          const detail = event.status === "failed" ? `: ${event.error ?? "failed"}` : ""
          stream.write(
            `  ${event.status === "failed" ? "FAILED" : "done "} ${event.name}: ${event.rowsOut} rows, ${formatTokens(event.tokensOut)} tokens, ${seconds(event.seconds)}${detail}\n`
          )
        }
        break
      case "run-finished":
        clear()
        stream.write(`run ${event.runId} ${event.status} in ${seconds(event.seconds)}\n`)
        break
    }
  }
}

/** Renders a run summary: node counts, mix shares planned against measured, outputs. */
export const renderSummary = (summary: RunSummary, extraOutputs: ReadonlyArray<string> = []): string => {
  const out: Array<string> = []
  const t = summary.totals
  out.push(
    `Run ${summary.runId}: ${summary.status} in ${seconds(summary.seconds)}; ` +
      `${t.computed} computed, ${t.cached} cached, ${t.failed} failed, ${t.external} external`
  )
  const failed = summary.nodes.filter((n) => n.status === "failed")
  for (const node of failed) out.push(`  failed ${node.name}: ${node.error ?? "see the log above"}`)
  for (const mix of summary.mixes) {
    out.push("")
    out.push(`Mix ${mix.name}: ${formatTokens(mix.totalTokens)} tokens in ${mix.sequences} sequences of ${mix.sequenceLength}`)
    out.push(
      table(
        ["component", "planned", "measured", "planned tokens", "measured tokens", "epochs"],
        mix.components.map((c) => [
          c.name,
          `${(c.plannedShare * 100).toFixed(3)}%`,
          `${(c.measuredShare * 100).toFixed(3)}%`,
          String(c.plannedTokens),
          String(c.measuredTokens),
          c.epochs.toFixed(3)
        ]),
        new Set([1, 2, 3, 4, 5])
      )
    )
  }
  const outputs = [...Object.values(summary.outputs).flat(), ...extraOutputs]
  if (outputs.length > 0) {
    out.push("")
    out.push("Outputs")
    for (const uri of outputs) out.push(`  ${uri}`)
  }
  return out.join("\n")
}
