import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { asyncBufferFor, countingStorage, makeStorage, StorageLive } from "../../connectors/storage/layer.ts"
import { makeLocalStorage, TEMP_PREFIX } from "../../connectors/storage/local.ts"
import { Storage } from "../../connectors/storage/Storage.ts"
import { conformanceSuite, patternBytes } from "./conformance.ts"

let base: string
let counter = 0
let current: string

beforeAll(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "mixwright-storage-"))
})
afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true })
})
beforeEach(() => {
  current = path.join(base, `case-${counter++}`)
})

describe("local storage conformance", () => {
  conformanceSuite({ storage: makeLocalStorage, root: () => current, largeSize: 9 << 20 })
})

describe("local storage through the layer", () => {
  const storage = makeStorage()

  it("accepts file URIs and returns plain paths", async () => {
    const file = path.join(current, "dir with space", "f?.txt")
    const uri = pathToFileURL(path.join(current, "dir with space")).href + "/f?.txt"
    await Effect.runPromise(storage.write(uri, new TextEncoder().encode("x")))
    const listed = await Effect.runPromise(storage.list(pathToFileURL(current).href))
    expect(listed.map((info) => info.uri)).toEqual([file])
  })

  it("rejects unknown schemes", async () => {
    const error = await Effect.runPromise(Effect.flip(storage.read("gs://bucket/key")))
    expect(error.reason).toBe("InvalidArgument")
    expect(error.message).toContain("unsupported URI scheme")
  })

  it("provides the service through StorageLive", async () => {
    const uri = path.join(current, "via-layer.txt")
    const program = Effect.gen(function*() {
      const storage = yield* Storage
      yield* storage.write(uri, new TextEncoder().encode("layer"))
      return yield* storage.read(uri)
    })
    const bytes = await Effect.runPromise(Effect.provide(program, StorageLive as Layer.Layer<Storage>))
    expect(new TextDecoder().decode(bytes)).toBe("layer")
  })

  it("leaves no temporary files after writes", async () => {
    await Effect.runPromise(storage.write(path.join(current, "t.bin"), patternBytes(1000)))
    await Effect.runPromise(storage.writeIfAbsent(path.join(current, "t.bin"), patternBytes(10)))
    const names = await fs.readdir(current)
    expect(names.filter((name) => name.startsWith(TEMP_PREFIX))).toEqual([])
    expect(names).toEqual(["t.bin"])
  })

  it("writeIfAbsent lets one of many concurrent writers win", async () => {
    const uri = path.join(current, "race", "_manifest.json")
    const writers = Array.from({ length: 16 }, (_, i) => storage.writeIfAbsent(uri, new TextEncoder().encode(`writer-${i}`)))
    const results = await Effect.runPromise(Effect.all(writers, { concurrency: "unbounded" }))
    expect(results.filter(Boolean)).toHaveLength(1)
    const winner = results.indexOf(true)
    expect(new TextDecoder().decode(await Effect.runPromise(storage.read(uri)))).toBe(`writer-${winner}`)
  })

  it("asyncBufferFor slices through readRange", async () => {
    const uri = path.join(current, "buf.bin")
    const bytes = patternBytes(4096, 3)
    await Effect.runPromise(storage.write(uri, bytes))
    const counting = countingStorage(storage)
    const buffer = await asyncBufferFor(counting, uri)
    expect(buffer.byteLength).toBe(4096)
    const slice = new Uint8Array(await buffer.slice(100, 200))
    expect(slice).toEqual(bytes.subarray(100, 200))
    const tail = new Uint8Array(await buffer.slice(4000))
    expect(tail).toEqual(bytes.subarray(4000))
    expect(counting.counts.requests).toEqual({ stat: 1, readRange: 2 })
    expect(counting.counts.bytesRead).toBe(196)
    expect(counting.counts.ranges).toEqual([[uri, 100, 200], [uri, 4000, 4096]])
  })

  it("asyncBufferFor rejects a missing object", async () => {
    await expect(asyncBufferFor(storage, path.join(current, "none.parquet"))).rejects.toMatchObject({ reason: "NotFound" })
  })
})
