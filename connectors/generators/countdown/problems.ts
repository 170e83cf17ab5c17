/**
 * Countdown problems: seeded sampling by difficulty, and parsing of problem files.
 *
 * Sampling builds each target from a random expression over the sampled numbers, so every
 * sampled problem has a solution under the positive-integer rule. Problem `i` uses its own
 * random stream derived from `(seed, i)`, so any slice of a run can be regenerated alone.
 */
import type { Row } from "../../../runtime/batch.ts"
import { GeneratorError } from "../errors.ts"
import { deriveSeed, makeRng, type Rng } from "../random.ts"
import { reachableTargets } from "./search.ts"
import type { CountdownProblem } from "./verify.ts"

export interface Difficulty {
  /** How many numbers each problem has. */
  readonly numbers: number
  /** Smallest and largest number that may be drawn (inclusive). */
  readonly min: number
  readonly max: number
  /** Smallest and largest target (inclusive). */
  readonly targetMin: number
  readonly targetMax: number
}

/** The 24 game: four numbers from 1 to 13, target 24. */
export const Game24Difficulty: Difficulty = { numbers: 4, min: 1, max: 13, targetMin: 24, targetMax: 24 }

/** Countdown with four numbers from 1 to 25 and a target from 10 to 100. */
export const CountdownDifficulty: Difficulty = { numbers: 4, min: 1, max: 25, targetMin: 10, targetMax: 100 }

const MAX_ATTEMPTS = 5000

/** Combines random pairs with random valid operations until one number is left. */
const randomExpressionValue = (numbers: ReadonlyArray<number>, rng: Rng): number => {
  const values = [...numbers]
  while (values.length > 1) {
    const i = rng.int(0, values.length - 1)
    let j = rng.int(0, values.length - 2)
    if (j >= i) j++
    const a = Math.max(values[i], values[j])
    const b = Math.min(values[i], values[j])
    const options = [a + b, a * b]
    if (a > b) options.push(a - b)
    if (b > 0 && a % b === 0) options.push(a / b)
    const value = options[rng.int(0, options.length - 1)]
    values.splice(Math.max(i, j), 1)
    values.splice(Math.min(i, j), 1)
    values.push(value)
  }
  return values[0]
}

/**
 * Samples problem number `index` of a run. Every tenth attempt with five numbers or fewer
 * enumerates all reachable targets instead, which finds narrow target ranges (the 24 game)
 * that random expressions rarely hit.
 */
export const sampleCountdownProblem = (difficulty: Difficulty, seed: number, index: number): CountdownProblem => {
  const rng = makeRng(deriveSeed(seed, index))
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const numbers: Array<number> = []
    for (let k = 0; k < difficulty.numbers; k++) numbers.push(rng.int(difficulty.min, difficulty.max))
    let target: number | undefined
    if (attempt % 10 === 0 && difficulty.numbers <= 5) {
      const inRange = [...reachableTargets(numbers)]
        .filter((t) => t >= difficulty.targetMin && t <= difficulty.targetMax)
        .sort((a, b) => a - b)
      if (inRange.length > 0) target = inRange[rng.int(0, inRange.length - 1)]
    } else {
      const value = randomExpressionValue(numbers, rng)
      if (value >= difficulty.targetMin && value <= difficulty.targetMax) target = value
    }
    if (target !== undefined) return { numbers, target }
  }
  throw new GeneratorError({
    reason: "SamplingFailed",
    generator: "search-trace",
    subject: `problem ${index}`,
    description: `found no solvable problem with ${difficulty.numbers} numbers in [${difficulty.min}, ${difficulty.max}] and a target in [${difficulty.targetMin}, ${difficulty.targetMax}] after ${MAX_ATTEMPTS} attempts; widen the number or target range`
  })
}

/** Throws when a difficulty cannot describe any problem. */
export const checkDifficulty = (difficulty: Difficulty): void => {
  const problems: Array<string> = []
  if (!Number.isInteger(difficulty.numbers) || difficulty.numbers < 1 || difficulty.numbers > 8) problems.push("numbers must be an integer from 1 to 8")
  if (!(difficulty.min >= 1 && difficulty.min <= difficulty.max)) problems.push("need 1 <= min <= max")
  if (!(difficulty.targetMin >= 1 && difficulty.targetMin <= difficulty.targetMax)) problems.push("need 1 <= targetMin <= targetMax")
  if (problems.length > 0) {
    throw new GeneratorError({
      reason: "InvalidConfig",
      generator: "search-trace",
      subject: "difficulty",
      description: `${problems.join("; ")} (got ${JSON.stringify(difficulty)})`
    })
  }
}

const invalidProblem = (where: string, description: string) =>
  new GeneratorError({ reason: "InvalidProblem", generator: "search-trace", subject: where, description })

const parseNumberList = (value: unknown, where: string, field: string): Array<number> => {
  const items = typeof value === "string"
    ? value.split(/[\s,]+/).filter((s) => s.length > 0)
    : Array.isArray(value)
    ? value
    : undefined
  if (items === undefined || items.length === 0) {
    throw invalidProblem(where, `field '${field}' must be a non-empty list of positive integers or a string like '1 2 3', got ${JSON.stringify(value)}`)
  }
  return items.map((item) => {
    const n = Number(item)
    if (!Number.isInteger(n) || n < 1) {
      throw invalidProblem(where, `field '${field}' contains ${JSON.stringify(item)}, which is not a positive integer`)
    }
    return n
  })
}

const parseTarget = (value: unknown, where: string, field: string): number => {
  const n = typeof value === "string" ? Number(value.trim()) : value
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
    throw invalidProblem(where, `field '${field}' must be a positive integer target, got ${JSON.stringify(value)}`)
  }
  return n
}

/**
 * Reads one problem from a row in any of the accepted shapes:
 * `{ numbers, target }` (array or `"1 2 3"` / `"1,2,3"`), `{ input: "a,b,c", output: "T" }`
 * (the d1 Countdown JSONL files) or `{ Puzzles: "1 1 4 6" }` (24-game CSV files, target 24).
 * `where` names the row in errors, e.g. `problems.jsonl row 3`.
 */
export const parseCountdownProblem = (row: Row, where: string): CountdownProblem => {
  if ("numbers" in row) {
    if (!("target" in row)) throw invalidProblem(where, "row has 'numbers' but no 'target'")
    return { numbers: parseNumberList(row.numbers, where, "numbers"), target: parseTarget(row.target, where, "target") }
  }
  if ("input" in row && "output" in row) {
    return { numbers: parseNumberList(row.input, where, "input"), target: parseTarget(row.output, where, "output") }
  }
  if ("Puzzles" in row) return { numbers: parseNumberList(row.Puzzles, where, "Puzzles"), target: 24 }
  throw invalidProblem(where, `expected fields {numbers, target}, {input, output} or {Puzzles}; found {${Object.keys(row).join(", ")}}`)
}

/** Splits one CSV line, honouring double-quoted fields. */
const splitCsvLine = (line: string): Array<string> => {
  const out: Array<string> = []
  let field = ""
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ",") {
      out.push(field)
      field = ""
    } else field += c
  }
  out.push(field)
  return out
}

/**
 * Parses a problem file's text: JSON Lines when `uri` ends in `.jsonl` or `.json`, CSV with
 * a header row when it ends in `.csv`. Errors name the URI and the 1-based line.
 */
export const parseCountdownProblems = (text: string, uri: string): Array<CountdownProblem> => {
  const lines = text.split(/\r?\n/)
  const problems: Array<CountdownProblem> = []
  if (uri.endsWith(".csv")) {
    const header = splitCsvLine(lines[0] ?? "").map((h) => h.trim())
    for (let i = 1; i < lines.length; i++) {
      if (lines[i].trim() === "") continue
      const cells = splitCsvLine(lines[i])
      const row: Record<string, unknown> = {}
      header.forEach((name, k) => (row[name] = cells[k]))
      problems.push(parseCountdownProblem(row, `${uri} line ${i + 1}`))
    }
    return problems
  }
  if (uri.endsWith(".jsonl") || uri.endsWith(".json")) {
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].trim() === "") continue
      let row: unknown
      try {
        row = JSON.parse(lines[i])
      } catch (error) {
        throw invalidProblem(`${uri} line ${i + 1}`, `invalid JSON: ${(error as Error).message}`)
      }
      if (typeof row !== "object" || row === null || Array.isArray(row)) {
        throw invalidProblem(`${uri} line ${i + 1}`, "expected a JSON object per line")
      }
      problems.push(parseCountdownProblem(row as Row, `${uri} line ${i + 1}`))
    }
    return problems
  }
  throw invalidProblem(uri, "unsupported problem file extension; use .jsonl, .json (one object per line) or .csv")
}
