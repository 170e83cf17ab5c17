/**
 * Behaviour every storage implementation must share, run against local disk and S3.
 * `root()` returns a fresh, empty prefix (a directory path or an `s3://bucket/prefix`).
 */
import { Effect, Stream } from "effect"
import { expect, it } from "vitest"
import { joinUri, StorageError, type StorageService } from "../../connectors/storage/Storage.ts"

export interface ConformanceTarget {
  readonly storage: () => StorageService
  readonly root: () => string
  /** Size used for the "multipart-sized" write; above the S3 single-PUT threshold. */
  readonly largeSize: number
}

const run = <A>(effect: Effect.Effect<A, StorageError>): Promise<A> => Effect.runPromise(effect)

const runError = async (effect: Effect.Effect<unknown, StorageError>): Promise<StorageError> => {
  const result = await Effect.runPromise(Effect.flip(effect))
  expect(result).toBeInstanceOf(StorageError)
  return result
}

const text = (value: string) => new TextEncoder().encode(value)
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/** Deterministic pseudo-random bytes, so a mixed-up chunk order cannot pass. */
export const patternBytes = (size: number, seed = 1): Uint8Array => {
  const out = new Uint8Array(size)
  let state = seed >>> 0 || 1
  for (let i = 0; i < size; i++) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    out[i] = state & 0xff
  }
  return out
}

const chunked = (bytes: Uint8Array, chunk: number): Stream.Stream<Uint8Array, StorageError> => {
  const parts: Array<Uint8Array> = []
  for (let offset = 0; offset < bytes.length; offset += chunk) parts.push(bytes.subarray(offset, offset + chunk))
  return Stream.fromIterable(parts)
}

export const conformanceSuite = (target: ConformanceTarget): void => {
  const s = () => target.storage()

  it("writes and reads small objects", async () => {
    const uri = joinUri(target.root(), "a/b/c.txt")
    await run(s().write(uri, text("hello")))
    expect(decode(await run(s().read(uri)))).toBe("hello")
    const info = await run(s().stat(uri))
    expect(info?.size).toBe(5)
    await run(s().write(uri, text("replaced")))
    expect(decode(await run(s().read(uri)))).toBe("replaced")
  })

  it("stat of a missing object is undefined", async () => {
    expect(await run(s().stat(joinUri(target.root(), "missing.bin")))).toBeUndefined()
  })

  it("read of a missing object fails NotFound", async () => {
    const error = await runError(s().read(joinUri(target.root(), "missing.bin")))
    expect(error.reason).toBe("NotFound")
    expect(error.message).toContain("missing.bin")
    const streamed = await runError(Stream.runDrain(s().readStream(joinUri(target.root(), "missing.bin"))))
    expect(streamed.reason).toBe("NotFound")
  })

  it("lists recursively and sorted", async () => {
    const root = target.root()
    const names = ["z.txt", "a/2.txt", "a/1.txt", "a/deep/er/x.txt", "ab.txt"]
    for (const name of names) await run(s().write(joinUri(root, name), text(name)))
    const listed = await run(s().list(root))
    expect(listed.map((info) => info.uri)).toEqual(
      ["a/1.txt", "a/2.txt", "a/deep/er/x.txt", "ab.txt", "z.txt"].map((name) => joinUri(root, name))
    )
    expect(listed.map((info) => info.size)).toEqual([7, 7, 15, 6, 5])
    // A prefix is a path: `a` lists `a/...`, never `ab.txt`.
    const underA = await run(s().list(joinUri(root, "a")))
    expect(underA.map((info) => info.uri)).toEqual(
      ["a/1.txt", "a/2.txt", "a/deep/er/x.txt"].map((name) => joinUri(root, name))
    )
    expect(await run(s().list(joinUri(root, "nothing-here")))).toEqual([])
  })

  it("globs with star, globstar, question mark and braces", async () => {
    const root = target.root()
    const names = ["d/p-0.parquet", "d/p-1.parquet", "d/p-10.parquet", "d/x.jsonl", "d/sub/p-2.parquet", "e/p-3.parquet"]
    for (const name of names) await run(s().write(joinUri(root, name), text("x")))
    const uris = async (pattern: string) => (await run(s().glob(joinUri(root, pattern)))).map((info) => info.uri)
    expect(await uris("d/*.parquet")).toEqual(["d/p-0.parquet", "d/p-1.parquet", "d/p-10.parquet"].map((n) => joinUri(root, n)))
    expect(await uris("d/p-?.parquet")).toEqual(["d/p-0.parquet", "d/p-1.parquet"].map((n) => joinUri(root, n)))
    expect(await uris("d/**/*.parquet")).toEqual(
      ["d/p-0.parquet", "d/p-1.parquet", "d/p-10.parquet", "d/sub/p-2.parquet"].map((n) => joinUri(root, n))
    )
    expect(await uris("{d,e}/p-{0,3}.parquet")).toEqual(["d/p-0.parquet", "e/p-3.parquet"].map((n) => joinUri(root, n)))
    expect(await uris("**/*.jsonl")).toEqual([joinUri(root, "d/x.jsonl")])
    expect(await uris("d/x.jsonl")).toEqual([joinUri(root, "d/x.jsonl")])
    expect(await uris("nope/*.parquet")).toEqual([])
  })

  it("reads byte ranges", async () => {
    const uri = joinUri(target.root(), "range.bin")
    const bytes = patternBytes(10_000, 7)
    await run(s().write(uri, bytes))
    expect(await run(s().readRange(uri, 0, 10))).toEqual(bytes.subarray(0, 10))
    expect(await run(s().readRange(uri, 5000, 6001))).toEqual(bytes.subarray(5000, 6001))
    expect(await run(s().readRange(uri, 9990, 10_000))).toEqual(bytes.subarray(9990))
    expect((await run(s().readRange(uri, 100, 100))).byteLength).toBe(0)
    // A range that starts at the end is empty; one that starts past it is invalid.
    expect((await run(s().readRange(uri, 10_000, 10_005))).byteLength).toBe(0)
    const past = await runError(s().readRange(uri, 10_001, 10_005))
    expect(past.reason).toBe("InvalidArgument")
    expect(past.message).toContain("starts past the end of the 10000-byte")
    // An end past the object's size stops at the last byte.
    expect(await run(s().readRange(uri, 9995, 20_000))).toEqual(bytes.subarray(9995))
    const bad = await runError(s().readRange(uri, 10, 5))
    expect(bad.reason).toBe("InvalidArgument")
    const missing = await runError(s().readRange(joinUri(target.root(), "missing.bin"), 0, 5))
    expect(missing.reason).toBe("NotFound")
  })

  it("streams writes and reads of large objects", async () => {
    const uri = joinUri(target.root(), "big/large.bin")
    const bytes = patternBytes(target.largeSize, 11)
    await run(s().write(uri, chunked(bytes, 1 << 20)))
    expect((await run(s().stat(uri)))?.size).toBe(bytes.length)
    const streamed = await run(Stream.runCollect(s().readStream(uri)))
    const joined = new Uint8Array(streamed.reduce((sum, part) => sum + part.byteLength, 0))
    let offset = 0
    for (const part of streamed) {
      joined.set(part, offset)
      offset += part.byteLength
    }
    expect(joined.byteLength).toBe(bytes.byteLength)
    expect(Buffer.compare(joined, bytes)).toBe(0)
  })

  it("writeIfAbsent succeeds once", async () => {
    const uri = joinUri(target.root(), "commit/_manifest.json")
    expect(await run(s().writeIfAbsent(uri, text("first")))).toBe(true)
    expect(await run(s().writeIfAbsent(uri, text("second")))).toBe(false)
    expect(decode(await run(s().read(uri)))).toBe("first")
  })

  it("removes objects and prefixes", async () => {
    const root = target.root()
    for (const name of ["keep/1", "gone/1", "gone/2", "gone/x/3", "gonex"]) await run(s().write(joinUri(root, name), text(name)))
    await run(s().remove(joinUri(root, "keep/1")))
    expect(await run(s().stat(joinUri(root, "keep/1")))).toBeUndefined()
    // Removing an absent object succeeds.
    await run(s().remove(joinUri(root, "keep/1")))
    expect(await run(s().removePrefix(joinUri(root, "gone")))).toBe(3)
    expect((await run(s().list(root))).map((info) => info.uri)).toEqual([joinUri(root, "gonex")])
    expect(await run(s().removePrefix(joinUri(root, "gone")))).toBe(0)
  })

  it("handles spaces, unicode and deep keys", async () => {
    const root = target.root()
    const names = ["with space/file name.txt", "unicodé/日本語/ファイル.txt", "d1/d2/d3/d4/d5/d6/d7/d8/leaf.txt"]
    for (const name of names) await run(s().write(joinUri(root, name), text(name)))
    for (const name of names) expect(decode(await run(s().read(joinUri(root, name))))).toBe(name)
    const listed = (await run(s().list(root))).map((info) => info.uri)
    expect(listed).toEqual([...names].map((name) => joinUri(root, name)).sort())
    expect((await run(s().glob(joinUri(root, "unicodé/*/*.txt")))).map((info) => info.uri)).toEqual([joinUri(root, names[1])])
  })

  it("lists nothing under an empty prefix", async () => {
    expect(await run(s().list(target.root()))).toEqual([])
    expect(await run(s().glob(joinUri(target.root(), "**")))).toEqual([])
  })
}
