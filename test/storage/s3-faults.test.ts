/**
 * S3 storage under injected faults: a loopback proxy between the client and s3rver
 * drops connections, answers 500 and 503 SlowDown, delays requests and cuts
 * response bodies short.
 */
import { inspect } from "node:util"
import { Effect, Stream } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { makeS3Storage, type S3Storage } from "../../connectors/storage/s3.ts"
import type { S3StorageEvent } from "../../connectors/storage/s3-client.ts"
import { StorageError } from "../../connectors/storage/Storage.ts"
import { type FaultyProxy, startFaultyProxy } from "../support/faulty-proxy.ts"
import { type RunningS3, startS3 } from "../support/s3.ts"
import { patternBytes } from "./conformance.ts"

const MiB = 1024 * 1024

let s3: RunningS3
let proxy: FaultyProxy
let clean: S3Storage
let counter = 0
let root: string

const run = <A>(effect: Effect.Effect<A, StorageError>): Promise<A> => Effect.runPromise(effect)
const fail = (effect: Effect.Effect<unknown, StorageError>): Promise<StorageError> => Effect.runPromise(Effect.flip(effect))

const throughProxy = (options: Parameters<typeof makeS3Storage>[0] = {}): S3Storage =>
  makeS3Storage({
    ...s3.options,
    endpoint: proxy.endpoint,
    partSize: 5 * MiB,
    multipartThreshold: 5 * MiB,
    retryBaseDelayMs: 5,
    retryMaxDelayMs: 50,
    conditionalWrites: "emulated",
    ...options
  })

const collect = async (stream: Stream.Stream<Uint8Array, StorageError>): Promise<Uint8Array> => {
  const parts = await run(Stream.runCollect(stream))
  return Buffer.concat(parts)
}

beforeAll(async () => {
  s3 = await startS3({ buckets: ["faults"] })
  proxy = await startFaultyProxy({ target: s3.endpoint, seed: 42 })
  clean = makeS3Storage({ ...s3.options, conditionalWrites: "emulated" })
})
afterAll(async () => {
  await proxy?.stop()
  await s3?.stop()
})
beforeEach(() => {
  root = `s3://faults/case-${counter++}`
  proxy.setFaults({})
})

describe("S3 storage with faults", () => {
  it("completes writes and reads with identical bytes", async () => {
    const events: Array<S3StorageEvent> = []
    const storage = throughProxy({ maxAttempts: 10, onEvent: (event) => events.push(event) })
    proxy.setFaults({ drop: 0.1, error500: 0.1, slowDown: 0.05, tooManyRequests: 0.05, delay: 0.1, delayMs: 20, truncate: 0.1 })
    const small = patternBytes(64 * 1024, 5)
    const large = patternBytes(11 * MiB, 6)

    for (let i = 0; i < 8; i++) await run(storage.write(`${root}/small-${i}.bin`, small))
    await run(storage.write(`${root}/large.bin`, large))
    await run(storage.write(`${root}/streamed.bin`, Stream.fromIterable([large.subarray(0, 6 * MiB), large.subarray(6 * MiB)])))

    for (let i = 0; i < 8; i++) expect(Buffer.compare(await run(storage.read(`${root}/small-${i}.bin`)), small)).toBe(0)
    expect(Buffer.compare(await run(storage.read(`${root}/large.bin`)), large)).toBe(0)
    expect(Buffer.compare(await collect(storage.readStream(`${root}/streamed.bin`)), large)).toBe(0)
    expect(Buffer.compare(await run(storage.readRange(`${root}/large.bin`, 1000, 300_000)), large.subarray(1000, 300_000))).toBe(0)
    const listed = await run(storage.list(root))
    expect(listed.map((info) => info.size)).toEqual([large.length, ...Array(8).fill(small.length), large.length])

    // The faults really happened, and the retries are what got the calls through.
    expect(proxy.stats.dropped + proxy.stats.error500 + proxy.stats.slowDown + proxy.stats.tooManyRequests).toBeGreaterThan(3)
    expect(storage.retryCount()).toBeGreaterThan(3)
    expect(events.some((event) => event._tag === "Retry")).toBe(true)
    // The uncorrupted copy on the server matches too.
    expect(Buffer.compare(await run(clean.read(`${root}/large.bin`)), large)).toBe(0)
  }, 30_000)

  it("resumes a stream cut off midway", async () => {
    const bytes = patternBytes(3 * MiB, 8)
    await run(clean.write(`${root}/resume.bin`, bytes))
    proxy.setFaults({ truncate: 1, match: ({ method }) => method === "GET" })
    const storage = throughProxy({ maxAttempts: 3 })
    const truncatedBefore = proxy.stats.truncated
    // Every GET is cut at half of its body, so three GETs deliver 1/2 + 1/4 + 1/8 of the bytes.
    const error = await fail(Stream.runDrain(storage.readStream(`${root}/resume.bin`)))
    expect(error.reason).toBe("Unavailable")
    expect(proxy.stats.truncated - truncatedBefore).toBe(3)
    proxy.setFaults({ truncate: 0.5, match: ({ method }) => method === "GET" })
    const resumed = throughProxy({ maxAttempts: 20 })
    expect(Buffer.compare(await collect(resumed.readStream(`${root}/resume.bin`)), bytes)).toBe(0)
  }, 20_000)

  it("fails a resumed stream whose object was replaced", async () => {
    const uri = `${root}/replaced.bin`
    await run(clean.write(uri, patternBytes(3 * MiB, 1)))
    const checking = await startFaultyProxy({ target: s3.endpoint, enforceIfMatch: true })
    try {
      let gets = 0
      checking.setFaults({ truncate: 1, match: ({ method }) => method === "GET" && ++gets === 1 })
      const storage = throughProxy({ endpoint: checking.endpoint })
      let replaced = false
      // The first chunk arrives before the cut; replacing the object then makes the resume's If-Match fail.
      const consume = storage.readStream(uri).pipe(
        Stream.mapEffect((chunk) =>
          replaced
            ? Effect.succeed(chunk)
            : clean.write(uri, patternBytes(3 * MiB, 2)).pipe(
              Effect.tap(() =>
                Effect.sync(() => {
                  replaced = true
                })
              ),
              Effect.as(chunk)
            )
        ),
        Stream.runDrain
      )
      const error = await fail(consume)
      expect(error.reason).toBe("Unavailable")
      expect(error.message).toContain("the object was replaced after")
      expect(checking.stats.truncated).toBe(1)
      expect(checking.stats.preconditionFailed).toBe(1)
    } finally {
      await checking.stop()
    }
  })

  it("fails throttled calls after the retry budget", async () => {
    const storage = throughProxy({ maxAttempts: 4 })
    proxy.setFaults({ slowDown: 1 })
    const before = proxy.stats.requests
    const started = Date.now()
    const error = await fail(storage.write(`${root}/never.bin`, patternBytes(10)))
    expect(error.reason).toBe("Throttled")
    expect(error.message).toContain("SlowDown")
    expect(error.message).toContain("failed after 4 attempts")
    expect(error.message).toContain(`${root}/never.bin`)
    expect(proxy.stats.requests - before).toBe(4)
    expect(Date.now() - started).toBeLessThan(5_000)
    proxy.setFaults({})
    expect(await run(clean.stat(`${root}/never.bin`))).toBeUndefined()
  })

  it("fails HTTP 429 as Throttled", async () => {
    const storage = throughProxy({ maxAttempts: 2 })
    proxy.setFaults({ tooManyRequests: 1 })
    const error = await fail(storage.list(root))
    expect(error.reason).toBe("Throttled")
    expect(error.message).toContain("HTTP 429")
    expect(error.message).toContain("failed after 2 attempts")
  })

  it("keeps secrets out of SignatureDoesNotMatch errors", async () => {
    const keyId = "AKIAIOSFODNN7ZZEXAMPLE"
    const secret = "wrong/SECRET/value/0123456789abcdefghij"
    const token = "IQoJb3JpZ2luX2VjEXAMPLETOKENabcdefghijklmnopqrstuvwxyz0123456789"
    const storage = throughProxy({ credentials: { accessKeyId: keyId, secretAccessKey: secret, sessionToken: token } })
    proxy.setFaults({ signatureMismatch: 1 })
    const error = await fail(storage.write(`${root}/secret.txt`, new TextEncoder().encode("x")))
    expect(error.reason).toBe("AccessDenied")
    expect(error.message).toContain("SignatureDoesNotMatch")
    expect(error.message).toContain("check the credentials")
    // The proxy's body does contain them, as AWS's does, so the check below is not vacuous.
    expect(proxy.stats.signatureMismatch).toBe(1)
    for (const text of [error.message, String(error), inspect(error, { depth: 10 }), JSON.stringify(error), inspect(error.cause)]) {
      expect(text).not.toContain(keyId)
      expect(text).not.toContain(secret)
      expect(text).not.toContain(token)
    }
  })

  it("fails dropped connections as Unavailable", async () => {
    const storage = throughProxy({ maxAttempts: 3 })
    proxy.setFaults({ drop: 1 })
    const error = await fail(storage.read(`${root}/x.bin`))
    expect(error.reason).toBe("Unavailable")
    expect(error.message).toContain("failed after 3 attempts")
  })

  it("stops retrying when the shared budget runs out", async () => {
    const events: Array<S3StorageEvent> = []
    // 10 tokens pay for two retries at 5 each; later calls fail on their first error.
    const storage = throughProxy({ maxAttempts: 10, retryBudget: 10, onEvent: (event) => events.push(event) })
    proxy.setFaults({ error500: 1 })
    const first = await fail(storage.read(`${root}/a.bin`))
    expect(first.message).toContain("failed after 3 attempts")
    const second = await fail(storage.read(`${root}/b.bin`))
    expect(second.reason).toBe("Unavailable")
    expect(second.message).not.toContain("attempts")
    expect(events.filter((event) => event._tag === "RetryBudgetExhausted").length).toBe(2)
  })

  it("times out stalled requests", async () => {
    const storage = throughProxy({ maxAttempts: 2, requestTimeoutMs: 200 })
    proxy.setFaults({ delay: 1, delayMs: 1_000 })
    const started = Date.now()
    const error = await fail(storage.stat(`${root}/slow.bin`))
    expect(error.reason).toBe("Timeout")
    expect(Date.now() - started).toBeLessThan(1_500)
  })

  it("never exposes a half-written multipart object", async () => {
    const storage = throughProxy({ maxAttempts: 2 })
    // The first part goes through, every later part fails.
    let parts = 0
    proxy.setFaults({
      error500: 1,
      match: ({ method, url }) => method === "PUT" && url.includes("partNumber=") && ++parts > 1
    })
    const error = await fail(storage.write(`${root}/partial.bin`, patternBytes(16 * MiB, 9)))
    expect(error.reason).toBe("Unavailable")
    // The part's error is reported, not a later failure to abort the upload.
    expect(error.message).toContain("InternalError")
    proxy.setFaults({})
    expect(await run(clean.stat(`${root}/partial.bin`))).toBeUndefined()
    expect(await run(clean.list(root))).toEqual([])
  }, 20_000)

  it("never exposes an object whose source stream failed", async () => {
    const storage = throughProxy()
    const broken = Stream.concat(
      Stream.fromIterable([patternBytes(6 * MiB, 1)]),
      Stream.fail(new StorageError({ reason: "Unknown", method: "source", uri: "generator", description: "source broke" }))
    )
    const error = await fail(storage.write(`${root}/broken.bin`, broken))
    expect(error.description).toBe("source broke")
    expect(await run(clean.stat(`${root}/broken.bin`))).toBeUndefined()
    const smallBroken = Stream.concat(
      Stream.fromIterable([patternBytes(100, 1)]),
      Stream.fail(new StorageError({ reason: "Unknown", method: "source", uri: "generator", description: "small source broke" }))
    )
    expect((await fail(storage.write(`${root}/broken-small.bin`, smallBroken))).description).toBe("small source broke")
    expect(await run(clean.list(root))).toEqual([])
  }, 20_000)

  it("interrupting a multipart write leaves no object", async () => {
    const storage = throughProxy()
    // Parts after the first stall for 5 s, so the upload is still running at the timeout.
    let parts = 0
    proxy.setFaults({
      delay: 1,
      delayMs: 5_000,
      match: ({ method, url }) => method === "PUT" && url.includes("partNumber=") && ++parts > 1
    })
    const started = Date.now()
    const outcome = await Effect.runPromise(
      storage.write(`${root}/interrupted.bin`, patternBytes(16 * MiB, 3)).pipe(Effect.timeoutOption("1 second"))
    )
    expect(outcome._tag).toBe("None")
    expect(Date.now() - started).toBeLessThan(4_000)
    proxy.setFaults({})
    expect(await run(clean.stat(`${root}/interrupted.bin`))).toBeUndefined()
  }, 20_000)

  it("retries a write whose response was lost", async () => {
    const storage = throughProxy({ maxAttempts: 3 })
    let puts = 0
    proxy.setFaults({ dropResponse: 1, match: ({ method }) => method === "PUT" && ++puts === 1 })
    const bytes = patternBytes(1000, 4)
    await run(storage.write(`${root}/lost-response.bin`, bytes))
    expect(proxy.stats.droppedResponses).toBeGreaterThan(0)
    expect(Buffer.compare(await run(clean.read(`${root}/lost-response.bin`)), bytes)).toBe(0)
  })
})
