/**
 * Prompt templates: `{{field}}` is replaced by the input row's field. Strings are inserted
 * as they are; numbers and booleans as text; other values as JSON. Whitespace inside the
 * braces is allowed (`{{ field }}`), and dotted paths read nested objects (`{{problem.target}}`).
 */
import type { Row } from "../../../runtime/batch.ts"
import { LlmGeneratorError } from "./errors.ts"

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g

/** Lists the fields a template reads, in order of first use. */
export const templateFields = (template: string): Array<string> => [
  ...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]))
]

const lookup = (row: Row, path: string): unknown => {
  let value: unknown = row
  for (const key of path.split(".")) {
    if (typeof value !== "object" || value === null || !(key in value)) return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return value
}

/**
 * Fills a template from a row. Throws `LlmGeneratorError` (reason `MissingField`) naming
 * the field, the row index and the fields the row has, when a field is absent or null.
 */
export const fillTemplate = (template: string, row: Row, rowIndex: number, templateName = "prompt"): string =>
  template.replace(PLACEHOLDER, (_match, path: string) => {
    const value = lookup(row, path)
    if (value === undefined || value === null) {
      throw new LlmGeneratorError({
        reason: "MissingField",
        subject: `row ${rowIndex}`,
        description: `${templateName} template uses {{${path}}} but the row has no field '${path}' (fields: ${Object.keys(row).join(", ") || "none"}); add the field or change the template`
      })
    }
    if (typeof value === "string") return value
    if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value)
    return JSON.stringify(value)
  })
