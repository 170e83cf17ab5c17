/**
 * Text rendering of plans and plan diffs for the terminal.
 */
import type { Mark } from "./mix.ts"
import type { Plan, PlanDiff } from "./plan.ts"
import { formatBytes, formatTokens } from "./recipe/units.ts"

const MARK_SYMBOL: Record<Mark, string> = { declared: "", derived: "~", measured: "=", missing: "?" }

/** A number with its mark: `1.234B` declared, `~1.234B` derived, `=1.234B` measured, `?` missing. */
const marked = (text: string, mark: Mark): string => (mark === "missing" ? "?" : MARK_SYMBOL[mark] + text)

/** Lays out rows as a table with left-aligned text and right-aligned numbers. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, numeric: ReadonlySet<number> = new Set()): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ").trimEnd()
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

const percent = (x: number | null): string => (x === null ? "-" : `${(x * 100).toPrecision(4)}%`)

/** Renders the whole plan: nodes, mixes, stages, estimate and warnings. */
export const renderPlan = (plan: Plan): string => {
  const out: Array<string> = []
  const profile = plan.recipe.profile === null ? "" : ` (profile ${plan.recipe.profile})`
  out.push(`Plan for ${plan.recipe.name}${profile}: ${plan.nodes.length} nodes, store ${plan.store}, executor ${plan.executor}`)
  out.push("")

  const nameOf = new Map(plan.nodes.map((n) => [n.id, n.name]))
  out.push("Nodes")
  out.push(
    table(
      ["id", "kind", "name", "inputs"],
      plan.nodes.map((n) => {
        const names = n.inputs.map((id) => nameOf.get(id) ?? id.slice(0, 12))
        const shown = names.length > 3 ? `${names.slice(0, 2).join(", ")} and ${names.length - 2} more` : names.join(", ")
        return [n.shortId, n.kind, n.name, shown]
      })
    )
  )

  for (const mix of plan.mixes) {
    out.push("")
    const scaled = mix.fullTotalTokens === null ? "" : ` (sample of ${formatTokens(mix.fullTotalTokens)})`
    out.push(
      `Mix ${mix.name}: ${marked(formatTokens(mix.totalTokens ?? undefined), mix.totalTokensMark)} tokens${scaled}, ${mix.tokenizer}, sequence length ${mix.sequenceLength}, seed ${mix.seed}`
    )
    out.push(
      table(
        ["component", "category", "size", "weight", "tokens", "epochs"],
        mix.components.map((c) => [
          c.name,
          c.category ?? "-",
          marked(formatTokens(c.size ?? undefined), c.marks.size),
          marked(percent(c.weight), c.marks.weight),
          marked(formatTokens(c.tokens ?? undefined), c.marks.tokens),
          marked(c.epochs === null ? "-" : c.epochs.toFixed(3), c.marks.epochs)
        ]),
        new Set([2, 3, 4, 5])
      )
    )
  }
  if (plan.mixes.length > 0) out.push("(plain: declared, ~ derived, = measured, ? missing)")

  if (plan.stages.length > 0) {
    out.push("")
    out.push("Stages")
    out.push(
      table(
        ["stage", "type", "data", "from", "backend", "steps", "batch", "tokens"],
        plan.stages.map((s) => [
          s.name,
          s.type,
          s.data.length === 0 ? "-" : s.data.join(", "),
          s.from ?? "-",
          s.backend ?? "-",
          s.steps === null ? "-" : String(s.steps),
          s.globalBatch === null ? "-" : String(s.globalBatch),
          marked(formatTokens(s.tokens ?? undefined), s.tokensMark)
        ]),
        new Set([5, 6, 7])
      )
    )
  }

  out.push("")
  out.push(
    `Estimate: read ${marked(formatBytes(plan.estimate.bytes ?? undefined), plan.estimate.bytesMark)}, ` +
      `process ${marked(formatTokens(plan.estimate.tokens ?? undefined), plan.estimate.tokensMark)} source tokens, ` +
      `write ${formatTokens(plan.estimate.outputTokens ?? undefined)} mixed tokens`
  )
  if (plan.warnings.length > 0) {
    out.push("")
    out.push("Warnings")
    for (const warning of plan.warnings) out.push(`  - ${warning}`)
  }
  return out.join("\n")
}

/** Renders added, removed and invalidated nodes. */
export const renderDiff = (diff: PlanDiff): string => {
  const out: Array<string> = []
  out.push(`${diff.invalidated.length} invalidated, ${diff.added.length} added, ${diff.removed.length} removed, ${diff.unchanged} unchanged`)
  if (diff.invalidated.length > 0) {
    out.push("")
    out.push(
      table(
        ["invalidated", "kind", "old id", "new id", "because"],
        diff.invalidated.map((n) => [n.name, n.kind, n.oldId.slice(0, 12), n.newId.slice(0, 12), n.changed.join(", ")])
      )
    )
  }
  for (const [title, nodes] of [["added", diff.added], ["removed", diff.removed]] as const) {
    if (nodes.length === 0) continue
    out.push("")
    out.push(table([title, "kind", "id"], nodes.map((n) => [n.name, n.kind, n.shortId])))
  }
  return out.join("\n")
}
