/**
 * JSONL decoding for the `read` operator: plain, `.gz` and `.zst` files.
 *
 * NOTE: this reads the whole file into memory before splitting it into lines; the
 * streaming reader of `connectors/formats/` replaces it once that module exists.
 */
import { gunzipSync, zstdDecompressSync } from "node:zlib"
import { FormatError } from "../../../connectors/formats/FormatError.ts"
import type { Row } from "../../batch.ts"

export type JsonlItem =
  | { readonly row: Row; readonly line: number }
  | { readonly error: FormatError }

const decompress = (bytes: Uint8Array, name: string): Uint8Array => {
  try {
    if (name.endsWith(".gz")) return gunzipSync(bytes)
    if (name.endsWith(".zst") || name.endsWith(".zstd")) return zstdDecompressSync(bytes)
  } catch (cause) {
    throw new FormatError({
      format: "jsonl",
      reason: "Corrupt",
      file: name,
      description: `decompression failed (${cause instanceof Error ? cause.message : String(cause)}); the file is corrupt or not compressed as its extension says`,
      cause
    })
  }
  return bytes
}

/**
 * Decodes JSONL bytes into rows. Per-line problems come back as `{ error }` items, so
 * the caller applies its error policy; whole-file problems are thrown.
 */
export function* decodeJsonl(bytes: Uint8Array, name: string, maxRecordBytes: number): Generator<JsonlItem> {
  if (bytes.byteLength === 0) {
    throw new FormatError({ format: "jsonl", reason: "Empty", file: name, description: "the file is empty (0 bytes); remove it or rewrite it" })
  }
  const data = decompress(bytes, name)
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false })
  let start = 0
  let line = 0
  while (start < data.length) {
    let end = data.indexOf(0x0a, start)
    if (end === -1) end = data.length
    line++
    const length = end - start
    const slice = data.subarray(start, end > start && data[end - 1] === 0x0d ? end - 1 : end)
    start = end + 1
    if (slice.length === 0) continue
    if (length > maxRecordBytes) {
      yield { error: new FormatError({ format: "jsonl", reason: "RecordTooLarge", file: name, line, description: `the line is ${length} bytes, more than maxRecordBytes (${maxRecordBytes}); raise maxRecordBytes or set onError: "skip"` }) }
      continue
    }
    let text: string
    try {
      text = decoder.decode(slice)
    } catch {
      yield { error: new FormatError({ format: "jsonl", reason: "InvalidUtf8", file: name, line, description: "the line is not valid UTF-8; fix the encoding or set onError: \"skip\"" }) }
      continue
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (cause) {
      yield { error: new FormatError({ format: "jsonl", reason: "InvalidJson", file: name, line, description: `the line is not valid JSON (${cause instanceof Error ? cause.message : String(cause)})` }) }
      continue
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      yield { error: new FormatError({ format: "jsonl", reason: "NotAnObject", file: name, line, description: `the line is a JSON ${value === null ? "null" : Array.isArray(value) ? "array" : typeof value}, expected an object` }) }
      continue
    }
    yield { row: value as Row, line }
  }
}
