/**
 * The one error type of the runtime. Callers branch on `reason`, never on the text.
 */
import { Schema } from "effect"

export const RunErrorReason = Schema.Literals([
  /** The plan is malformed: unknown input id, cycle, unknown kind, invalid params. */
  "InvalidPlan",
  /** Input data cannot be read or decoded (corrupt file, invalid UTF-8, missing field). */
  "InvalidInput",
  /** An operator failed on valid input. */
  "OperatorFailed",
  /** A node's input artifact is not committed, so the node cannot run. */
  "NotCommitted",
  /** The artifact store failed (see `cause`). */
  "Storage",
  /** The run was interrupted (abort signal). */
  "Interrupted",
  /** A node kind or option this runtime does not implement. */
  "Unsupported"
])
export type RunErrorReason = typeof RunErrorReason.Type

export class RunError extends Schema.TaggedError<RunError>()("RunError", {
  reason: RunErrorReason,
  /** Node name (or id when the name is unknown). */
  node: Schema.optional(Schema.String),
  shard: Schema.optional(Schema.Number),
  /** File or object the error is about. */
  uri: Schema.optional(Schema.String),
  description: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    const where = [
      this.node === undefined ? undefined : `node ${this.node}`,
      this.shard === undefined ? undefined : `shard ${this.shard}`,
      this.uri
    ].filter((part) => part !== undefined).join(", ")
    return `RunError(${this.reason})${where === "" ? "" : ` (${where})`}: ${this.description}`
  }
}
