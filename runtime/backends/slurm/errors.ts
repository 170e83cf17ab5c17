/**
 * The one error type of the Slurm backend. Callers match on `reason`, never on text.
 */
import { Schema } from "effect"

/**
 * Failure classes of Slurm operations.
 *
 * - `InvalidArgument`: bad driver input (unknown dependency, a store on S3, a bad option).
 * - `CommandNotFound`: `sbatch`, `squeue`, `scontrol` or `scancel` is not on PATH.
 * - `CommandFailed`: a Slurm command exited non-zero.
 * - `InvalidOutput`: a Slurm command printed something the driver cannot parse.
 * - `TaskFailed`: an array task kept failing after every retry.
 * - `StateInvalid`: `<storeDir>/slurm/state.json` exists but cannot be decoded.
 */
export const SlurmErrorReason = Schema.Literals([
  "InvalidArgument",
  "CommandNotFound",
  "CommandFailed",
  "InvalidOutput",
  "TaskFailed",
  "StateInvalid"
])
export type SlurmErrorReason = typeof SlurmErrorReason.Type

export class SlurmError extends Schema.TaggedError<SlurmError>()("SlurmError", {
  reason: SlurmErrorReason,
  description: Schema.String,
  /** The Slurm command line, for command failures. */
  command: Schema.optional(Schema.String),
  nodeId: Schema.optional(Schema.String),
  nodeName: Schema.optional(Schema.String),
  shard: Schema.optional(Schema.Number),
  jobId: Schema.optional(Schema.String),
  /** Log file of the last failed attempt of `shard`. */
  logPath: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    const subject: Array<string> = []
    if (this.nodeName !== undefined || this.nodeId !== undefined) {
      subject.push(`node ${this.nodeName ?? this.nodeId}${this.nodeName !== undefined && this.nodeId !== undefined ? ` (${this.nodeId})` : ""}`)
    }
    if (this.shard !== undefined) subject.push(`shard ${this.shard}`)
    if (this.jobId !== undefined) subject.push(`job ${this.jobId}`)
    if (this.command !== undefined) subject.push(`command \`${this.command}\``)
    const where = subject.length === 0 ? "" : ` (${subject.join(", ")})`
    const log = this.logPath === undefined ? "" : `; log: ${this.logPath}`
    return `SlurmError: ${this.reason}${where}: ${this.description}${log}`
  }
}
