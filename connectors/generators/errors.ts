/**
 * Errors raised by the synthetic data generators.
 */
import { Schema } from "effect"

/** Why a generator rejected its configuration or input. */
export const GeneratorErrorReason = Schema.Literals([
  "InvalidConfig",
  "InvalidProblem",
  "SamplingFailed"
])
export type GeneratorErrorReason = typeof GeneratorErrorReason.Type

export class GeneratorError extends Schema.TaggedError<GeneratorError>()("GeneratorError", {
  reason: GeneratorErrorReason,
  /** The generator, e.g. `search-trace`. */
  generator: Schema.String,
  /** Where the problem is: a config field, a file and row, or a problem index. */
  subject: Schema.String,
  description: Schema.String
}) {
  override get message(): string {
    return `GeneratorError: ${this.generator} (${this.subject}): ${this.description}`
  }
}
