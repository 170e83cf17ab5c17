import { Schema } from "effect"

export class DedupError extends Schema.TaggedError<DedupError>()("DedupError", {
  reason: Schema.Literals(["InvalidConfig", "InvalidInput"]),
  description: Schema.String
}) {
  override get message(): string {
    return `DedupError: ${this.description}`
  }
}
