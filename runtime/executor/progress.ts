/**
 * Renderers for run events and summaries: JSON lines for logs and pipes, and a
 * compact live view for terminals. They return text; the caller decides where it goes.
 */
import type { RunEvent, RunSummary } from "./types.ts"

/** One JSON object per line, with a UTC timestamp, for log collectors. */
export const renderEventJson = (event: RunEvent, now: Date = new Date()): string =>
  JSON.stringify({ time: now.toISOString(), ...event })

const pad = (text: string, width: number): string => text.length >= width ? text : text + " ".repeat(width - text.length)

/** `1234567` -> `1.23M`. */
export const formatCount = (value: number): string => {
  const units: ReadonlyArray<readonly [number, string]> = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]]
  for (const [size, unit] of units) if (Math.abs(value) >= size) return `${(value / size).toPrecision(3)}${unit}`
  return String(Math.round(value))
}

export const formatSeconds = (seconds: number): string => {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`
}

export interface TtyRenderer {
  /** Text to write for this event: finished lines end in `\n`; the live line starts with `\r` and a clear. */
  readonly render: (event: RunEvent) => string
}

const CLEAR_LINE = "\r\u001b[2K"

/**
 * Creates a renderer for terminals. It prints one permanent line per finished node and
 * rewrites one live line in place for the node that reported progress last.
 */
export const makeTtyRenderer = (): TtyRenderer => {
  let total = 0
  let finished = 0
  return {
    render: (event) => {
      switch (event.type) {
        case "run-started":
          total = event.nodes
          return `run ${event.runId}: ${event.nodes} nodes, store ${event.root}\n`
        case "node-started":
          return `${CLEAR_LINE}${pad(event.name, 32)} started, ${event.shards} shards${event.resumedShards > 0 ? ` (${event.resumedShards} already committed)` : ""}`
        case "node-progress": {
          const eta = event.etaSeconds === undefined ? "" : ` ETA ${formatSeconds(event.etaSeconds)}`
          return `${CLEAR_LINE}${pad(event.name, 32)} ${event.shardsDone}/${event.shards} shards ${formatCount(event.rowsPerSecond)} rows/s ${event.megabytesPerSecond.toFixed(1)} MB/s${eta}`
        }
        case "node-finished": {
          finished++
          const counts = event.status === "failed"
            ? `failed: ${event.error ?? "unknown error"}`
            : `${event.status} ${formatCount(event.rowsOut)} rows ${formatCount(event.tokensOut)} tokens ${formatSeconds(event.seconds)}`
          return `${CLEAR_LINE}[${String(finished).padStart(String(total).length)}/${total}] ${pad(event.name, 32)} ${counts}\n`
        }
        case "run-finished":
          return `${CLEAR_LINE}run ${event.runId} ${event.status} in ${formatSeconds(event.seconds)}\n`
      }
    }
  }
}

/** Formats a run summary as a plain-text table, one row per node, followed by the mixes' shares. */
export const formatSummary = (summary: RunSummary): string => {
  const header = ["node", "status", "rows in", "rows out", "tokens out", "seconds"]
  const rows = summary.nodes.map((node) => [
    node.name,
    node.status,
    formatCount(node.rowsIn),
    formatCount(node.rowsOut),
    formatCount(node.tokensOut),
    node.seconds.toFixed(2)
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((cell, column) => pad(cell, widths[column])).join("  ").trimEnd()
  const lines = [line(header), ...rows.map(line)]
  for (const mix of summary.mixes) {
    lines.push("", `${mix.name}: ${formatCount(mix.totalTokens)} tokens in ${mix.sequences} sequences of ${mix.sequenceLength}`)
    for (const component of mix.components) {
      lines.push(
        `  ${pad(component.name, 24)} planned ${(component.plannedShare * 100).toFixed(2)}% measured ${(component.measuredShare * 100).toFixed(2)}% ` +
          `(${formatCount(component.measuredTokens)} tokens, ${component.epochs.toFixed(2)} epochs)`
      )
    }
  }
  const failed = summary.nodes.filter((node) => node.status === "failed" && node.error !== undefined)
  if (failed.length > 0) lines.push("", ...failed.map((node) => `${node.name}: ${node.error}`))
  return lines.join("\n") + "\n"
}
