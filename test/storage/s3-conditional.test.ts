/**
 * writeIfAbsent against a store that honours `If-None-Match: *`. s3rver 3.7 ignores
 * the header, so these tests put the loopback proxy in front of it with
 * `enforceIfNoneMatch`, which answers 412 for existing keys the way AWS S3 does. The
 * proxy stands in for the server's conditional-write logic only; the objects, the
 * signatures and everything else are s3rver's.
 */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeS3Storage } from "../../connectors/storage/s3.ts"
import { type FaultyProxy, startFaultyProxy } from "../support/faulty-proxy.ts"
import { type RunningS3, startS3 } from "../support/s3.ts"

let s3: RunningS3
let proxy: FaultyProxy

beforeAll(async () => {
  s3 = await startS3({ buckets: ["cond"] })
  proxy = await startFaultyProxy({ target: s3.endpoint, enforceIfNoneMatch: true })
})
afterAll(async () => {
  await proxy?.stop()
  await s3?.stop()
})

const text = (value: string) => new TextEncoder().encode(value)
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

describe("S3 conditional writes", () => {
  it("detects a store that honours If-None-Match", async () => {
    const storage = makeS3Storage({ ...s3.options, endpoint: proxy.endpoint })
    expect(await Effect.runPromise(storage.detectConditionalWrites("cond"))).toBe("supported")
    expect(storage.conditionalWrites).toBe("supported")
    expect(proxy.stats.preconditionFailed).toBeGreaterThanOrEqual(1)
    expect(await Effect.runPromise(storage.list("s3://cond"))).toEqual([])
  })

  it("probes next to the target key", async () => {
    const seen: Array<string> = []
    const watching = await startFaultyProxy({
      target: s3.endpoint,
      enforceIfNoneMatch: true,
      faults: {
        match: ({ method, url }) => {
          if (method === "PUT") seen.push(decodeURIComponent(url))
          return false
        }
      }
    })
    try {
      const storage = makeS3Storage({ ...s3.options, endpoint: watching.endpoint })
      expect(await Effect.runPromise(storage.writeIfAbsent("s3://cond/team/runs/b/_manifest.json", text("x")))).toBe(true)
      const probes = seen.filter((url) => url.includes(".mixwright-probe-"))
      expect(probes.length).toBe(2)
      for (const url of probes) expect(url.startsWith("/cond/team/runs/b/.mixwright-probe-")).toBe(true)
    } finally {
      await watching.stop()
    }
  })

  it("writeIfAbsent maps 412 to false", async () => {
    const storage = makeS3Storage({ ...s3.options, endpoint: proxy.endpoint })
    const uri = "s3://cond/runs/a/_manifest.json"
    expect(await Effect.runPromise(storage.writeIfAbsent(uri, text("first")))).toBe(true)
    expect(await Effect.runPromise(storage.writeIfAbsent(uri, text("second")))).toBe(false)
    expect(decode(await Effect.runPromise(storage.read(uri)))).toBe("first")
  })

  it("lets one of many concurrent writers win", async () => {
    const storage = makeS3Storage({ ...s3.options, endpoint: proxy.endpoint })
    const uri = "s3://cond/runs/race/_manifest.json"
    const writers = Array.from({ length: 12 }, (_, i) => storage.writeIfAbsent(uri, text(`writer-${i}`)))
    const results = await Effect.runPromise(Effect.all(writers, { concurrency: "unbounded" }))
    expect(results.filter(Boolean)).toHaveLength(1)
    expect(decode(await Effect.runPromise(storage.read(uri)))).toBe(`writer-${results.indexOf(true)}`)
  })
})
