/**
 * Recipe errors: every problem carries the recipe path it concerns.
 *
 * The CLI prints `RecipeError` as text and never as a stack trace.
 */
import { Schema, SchemaIssue } from "effect"

/** One problem at one place in a recipe. `path` reads like `mixes.pretrain.components[3].weight`. */
export interface RecipeIssue {
  readonly path: string
  readonly message: string
}

export const RecipeErrorReason = Schema.Literals([
  "NotFound",
  "Syntax",
  "Invalid",
  "UnknownReference",
  "Cycle",
  "Incompatible",
  "BadOverride"
])

const MAX_LISTED_ISSUES = 20

export class RecipeError extends Schema.TaggedError<RecipeError>()("RecipeError", {
  reason: RecipeErrorReason,
  file: Schema.String,
  issues: Schema.Array(Schema.Struct({ path: Schema.String, message: Schema.String }))
}) {
  override get message(): string {
    const lines = this.issues.map((issue) => (issue.path === "" ? issue.message : `${issue.path}: ${issue.message}`))
    const head = `invalid recipe ${this.file}`
    if (lines.length === 1) return `${head}: ${lines[0]}`
    // Long lists usually repeat one mistake; the first ones show it.
    const shown = lines.length > MAX_LISTED_ISSUES ? [...lines.slice(0, MAX_LISTED_ISSUES), `... and ${lines.length - MAX_LISTED_ISSUES} more`] : lines
    return `${head} (${lines.length} problems):\n  ${shown.join("\n  ")}`
  }
}

/** Renders a property path as `a.b[3].c`. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  let out = ""
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`
    else if (typeof key === "string" && /^[A-Za-z_$][\w$-]*$/.test(key)) out += out === "" ? key : `.${key}`
    else out += `[${JSON.stringify(String(key))}]`
  }
  return out
}

const describeValue = (value: unknown): string => {
  if (value === undefined) return "nothing"
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? value.slice(0, 57) + "..." : value)
  if (Array.isArray(value)) return "an array"
  if (value === null) return "null"
  if (typeof value === "object") return "an object"
  return String(value)
}

const lowerFirst = (text: string): string => text.charAt(0).toLowerCase() + text.slice(1)

const leafHook: SchemaIssue.LeafHook = (issue) => {
  switch (issue._tag) {
    case "InvalidType": {
      const expected = lowerFirst(SchemaIssue.defaultLeafHook(issue))
      return SchemaIssue.hasInput(issue) ? `${expected}, got ${describeValue(issue.input)}` : expected
    }
    case "MissingKey":
      return "missing required field"
    case "UnexpectedKey":
      return "unknown field; check its spelling against the recipe reference in docs/recipes.md"
    default:
      return lowerFirst(SchemaIssue.defaultLeafHook(issue))
  }
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1({ leafHook })

const valueAt = (input: unknown, path: ReadonlyArray<PropertyKey>): unknown => {
  let current = input
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined
    current = (current as Record<PropertyKey, unknown>)[key]
  }
  return current
}

/**
 * Converts a Schema issue tree into recipe issues with dotted paths. `input` is the
 * decoded value, used to show the value found where the Schema message omits it.
 */
export const issuesFromSchema = (issue: SchemaIssue.Issue, input?: unknown): Array<RecipeIssue> =>
  formatter(issue).issues.map((item) => {
    const keys = (item.path ?? []).map((p) => (typeof p === "object" ? p.key : p))
    let message = item.message
    if (/^Expected /.test(message)) message = lowerFirst(message)
    // Optional fields decode as `T | undefined`; the recipe author only needs `T`.
    message = message.replace(/ \| undefined\b/g, "").replace(/^expected number\b/, "expected a number").replace(/^expected string\b/, "expected a string")
    if (message.startsWith("expected ") && !message.includes(", got ")) message += `, got ${describeValue(valueAt(input, keys))}`
    return { path: formatPath(keys), message }
  })

/** Edit distance, for "did you mean" suggestions. */
export const levenshtein = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]!
}

/** Returns the known name closest to `name` when it is close enough to be a likely typo. */
export const closestName = (name: string, known: ReadonlyArray<string>): string | undefined => {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of known) {
    const distance = levenshtein(name.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined
}

/** `unknown source "webtxt"; the recipe defines books, webtext; did you mean "webtext"?` */
export const unknownReference = (what: string, name: string, known: ReadonlyArray<string>): string => {
  const suggestion = closestName(name, known)
  const list = known.length === 0 ? "the recipe defines none" : `the recipe defines ${[...known].sort().join(", ")}`
  return `unknown ${what} ${JSON.stringify(name)}; ${list}` + (suggestion === undefined ? "" : `; did you mean ${JSON.stringify(suggestion)}?`)
}
