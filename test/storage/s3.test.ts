import { inspect } from "node:util"
import { ListObjectsV2Command } from "@aws-sdk/client-s3"
import { Effect, Logger } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { makeStorage } from "../../connectors/storage/layer.ts"
import { makeS3Storage, parseS3Uri, type S3Storage } from "../../connectors/storage/s3.ts"
import { redact } from "../../connectors/storage/s3-client.ts"
import { StorageError } from "../../connectors/storage/Storage.ts"
import { type RunningS3, startS3 } from "../support/s3.ts"
import { conformanceSuite, patternBytes } from "./conformance.ts"

let s3: RunningS3
let storage: S3Storage
let counter = 0
let current: string

const MiB = 1024 * 1024

beforeAll(async () => {
  s3 = await startS3({ buckets: ["test", "empty"] })
  storage = makeS3Storage({ ...s3.options, partSize: 5 * MiB, multipartThreshold: 5 * MiB })
})
afterAll(async () => {
  await s3?.stop()
})
beforeEach(() => {
  current = `s3://test/case-${counter++}`
})

const run = <A>(effect: Effect.Effect<A, StorageError>): Promise<A> => Effect.runPromise(effect)
const fail = (effect: Effect.Effect<unknown, StorageError>): Promise<StorageError> => Effect.runPromise(Effect.flip(effect))

describe("S3 storage conformance", () => {
  conformanceSuite({ storage: () => storage, root: () => current, largeSize: 11 * MiB })
})

describe("S3 storage", () => {
  it("parses s3 URIs verbatim", () => {
    expect(parseS3Uri("s3://b/a b/c%20d")).toEqual({ bucket: "b", key: "a b/c%20d" })
    expect(parseS3Uri("s3://b")).toEqual({ bucket: "b", key: "" })
    expect(parseS3Uri("/local/path")).toBeUndefined()
  })

  it("lists an empty bucket as empty", async () => {
    expect(await run(storage.list("s3://empty"))).toEqual([])
    expect(await run(storage.list("s3://empty/"))).toEqual([])
    expect(await run(storage.glob("s3://empty/**/*.parquet"))).toEqual([])
  })

  it("names a missing bucket in errors", async () => {
    for (const effect of [storage.list("s3://no-such-bucket/x"), storage.read("s3://no-such-bucket/x"), storage.stat("s3://no-such-bucket/x")]) {
      const error = await fail(effect)
      expect(error.reason).toBe("NotFound")
      expect(error.message).toContain(`bucket "no-such-bucket" does not exist`)
      expect(error.message).toContain("create it or fix the bucket name")
    }
  })

  it("detects that s3rver ignores conditional writes", async () => {
    const events: Array<string> = []
    const probing = makeS3Storage({ ...s3.options, onEvent: (event) => events.push(event._tag) })
    expect(probing.conditionalWrites).toBe("unknown")
    // s3rver 3.7 overwrites on PUT with If-None-Match: *, so writeIfAbsent falls back to HEAD then PUT.
    expect(await run(probing.detectConditionalWrites("test"))).toBe("emulated")
    expect(probing.conditionalWrites).toBe("emulated")
    expect(events).toEqual(["ConditionalWritesEmulated"])
    // The probe object is removed again. Listings skip probe objects, so this asks S3 directly.
    const raw = await probing.client.send(new ListObjectsV2Command({ Bucket: "test" }))
    expect((raw.Contents ?? []).filter((item) => item.Key?.includes(".mixwright-probe-"))).toEqual([])
  })

  it("trusts configured conditional writes", async () => {
    const trusting = makeS3Storage({ ...s3.options, conditionalWrites: "supported" })
    expect(trusting.conditionalWrites).toBe("supported")
    expect(await run(trusting.detectConditionalWrites("test"))).toBe("supported")
  })

  it("routes s3 URIs through the layer", async () => {
    const routed = makeStorage({ s3: s3.options })
    const uri = `${current}/routed.bin`
    await run(routed.write(uri, patternBytes(100)))
    expect(await run(routed.read(uri))).toEqual(patternBytes(100))
    expect((await run(routed.list(current))).map((info) => info.uri)).toEqual([uri])
  })

  it("honours AWS_ENDPOINT_URL", async () => {
    const saved = { ...process.env }
    Object.assign(process.env, s3.env)
    try {
      const fromEnv = makeS3Storage()
      const uri = `${current}/env.txt`
      await run(fromEnv.write(uri, new TextEncoder().encode("env")))
      expect(new TextDecoder().decode(await run(storage.read(uri)))).toBe("env")
    } finally {
      for (const key of Object.keys(s3.env)) {
        if (saved[key] === undefined) delete process.env[key]
        else process.env[key] = saved[key]
      }
    }
  })

  it("removes more than one DeleteObjects batch", async () => {
    const keys = Array.from({ length: 1005 }, (_, i) => `${current}/many/${String(i).padStart(4, "0")}`)
    const tiny = new Uint8Array([1])
    await run(Effect.forEach(keys, (uri) => storage.write(uri, tiny), { concurrency: 32, discard: true }))
    expect((await run(storage.list(`${current}/many`))).length).toBe(1005)
    expect(await run(storage.removePrefix(`${current}/many`))).toBe(1005)
    expect(await run(storage.list(`${current}/many`))).toEqual([])
  }, 30_000)

  it("rejects a URI that is not s3", async () => {
    const error = await fail(storage.read("/tmp/x"))
    expect(error.reason).toBe("InvalidArgument")
    expect(error.message).toContain("expected an s3://bucket/key URI")
  })
})

describe("S3 secrets", () => {
  const accessKeyId = "AKIAZZZZEXAMPLE12345"
  const secretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
  const sessionToken = "FwoGZXIvYXdzEXAMPLESESSIONTOKENVALUE0123456789"

  it("keeps credentials out of errors and logs", async () => {
    const events: Array<string> = []
    const leaky = makeS3Storage({
      endpoint: s3.endpoint,
      credentials: { accessKeyId, secretAccessKey, sessionToken },
      onEvent: (event) => events.push(JSON.stringify(event))
    })
    const logs: Array<string> = []
    const error = await Effect.runPromise(
      Effect.flip(leaky.read("s3://test/anything")).pipe(
        Effect.tap((error) => Effect.logError("read failed", error)),
        Effect.provide(Logger.layer([Logger.make(({ message }) => logs.push(inspect(message, { depth: 10 })))]))
      )
    )
    expect(error).toBeInstanceOf(StorageError)
    // s3rver rejects the unknown key id with InvalidAccessKeyId and echoes the id in its XML body.
    expect(error.reason).toBe("AccessDenied")
    const renderings = [
      error.message,
      String(error),
      inspect(error, { depth: 10 }),
      JSON.stringify(error),
      inspect(error.cause, { depth: 10 }),
      ...events,
      ...logs
    ]
    expect(logs.length).toBeGreaterThan(0)
    for (const text of renderings) {
      expect(text).not.toContain(accessKeyId)
      expect(text).not.toContain(secretAccessKey)
      expect(text).not.toContain(sessionToken)
    }
  })

  it("redacts presigned URL parameters", () => {
    const url = "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAQQQQEXAMPLE99999%2F20260101&X-Amz-Signature=abcdef0123456789abcdef&X-Amz-Security-Token=tok123"
    const out = redact(url)
    expect(out).not.toContain("AKIAQQQQEXAMPLE99999")
    expect(out).not.toContain("abcdef0123456789abcdef")
    expect(out).not.toContain("tok123")
    expect(out).toContain("X-Amz-Algorithm=AWS4-HMAC-SHA256")
  })
})
