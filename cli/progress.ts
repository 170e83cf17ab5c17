/**
 * Renders run events: a live status line per node on a terminal, one JSON log line
 * per event otherwise (for CI logs and schedulers).
 */
import { formatSeconds, makeTtyRenderer, renderEventJson } from "../runtime/executor/progress.ts"
import type { RunEvent, RunSummary } from "../runtime/executor/types.ts"
import { table } from "../compiler/render.ts"
import { formatTokens } from "../compiler/recipe/units.ts"

/** Returns an event handler writing to `stream` (stderr by default). */
export const makeProgressRenderer = (stream: NodeJS.WriteStream = process.stderr): ((event: RunEvent) => void) => {
  if (!stream.isTTY) return (event) => stream.write(renderEventJson(event) + "\n")
  const tty = makeTtyRenderer()
  return (event) => stream.write(tty.render(event))
}

/** Renders a run summary: node counts, mix shares planned against measured, outputs. */
export const renderSummary = (summary: RunSummary, extraOutputs: ReadonlyArray<string> = []): string => {
  const out: Array<string> = []
  const t = summary.totals
  out.push(
    `Run ${summary.runId}: ${summary.status} in ${formatSeconds(summary.seconds)}; ` +
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
