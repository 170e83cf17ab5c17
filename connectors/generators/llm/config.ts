/**
 * Configuration of the `llm` generator: an OpenAI-compatible endpoint, a prompt template
 * and sampling parameters.
 */
import { Effect, Schema } from "effect"

const withDefault = <S extends Schema.Top & { readonly "~encoded.make.in"?: unknown }>(value: S["Encoded"]) =>
  Schema.withDecodingDefaultKey<S>(Effect.succeed(value))

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

export const LlmGeneratorConfigSchema = Schema.Struct({
  type: Schema.Literal("llm"),
  /** Server base URL, e.g. `http://127.0.0.1:8000` or `http://127.0.0.1:8000/v1`. */
  endpoint: Schema.String.check(Schema.isPattern(/^https?:\/\//)),
  model: Schema.NonEmptyString,
  /** `chat` calls `/v1/chat/completions`, `completions` calls `/v1/completions`. */
  api: Schema.Literals(["chat", "completions"]).pipe(withDefault("chat")),
  /** Prompt template; `{{field}}` is replaced by the input row's field. */
  prompt: Schema.String,
  /** System message template (chat only). */
  system: Schema.optionalKey(Schema.String),
  /** Samples per input row; each sample is its own request with seed `seed + sampleIndex`. */
  n: PositiveInt.pipe(withDefault(1)),
  temperature: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 2 })).pipe(withDefault(1)),
  topP: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })).pipe(withDefault(1)),
  maxTokens: PositiveInt.pipe(withDefault(512)),
  seed: Schema.Int.pipe(withDefault(0)),
  stop: Schema.optionalKey(Schema.Array(Schema.String)),
  /** Requests in flight at once. */
  concurrency: PositiveInt.pipe(withDefault(8)),
  /** Time limit per request attempt, headers and body included, in milliseconds. */
  timeoutMs: PositiveInt.pipe(withDefault(60_000)),
  /** Retries after the first attempt of one request. */
  maxRetries: NonNegativeInt.pipe(withDefault(5)),
  /** First backoff delay in milliseconds; doubles per retry up to `retryMaxMs`. */
  retryBaseMs: NonNegativeInt.pipe(withDefault(500)),
  retryMaxMs: NonNegativeInt.pipe(withDefault(30_000)),
  /** Upper bound on a server's `Retry-After`, in milliseconds. */
  maxRetryAfterMs: NonNegativeInt.pipe(withDefault(300_000)),
  /** Environment variable that holds the API key; without it no `Authorization` header is sent. */
  apiKeyEnv: Schema.NonEmptyString.pipe(withDefault("OPENAI_API_KEY")),
  /** `fail` stops the run on a request that keeps failing; `skip` drops that sample and counts it. */
  onError: Schema.Literals(["fail", "skip"]).pipe(withDefault("fail")),
  /** Directory of the response cache (one JSON file per request). */
  cacheDir: Schema.optionalKey(Schema.String)
})
export type LlmGeneratorConfig = typeof LlmGeneratorConfigSchema.Type
export type LlmGeneratorConfigInput = typeof LlmGeneratorConfigSchema.Encoded

/** Decodes an unknown value into a config; throws a SchemaError naming the path. */
export const decodeLlmGeneratorConfig = Schema.decodeUnknownSync(LlmGeneratorConfigSchema)
