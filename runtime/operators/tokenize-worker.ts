/**
 * Worker thread body for the tokenize pool: receives `{ id, tokenizer, appendEos,
 * texts }`, replies `{ id, tokens }` with the token arrays' buffers transferred, or
 * `{ id, error }` when encoding fails.
 */
import { parentPort } from "node:worker_threads"
import { getTokenizer } from "../../connectors/tokenizers/Tokenizer.ts"

interface Request {
  readonly id: number
  readonly tokenizer: string
  readonly appendEos: boolean
  readonly texts: ReadonlyArray<string>
}

parentPort?.on("message", (request: Request) => {
  try {
    const tokenizer = getTokenizer(request.tokenizer)
    const encode = request.appendEos ? tokenizer.encodeWithEos : tokenizer.encode
    const tokens = request.texts.map((text) => encode(text))
    parentPort?.postMessage({ id: request.id, tokens }, tokens.map((array) => array.buffer as ArrayBuffer))
  } catch (cause) {
    parentPort?.postMessage({ id: request.id, error: cause instanceof Error ? cause.message : String(cause) })
  }
})
