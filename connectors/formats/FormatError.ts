/**
 * The one error type of the format connectors (Parquet, JSONL, Arrow IPC, text, Megatron).
 *
 * Every reader and writer in `connectors/formats/` fails with `FormatError`, both when
 * used from plain async code (the error is thrown) and from the Effect wrappers (the
 * error is in the error channel). Callers match on `reason`, never on message text.
 */
import { Schema } from "effect"

/**
 * Reasons a file could not be read or written.
 *
 * - `Empty`: the file has no bytes.
 * - `Truncated`: the file ends before a structure it declares (footer, page, record).
 * - `Corrupt`: the bytes do not decode as the declared format.
 * - `Unsupported`: a valid file uses a feature this reader does not implement
 *   (encryption, a codec, a page type, big-endian Arrow).
 * - `TooLarge`: decoding would exceed a configured memory limit (row group size,
 *   decompressed bytes).
 * - `InvalidUtf8`: a text value or JSONL line is not valid UTF-8.
 * - `InvalidJson`: a JSONL line is not valid JSON.
 * - `NotAnObject`: a JSONL line is valid JSON but not an object.
 * - `RecordTooLarge`: one record is longer than `maxRecordBytes`.
 * - `MissingField`: a required field or column is absent.
 * - `InvalidArgument`: the caller passed options or values the writer cannot encode.
 */
export const FormatErrorReason = Schema.Literals([
  "Empty",
  "Truncated",
  "Corrupt",
  "Unsupported",
  "TooLarge",
  "InvalidUtf8",
  "InvalidJson",
  "NotAnObject",
  "RecordTooLarge",
  "MissingField",
  "InvalidArgument"
])
export type FormatErrorReason = typeof FormatErrorReason.Type

/** File formats the connectors read or write. */
export const FormatName = Schema.Literals(["parquet", "jsonl", "arrow", "text", "megatron"])
export type FormatName = typeof FormatName.Type

export class FormatError extends Schema.TaggedError<FormatError>()("FormatError", {
  format: FormatName,
  reason: FormatErrorReason,
  /** File name or URI as the caller named it. */
  file: Schema.String,
  /** 1-based line number (JSONL). */
  line: Schema.optional(Schema.Number),
  /** 0-based row index within the file, where known. */
  row: Schema.optional(Schema.Number),
  description: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    let at = ""
    if (this.line !== undefined) at = `:${this.line}`
    else if (this.row !== undefined) at = ` row ${this.row}`
    return `FormatError: ${this.format} (${this.file}${at}): ${this.description}`
  }
}

/** Returns the message of any thrown value, for use inside descriptions. */
export const describeCause = (cause: unknown): string =>
  cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)
