/**
 * Rejection sampling over generated rows with a verifier.
 *
 * `verified` keeps every row the verifier accepts. `best-of-n` groups the samples of each
 * prompt and looks at the first `n` of them in `sampleIndex` order. It keeps the one with
 * the highest score, and ties go to the lower sample index.
 */
import { Schema } from "effect"
import type { Row } from "../../runtime/batch.ts"
import { canonicalJson } from "./llm/cache.ts"
import { type CountdownProblem, verifyCountdown } from "./countdown/verify.ts"
import { GeneratorError } from "./errors.ts"

/** Scores a row: `true`/`false`, or a number where higher is better and > 0 passes. */
export type Verifier = (row: Row) => boolean | number

export const RejectionSampleOptionsSchema = Schema.Struct({
  mode: Schema.Literals(["verified", "best-of-n"]),
  /** Samples per prompt that best-of-n considers. */
  n: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  /** Field that identifies the prompt; default: all fields except the generator's outputs. */
  groupBy: Schema.optionalKey(Schema.String),
  /** Best-of-n only: keep the best sample even when no sample passes (score <= 0). */
  keepFailed: Schema.optionalKey(Schema.Boolean)
})
export type RejectionSampleOptions = typeof RejectionSampleOptionsSchema.Type

export interface RejectionSampleResult {
  /** Kept rows, each with a `score` field added. */
  readonly rows: Array<Row>
  readonly stats: {
    readonly input: number
    readonly kept: number
    readonly groups: number
    /** Prompts with no passing sample among those considered. */
    readonly groupsWithoutPass: number
  }
}

/** Fields the generators add per sample; they do not identify the prompt. */
const SAMPLE_FIELDS = new Set(["completion", "model", "finishReason", "sampleIndex", "score", "verified", "trace", "answer"])

const promptKey = (row: Row, groupBy: string | undefined): string => {
  if (groupBy !== undefined) return canonicalJson(row[groupBy] ?? null)
  const rest: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row)) if (!SAMPLE_FIELDS.has(k)) rest[k] = v
  return canonicalJson(rest)
}

const scoreOf = (verify: Verifier, row: Row): number => {
  const value = verify(row)
  if (typeof value === "boolean") return value ? 1 : 0
  return value
}

/** Applies rejection sampling; rows keep their input order (best-of-n: order of first sample). */
export const rejectionSample = (
  rows: ReadonlyArray<Row>,
  verify: Verifier,
  options: RejectionSampleOptions
): RejectionSampleResult => {
  if (options.mode === "verified") {
    const kept: Array<Row> = []
    const groups = new Map<string, boolean>()
    for (const row of rows) {
      const score = scoreOf(verify, row)
      const key = promptKey(row, options.groupBy)
      groups.set(key, (groups.get(key) ?? false) || score > 0)
      if (score > 0) kept.push({ ...row, score })
    }
    const groupsWithoutPass = [...groups.values()].filter((pass) => !pass).length
    return { rows: kept, stats: { input: rows.length, kept: kept.length, groups: groups.size, groupsWithoutPass } }
  }

  const n = options.n
  if (n === undefined) {
    throw new GeneratorError({ reason: "InvalidConfig", generator: "rejection-sample", subject: "n", description: "best-of-n needs 'n', the samples per prompt to consider" })
  }
  const groups = new Map<string, Array<Row>>()
  for (const row of rows) {
    const key = promptKey(row, options.groupBy)
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [row])
    else group.push(row)
  }
  const kept: Array<Row> = []
  let groupsWithoutPass = 0
  for (const group of groups.values()) {
    const considered = [...group]
      .map((row, position) => ({ row, position, sampleIndex: typeof row.sampleIndex === "number" ? row.sampleIndex : position }))
      .sort((a, b) => a.sampleIndex - b.sampleIndex || a.position - b.position)
      .slice(0, n)
    let best: { readonly row: Row; readonly score: number } | undefined
    for (const { row } of considered) {
      const score = scoreOf(verify, row)
      if (best === undefined || score > best.score) best = { row, score }
    }
    if (best === undefined) continue
    if (best.score <= 0) groupsWithoutPass++
    if (best.score > 0 || options.keepFailed === true) kept.push({ ...best.row, score: best.score })
  }
  return { rows: kept, stats: { input: rows.length, kept: kept.length, groups: groups.size, groupsWithoutPass } }
}

/** Takes the text after the last `Answer:` in a completion, or its last non-empty line. */
export const extractAnswer = (completion: string): string => {
  const index = completion.lastIndexOf("Answer:")
  if (index >= 0) return completion.slice(index + "Answer:".length).split("\n")[0].trim()
  const lines = completion.split("\n").map((l) => l.trim()).filter((l) => l.length > 0)
  return lines.at(-1) ?? ""
}

/**
 * Builds a verifier for Countdown rows. It reads the problem from `problem`
 * (`{numbers, target}`) or from top-level `numbers` and `target`, and the expression from
 * `answerField` (default `completion`) through `extractAnswer`.
 */
export const countdownVerifier = (answerField = "completion"): Verifier => (row) => {
  const problem = (row.problem ?? { numbers: row.numbers, target: row.target }) as CountdownProblem
  if (!Array.isArray(problem.numbers) || typeof problem.target !== "number") return false
  const text = row[answerField]
  return typeof text === "string" && verifyCountdown(problem, extractAnswer(text)).ok
}
