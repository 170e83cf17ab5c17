/**
 * The `llm` generator: fills a prompt template from each input row, sends it to an
 * OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp server, or any other that serves
 * `/v1/chat/completions` or `/v1/completions`) and emits one row per sample.
 */
import { Effect } from "effect"
import type { Batch, Row } from "../../../runtime/batch.ts"
import { type LlmCache, makeDirectoryCache, requestCacheKey } from "./cache.ts"
import { type LlmEvent, sendWithRetries } from "./client.ts"
import type { LlmGeneratorConfig } from "./config.ts"
import { LlmGeneratorError } from "./errors.ts"
import { fillTemplate } from "./template.ts"

export interface LlmGeneratorOptions {
  /** Response cache; default a directory cache at `config.cacheDir` or `.mixwright/cache/llm`. `null` disables caching. */
  readonly cache?: LlmCache | null
  /** HTTP client; default the global `fetch`. */
  readonly fetch?: typeof globalThis.fetch
  /** Environment that contains the API key variable; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly onEvent?: (event: LlmEvent) => void
}

/** Counters for one generator, summed over all `generate` calls. */
export interface LlmStats {
  /** HTTP attempts sent, retries included. */
  readonly requests: number
  readonly retries: number
  readonly cacheHits: number
  /** Samples emitted. */
  readonly completions: number
  /** Samples dropped under `onError: "skip"`. */
  readonly failures: number
}

export interface LlmGenerator {
  readonly config: LlmGeneratorConfig
  /**
   * Maps input rows to output rows `{ ...input, completion, model, finishReason, sampleIndex }`,
   * `n` per input row, in input order. `rowOffset` is the index of `rows[0]` in the whole
   * input, used in error messages.
   */
  readonly generate: (rows: Batch, rowOffset?: number) => Effect.Effect<Array<Row>, LlmGeneratorError>
  readonly stats: () => LlmStats
}

/** Builds the full URL for the configured API from a base URL with or without `/v1`. */
export const completionUrl = (endpoint: string, api: "chat" | "completions"): string => {
  const base = endpoint.replace(/\/+$/, "")
  const root = base.endsWith("/v1") ? base : `${base}/v1`
  return api === "chat" ? `${root}/chat/completions` : `${root}/completions`
}

/** Builds the request body for one row and sample. */
const requestBody = (config: LlmGeneratorConfig, row: Row, rowIndex: number, sampleIndex: number): Record<string, unknown> => {
  const prompt = fillTemplate(config.prompt, row, rowIndex, "prompt")
  const params: Record<string, unknown> = {
    model: config.model,
    temperature: config.temperature,
    top_p: config.topP,
    max_tokens: config.maxTokens,
    seed: config.seed + sampleIndex,
    n: 1
  }
  if (config.stop !== undefined) params.stop = config.stop
  if (config.api === "completions") return { ...params, prompt }
  const messages: Array<{ role: string; content: string }> = []
  if (config.system !== undefined) messages.push({ role: "system", content: fillTemplate(config.system, row, rowIndex, "system") })
  messages.push({ role: "user", content: prompt })
  return { ...params, messages }
}

/** Creates a generator for a decoded config. */
export const makeLlmGenerator = (config: LlmGeneratorConfig, options: LlmGeneratorOptions = {}): LlmGenerator => {
  const cache = options.cache === undefined ? makeDirectoryCache(config.cacheDir ?? ".mixwright/cache/llm") : options.cache
  const fetchFn = options.fetch ?? globalThis.fetch
  const env = options.env ?? process.env
  const userOnEvent = options.onEvent ?? (() => {})
  const url = completionUrl(config.endpoint, config.api)
  const counters = { requests: 0, retries: 0, cacheHits: 0, completions: 0, failures: 0 }
  const onEvent = (event: LlmEvent) => {
    if (event.type === "request") counters.requests++
    else if (event.type === "retry") counters.retries++
    else if (event.type === "cache-hit") counters.cacheHits++
    userOnEvent(event)
  }

  const sample = (row: Row, rowIndex: number, sampleIndex: number): Effect.Effect<Row | undefined, LlmGeneratorError> =>
    Effect.gen(function*() {
      const subject = `row ${rowIndex} sample ${sampleIndex}`
      const body = yield* Effect.try({
        try: () => requestBody(config, row, rowIndex, sampleIndex),
        catch: (error) => error as LlmGeneratorError
      })
      const key = requestCacheKey(config.api, body, sampleIndex)
      let result = cache === null ? undefined : yield* cache.get(key)
      if (result !== undefined) {
        onEvent({ type: "cache-hit", subject })
      } else {
        const sent = yield* sendWithRetries({
          url,
          body,
          api: config.api,
          apiKey: env[config.apiKeyEnv],
          policy: config,
          subject,
          fetch: fetchFn,
          onEvent
        }).pipe(
          Effect.map((value) => ({ ok: true as const, value })),
          Effect.catch((error: LlmGeneratorError) =>
            config.onError === "skip" && error.reason !== "MissingField"
              ? Effect.sync(() => {
                counters.failures++
                onEvent({ type: "failure", subject, error })
                return { ok: false as const }
              })
              : Effect.fail(error)
          )
        )
        if (!sent.ok) return undefined
        result = sent.value
        if (cache !== null) yield* cache.set(key, result)
      }
      counters.completions++
      return { ...row, completion: result.completion, model: result.model, finishReason: result.finishReason, sampleIndex }
    })

  const generate = (rows: Batch, rowOffset = 0): Effect.Effect<Array<Row>, LlmGeneratorError> => {
    const jobs: Array<readonly [Row, number, number]> = []
    rows.forEach((row, i) => {
      for (let s = 0; s < config.n; s++) jobs.push([row, rowOffset + i, s])
    })
    return Effect.forEach(jobs, ([row, rowIndex, sampleIndex]) => sample(row, rowIndex, sampleIndex), {
      concurrency: config.concurrency
    }).pipe(Effect.map((out) => out.filter((row): row is Row => row !== undefined)))
  }

  return { config, generate, stats: () => ({ ...counters }) }
}

export { LlmGeneratorError }
