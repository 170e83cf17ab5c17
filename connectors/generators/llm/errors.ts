/**
 * Errors of the `llm` generator. Messages never contain the API key: server bodies are
 * redacted before they are stored in an error.
 */
import { Schema } from "effect"

/** Why an LLM generation failed. */
export const LlmErrorReason = Schema.Literals([
  /** A template names a field the input row does not have. */
  "MissingField",
  /** The server rejected the request with a status that retrying cannot fix (400, 401, 404 ...). */
  "Rejected",
  /** 429, 5xx, timeouts, network errors or malformed responses outlasted `maxRetries`. */
  "RetriesExhausted",
  /** The response cache could not be read or written. */
  "Cache"
])
export type LlmErrorReason = typeof LlmErrorReason.Type

export class LlmGeneratorError extends Schema.TaggedError<LlmGeneratorError>()("LlmGeneratorError", {
  reason: LlmErrorReason,
  /** What failed: a row and sample, a URL or a cache path. */
  subject: Schema.String,
  description: Schema.String,
  /** HTTP status of the last response, when there was one. */
  status: Schema.optionalKey(Schema.Number),
  /** Attempts sent for this request. */
  attempts: Schema.optionalKey(Schema.Number)
}) {
  override get message(): string {
    return `LlmGeneratorError: llm (${this.subject}): ${this.description}`
  }
}
