/**
 * One OpenAI-compatible request with timeouts and retries, on `fetch` wrapped in Effect.
 *
 * Retried: 429 and 5xx statuses, timeouts, network errors and 2xx responses whose body is
 * not the expected JSON. A `Retry-After` header on 429 or 503 (delta seconds or an HTTP
 * date) sets the wait; otherwise the wait is `retryBaseMs * 2^retry`, capped at `retryMaxMs`.
 * Other 4xx statuses fail at once because resending the same request cannot succeed.
 */
import { Effect } from "effect"
import type { CachedCompletion } from "./cache.ts"
import { LlmGeneratorError } from "./errors.ts"

export interface RetryPolicy {
  readonly timeoutMs: number
  readonly maxRetries: number
  readonly retryBaseMs: number
  readonly retryMaxMs: number
  readonly maxRetryAfterMs: number
}

/** Progress events; `onEvent` callbacks receive them (library code does not log). */
export type LlmEvent =
  | { readonly type: "request"; readonly subject: string; readonly attempt: number }
  | { readonly type: "retry"; readonly subject: string; readonly attempt: number; readonly delayMs: number; readonly cause: string }
  | { readonly type: "cache-hit"; readonly subject: string }
  | { readonly type: "failure"; readonly subject: string; readonly error: LlmGeneratorError }

export interface SendOptions {
  readonly url: string
  readonly body: Record<string, unknown>
  readonly api: "chat" | "completions"
  readonly apiKey: string | undefined
  readonly policy: RetryPolicy
  /** Names the request in errors and events, e.g. `row 3 sample 1`. */
  readonly subject: string
  readonly fetch: typeof globalThis.fetch
  readonly onEvent: (event: LlmEvent) => void
}

type AttemptResult =
  | { readonly ok: true; readonly value: CachedCompletion }
  | {
    readonly ok: false
    readonly retryable: boolean
    readonly description: string
    readonly status?: number
    readonly retryAfterMs?: number
  }

/** Parses `Retry-After` as delta seconds or an HTTP date; returns milliseconds or undefined. */
export const parseRetryAfter = (header: string | null, now: number = Date.now()): number | undefined => {
  if (header === null) return undefined
  const text = header.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000)
  const date = Date.parse(text)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}

/** Removes every occurrence of the key from text that may be shown to users. */
export const redact = (text: string, apiKey: string | undefined): string =>
  apiKey !== undefined && apiKey.length > 0 ? text.split(apiKey).join("[redacted]") : text

const excerpt = (text: string): string => (text.length > 300 ? `${text.slice(0, 300)}...` : text)

/** Reads the completion text from a chat or completions response body. */
const readCompletion = (api: "chat" | "completions", json: unknown, requestedModel: string): CachedCompletion | string => {
  if (typeof json !== "object" || json === null) return "response body is not a JSON object"
  const choices = (json as { choices?: unknown }).choices
  if (!Array.isArray(choices) || choices.length === 0) return "response has no 'choices'"
  const choice = choices[0] as { message?: { content?: unknown }; text?: unknown; finish_reason?: unknown }
  const content = api === "chat" ? choice.message?.content : choice.text
  if (typeof content !== "string") {
    return api === "chat" ? "response choice has no string 'message.content'" : "response choice has no string 'text'"
  }
  const model = (json as { model?: unknown }).model
  return {
    completion: content,
    model: typeof model === "string" ? model : requestedModel,
    finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : null
  }
}

const attemptOnce = (options: SendOptions): Effect.Effect<AttemptResult> =>
  Effect.promise(async (interruptSignal): Promise<AttemptResult> => {
    const controller = new AbortController()
    const onInterrupt = () => controller.abort()
    interruptSignal.addEventListener("abort", onInterrupt)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, options.policy.timeoutMs)
    try {
      const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" }
      if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`
      const response = await options.fetch(options.url, {
        method: "POST",
        headers,
        body: JSON.stringify(options.body),
        signal: controller.signal
      })
      const text = await response.text()
      if (!response.ok) {
        const status = response.status
        const retryable = status === 429 || status >= 500 || status === 408
        const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(response.headers.get("retry-after")) : undefined
        return {
          ok: false,
          retryable,
          status,
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
          description: `HTTP ${status} from ${options.url}: ${excerpt(redact(text, options.apiKey))}`
        }
      }
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        return { ok: false, retryable: true, status: response.status, description: `malformed JSON from ${options.url}: ${excerpt(redact(text, options.apiKey))}` }
      }
      const parsed = readCompletion(options.api, json, String(options.body.model))
      if (typeof parsed === "string") {
        return { ok: false, retryable: true, status: response.status, description: `${parsed} (${options.url})` }
      }
      return { ok: true, value: parsed }
    } catch (error) {
      if (timedOut) return { ok: false, retryable: true, description: `request to ${options.url} timed out after ${options.policy.timeoutMs} ms` }
      return { ok: false, retryable: true, description: `request to ${options.url} failed: ${redact(String((error as Error).message), options.apiKey)}` }
    } finally {
      clearTimeout(timer)
      interruptSignal.removeEventListener("abort", onInterrupt)
    }
  })

/** Sends one request, retrying per the policy; fails with `Rejected` or `RetriesExhausted`. */
export const sendWithRetries = (options: SendOptions): Effect.Effect<CachedCompletion, LlmGeneratorError> =>
  Effect.gen(function*() {
    const { policy } = options
    for (let attempt = 1;; attempt++) {
      options.onEvent({ type: "request", subject: options.subject, attempt })
      const result = yield* attemptOnce(options)
      if (result.ok) return result.value

      const status = result.status !== undefined ? { status: result.status } : {}
      if (!result.retryable) {
        return yield* new LlmGeneratorError({
          reason: "Rejected",
          subject: options.subject,
          description: `${result.description}; check the model name, endpoint and API key`,
          attempts: attempt,
          ...status
        })
      }
      if (attempt > policy.maxRetries) {
        return yield* new LlmGeneratorError({
          reason: "RetriesExhausted",
          subject: options.subject,
          description: `gave up after ${attempt} attempts; last failure: ${result.description}`,
          attempts: attempt,
          ...status
        })
      }
      const backoff = Math.min(policy.retryMaxMs, policy.retryBaseMs * 2 ** (attempt - 1))
      const delayMs = result.retryAfterMs !== undefined ? Math.min(result.retryAfterMs, policy.maxRetryAfterMs) : backoff
      options.onEvent({ type: "retry", subject: options.subject, attempt, delayMs, cause: result.description })
      yield* Effect.sleep(delayMs)
    }
  })
