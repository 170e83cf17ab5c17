import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Exit } from "effect"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { countdownPrompt, verifyCountdown } from "../../connectors/generators/countdown/index.ts"
import {
  completionUrl,
  decodeLlmGeneratorConfig,
  fillTemplate,
  type LlmEvent,
  LlmGeneratorError,
  makeDirectoryCache,
  makeLlmGenerator,
  makeMemoryCache,
  makeStorageCache,
  parseRetryAfter,
  requestCacheKey
} from "../../connectors/generators/llm/index.ts"
import { makeLocalStorage } from "../../connectors/storage/local.ts"
import { type OpenAiTestServer, startOpenAiServer } from "../support/openai-server.ts"

const SECRET = "sk-test-secret-0123456789"
let server: OpenAiTestServer
const tempDirs: Array<string> = []

beforeAll(async () => {
  server = await startOpenAiServer()
})
afterAll(async () => {
  await server.close()
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})
afterEach(() => {
  server.requests.length = 0
})

const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "mixwright-llm-"))
  tempDirs.push(dir)
  return dir
}

const configFor = (overrides: Record<string, unknown> = {}) =>
  decodeLlmGeneratorConfig({
    type: "llm",
    endpoint: server.url,
    model: "test-model",
    prompt: "Q: {{question}}",
    retryBaseMs: 10,
    timeoutMs: 2000,
    maxRetries: 3,
    ...overrides
  })

const run = <A>(effect: Effect.Effect<A, LlmGeneratorError>) => Effect.runPromise(effect)
const runExit = <A>(effect: Effect.Effect<A, LlmGeneratorError>) => Effect.runPromiseExit(effect)
const failureOf = (exit: Exit.Exit<unknown, LlmGeneratorError>): LlmGeneratorError => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (error === undefined || error._tag !== "Fail") throw new Error(`expected a typed failure, got ${String(exit.cause)}`)
  return error.error
}

describe("fillTemplate", () => {
  it("fills fields and nested paths", () => {
    expect(fillTemplate("{{a}} and {{ b }} / {{p.t}} / {{o}}", { a: "x", b: 2, p: { t: 24 }, o: [1] }, 0)).toBe("x and 2 / 24 / [1]")
  })

  it("names the missing field and row", () => {
    expect(() => fillTemplate("Q: {{question}}", { text: "t" }, 7)).toThrow(LlmGeneratorError)
    expect(() => fillTemplate("Q: {{question}}", { text: "t" }, 7)).toThrow(
      "LlmGeneratorError: llm (row 7): prompt template uses {{question}} but the row has no field 'question' (fields: text); add the field or change the template"
    )
  })
})

describe("request helpers", () => {
  it("builds completion URLs", () => {
    expect(completionUrl("http://h:1", "chat")).toBe("http://h:1/v1/chat/completions")
    expect(completionUrl("http://h:1/v1/", "completions")).toBe("http://h:1/v1/completions")
  })

  it("parses Retry-After", () => {
    expect(parseRetryAfter("2")).toBe(2000)
    expect(parseRetryAfter(null)).toBeUndefined()
    expect(parseRetryAfter("soon")).toBeUndefined()
    const now = Date.parse("Fri, 04 Dec 2026 20:00:00 GMT")
    expect(parseRetryAfter("Fri, 04 Dec 2026 20:00:03 GMT", now)).toBe(3000)
    expect(parseRetryAfter("Fri, 04 Dec 2026 19:00:00 GMT", now)).toBe(0)
  })

  it("cache key ignores key order and tracks params", () => {
    const a = requestCacheKey("chat", { model: "m", temperature: 1, messages: [] }, 0)
    const b = requestCacheKey("chat", { messages: [], temperature: 1, model: "m" }, 0)
    expect(a).toBe(b)
    expect(a).toMatch(/^[0-9a-f]{64}$/)
    expect(requestCacheKey("chat", { model: "m", temperature: 0.5, messages: [] }, 0)).not.toBe(a)
    expect(requestCacheKey("chat", { model: "m", temperature: 1, messages: [] }, 1)).not.toBe(a)
  })
})

describe("makeLlmGenerator", () => {
  it("generates n samples per row over chat", async () => {
    const gen = makeLlmGenerator(configFor({ n: 3, system: "You answer {{question}}." }), { cache: null, env: { OPENAI_API_KEY: SECRET } })
    const out = await run(gen.generate([{ question: "one", id: 1 }, { question: "two", id: 2 }]))
    expect(out.length).toBe(6)
    expect(out.map((r) => [r.id, r.sampleIndex])).toEqual([[1, 0], [1, 1], [1, 2], [2, 0], [2, 1], [2, 2]])
    expect(out[0].completion).toBe("Echo: Q: one")
    expect(out[0].model).toBe("test-model")
    expect(out[0].finishReason).toBe("stop")
    expect(server.requests.length).toBe(6)
    const first = server.requests.find((r) => (r.body.messages as Array<{ content: string }>)[1].content === "Q: one")!
    expect(first.path).toBe("/v1/chat/completions")
    expect(first.headers.authorization).toBe(`Bearer ${SECRET}`)
    expect((first.body.messages as Array<{ role: string; content: string }>)[0]).toEqual({ role: "system", content: "You answer one." })
    expect(first.body.top_p).toBe(1)
    expect(first.body.max_tokens).toBe(512)
    expect(new Set(server.requests.map((r) => r.body.seed))).toEqual(new Set([0, 1, 2]))
  })

  it("uses /v1/completions and omits the header without a key", async () => {
    const gen = makeLlmGenerator(configFor({ api: "completions", apiKeyEnv: "MIXWRIGHT_TEST_UNSET_KEY" }), { cache: null, env: {} })
    const out = await run(gen.generate([{ question: "q" }]))
    expect(out[0].completion).toBe("Echo: Q: q")
    expect(server.requests[0].path).toBe("/v1/completions")
    expect(server.requests[0].body.prompt).toBe("Q: q")
    expect(server.requests[0].headers.authorization).toBeUndefined()
  })

  it("honours Retry-After in seconds", async () => {
    server.enqueue({ kind: "status", status: 429, headers: { "retry-after": "1" } })
    const events: Array<LlmEvent> = []
    const gen = makeLlmGenerator(configFor(), { cache: null, onEvent: (e) => events.push(e) })
    const started = performance.now()
    const out = await run(gen.generate([{ question: "q" }]))
    const elapsed = performance.now() - started
    expect(out.length).toBe(1)
    expect(elapsed).toBeGreaterThanOrEqual(950)
    expect(elapsed).toBeLessThan(5000)
    expect(server.requests.length).toBe(2)
    expect(server.requests[1].receivedAt - server.requests[0].receivedAt).toBeGreaterThanOrEqual(950)
    expect(gen.stats().retries).toBe(1)
    const retry = events.find((e) => e.type === "retry")
    expect(retry?.type === "retry" ? retry.delayMs : -1).toBe(1000)
  })

  it("honours Retry-After as an HTTP date on 503", async () => {
    const when = new Date(Date.now() + 2000).toUTCString()
    server.enqueue({ kind: "status", status: 503, headers: { "retry-after": when } })
    const gen = makeLlmGenerator(configFor(), { cache: null })
    const started = performance.now()
    await run(gen.generate([{ question: "q" }]))
    // HTTP dates have one-second resolution, so the wait is between 1 and 2 seconds.
    expect(performance.now() - started).toBeGreaterThanOrEqual(900)
    expect(server.requests.length).toBe(2)
  })

  it("retries 500, malformed JSON and timeouts", async () => {
    server.enqueue({ kind: "status", status: 500 }, { kind: "malformed" }, { kind: "ok", delayMs: 1500 })
    const gen = makeLlmGenerator(configFor({ timeoutMs: 300, maxRetries: 4 }), { cache: null })
    const out = await run(gen.generate([{ question: "q" }]))
    expect(out[0].completion).toBe("Echo: Q: q")
    expect(server.requests.length).toBe(4)
    expect(gen.stats()).toMatchObject({ requests: 4, retries: 3, completions: 1 })
  })

  it("gives up after maxRetries with a clear error", async () => {
    server.enqueue(...Array.from({ length: 3 }, () => ({ kind: "status" as const, status: 502 })))
    const gen = makeLlmGenerator(configFor({ maxRetries: 2 }), { cache: null })
    const error = failureOf(await runExit(gen.generate([{ question: "q" }], 40)))
    expect(error.reason).toBe("RetriesExhausted")
    expect(error.attempts).toBe(3)
    expect(error.status).toBe(502)
    expect(error.message).toContain("row 40 sample 0")
    expect(error.message).toContain("gave up after 3 attempts")
  })

  it("skips and counts failures under onError skip", async () => {
    server.enqueue({ kind: "malformed" }, { kind: "malformed" })
    const gen = makeLlmGenerator(configFor({ maxRetries: 1, onError: "skip", concurrency: 1 }), { cache: null })
    const out = await run(gen.generate([{ question: "a" }, { question: "b" }]))
    expect(out.map((r) => r.question)).toEqual(["b"])
    expect(gen.stats().failures).toBe(1)
  })

  it("never puts the key in errors", async () => {
    server.enqueue({ kind: "status", status: 401, body: JSON.stringify({ error: `invalid key ${SECRET}` }) })
    const gen = makeLlmGenerator(configFor(), { cache: null, env: { OPENAI_API_KEY: SECRET } })
    const error = failureOf(await runExit(gen.generate([{ question: "q" }])))
    expect(error.reason).toBe("Rejected")
    expect(server.requests.length).toBe(1)
    expect(error.message).toContain("HTTP 401")
    expect(error.message).toContain("[redacted]")
    expect(error.message).not.toContain(SECRET)
    expect(JSON.stringify(error)).not.toContain(SECRET)
    expect(String(error)).not.toContain(SECRET)
  })

  it("fails on a missing template field", async () => {
    const gen = makeLlmGenerator(configFor(), { cache: null })
    const error = failureOf(await runExit(gen.generate([{ question: "ok" }, { text: "no question" }], 10)))
    expect(error.reason).toBe("MissingField")
    expect(error.message).toContain("row 11")
    expect(error.message).toContain("'question'")
  })

  it("second run sends zero requests with the cache", async () => {
    const dir = freshDir()
    const rows = [{ question: "a" }, { question: "b" }]
    const first = makeLlmGenerator(configFor({ n: 2, cacheDir: dir }), { env: { OPENAI_API_KEY: SECRET } })
    const out1 = await run(first.generate(rows))
    expect(server.requests.length).toBe(4)
    const files = readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith(".json"))
    expect(files.length).toBe(4)
    for (const f of files) expect(f).not.toContain(SECRET)

    server.requests.length = 0
    const second = makeLlmGenerator(configFor({ n: 2, cacheDir: dir }), { env: { OPENAI_API_KEY: "another-key" } })
    const out2 = await run(second.generate(rows))
    expect(server.requests.length).toBe(0)
    expect(second.stats().cacheHits).toBe(4)
    expect(out2).toEqual(out1)

    // A changed sampling parameter is a different request.
    const third = makeLlmGenerator(configFor({ n: 2, cacheDir: dir, temperature: 0.2 }), {})
    await run(third.generate(rows))
    expect(server.requests.length).toBe(4)
  })

  it("directory cache treats a corrupt entry as a miss", async () => {
    const dir = freshDir()
    const cache = makeDirectoryCache(dir)
    const key = "ab".padEnd(64, "0")
    expect(await Effect.runPromise(cache.get(key))).toBeUndefined()
    await Effect.runPromise(cache.set(key, { completion: "c", model: "m", finishReason: null }))
    expect(await Effect.runPromise(cache.get(key))).toEqual({ completion: "c", model: "m", finishReason: null })
    writeFileSync(join(dir, "ab", `${key}.json`), '{"completion": "trunc')
    expect(await Effect.runPromise(cache.get(key))).toBeUndefined()
  })

  it("bounds requests in flight", async () => {
    for (let i = 0; i < 8; i++) server.enqueue({ kind: "ok", delayMs: 150 })
    server.resetMaxInFlight()
    const cache = makeMemoryCache()
    const gen = makeLlmGenerator(configFor({ concurrency: 3 }), { cache })
    await run(gen.generate(Array.from({ length: 8 }, (_, i) => ({ question: `q${i}` }))))
    expect(server.maxInFlight()).toBe(3)
    expect(cache.size()).toBe(8)
  })

  it("solves countdown prompts on even seeds", async () => {
    const problem = { numbers: [25, 5, 4], target: 24 }
    const gen = makeLlmGenerator(configFor({ prompt: "{{prompt}}", n: 2 }), { cache: null })
    const out = await run(gen.generate([{ prompt: countdownPrompt(problem) }]))
    const verdicts = out.map((r) => verifyCountdown(problem, String(r.completion).split("Answer:")[1] ?? "").ok)
    expect(verdicts).toEqual([true, false])
  })
})

describe("storage cache", () => {
  it("second run sends zero requests through Storage", async () => {
    const root = join(freshDir(), "cache")
    const storage = makeLocalStorage()
    const rows = [{ question: "s1" }, { question: "s2" }]
    server.requests.length = 0
    const first = makeLlmGenerator(configFor(), { cache: makeStorageCache(storage, root) })
    const out1 = await run(first.generate(rows))
    expect(server.requests.length).toBe(2)
    const listed = await Effect.runPromise(storage.list(root))
    expect(listed.length).toBe(2)

    server.requests.length = 0
    const second = makeLlmGenerator(configFor(), { cache: makeStorageCache(storage, root) })
    expect(await run(second.generate(rows))).toEqual(out1)
    expect(server.requests.length).toBe(0)
    expect(second.stats().cacheHits).toBe(2)
  })
})
