/**
 * Promise-facing adapters over a storage service: a hyparquet `AsyncBuffer` for
 * ranged Parquet reads, and a wrapper that counts requests and bytes.
 */
import { Effect, Stream } from "effect"
import { StorageError, type StorageService } from "./Storage.ts"

/** The `AsyncBuffer` shape hyparquet reads from (`byteLength` plus ranged `slice`). */
export interface AsyncBuffer {
  readonly byteLength: number
  slice(start: number, end?: number): Promise<ArrayBuffer>
}

const toArrayBuffer = (bytes: Uint8Array): ArrayBuffer =>
  bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
    ? bytes.buffer
    : (bytes.slice().buffer as ArrayBuffer)

/**
 * Builds a hyparquet `AsyncBuffer` for one object: one `stat` now, then one
 * `readRange` per `slice` call. Rejects with `StorageError` (reason `NotFound` when
 * the object does not exist).
 */
export const asyncBufferFor = async (storage: StorageService, uri: string): Promise<AsyncBuffer> => {
  const info = await Effect.runPromise(storage.stat(uri))
  if (info === undefined) {
    throw new StorageError({ reason: "NotFound", method: "stat", uri, description: "object not found" })
  }
  const byteLength = info.size
  return {
    byteLength,
    slice: (start: number, end?: number) =>
      Effect.runPromise(storage.readRange(uri, start, end ?? byteLength)).then(toArrayBuffer)
  }
}

/** Request and byte counts collected by `countingStorage`. */
export interface StorageCounts {
  /** Calls made through the wrapper, by method name. */
  readonly requests: Record<string, number>
  /** Bytes returned by `read`, `readRange` and `readStream`. */
  bytesRead: number
  /** Bytes passed to `write` and `writeIfAbsent`. */
  bytesWritten: number
  /** Each `readRange` call as `[start, end)`, in call order. */
  readonly ranges: Array<readonly [uri: string, start: number, end: number]>
}

export interface CountingStorage extends StorageService {
  readonly counts: StorageCounts
  /** Sets every count back to zero. */
  readonly reset: () => void
}

/** Wraps a storage service so tests and benchmarks can count requests and bytes read. */
export const countingStorage = (storage: StorageService): CountingStorage => {
  const counts: StorageCounts = { requests: {}, bytesRead: 0, bytesWritten: 0, ranges: [] }
  const count = (method: string) => {
    counts.requests[method] = (counts.requests[method] ?? 0) + 1
  }
  const reset = () => {
    for (const key of Object.keys(counts.requests)) delete counts.requests[key]
    counts.bytesRead = 0
    counts.bytesWritten = 0
    counts.ranges.length = 0
  }
  const countRead = <E>(effect: Effect.Effect<Uint8Array, E>): Effect.Effect<Uint8Array, E> =>
    Effect.tap(effect, (bytes) =>
      Effect.sync(() => {
        counts.bytesRead += bytes.byteLength
      })
    )
  return {
    counts,
    reset,
    list: (prefix) => Effect.suspend(() => (count("list"), storage.list(prefix))),
    glob: (pattern) => Effect.suspend(() => (count("glob"), storage.glob(pattern))),
    stat: (uri) => Effect.suspend(() => (count("stat"), storage.stat(uri))),
    readRange: (uri, start, end) =>
      Effect.suspend(() => {
        count("readRange")
        counts.ranges.push([uri, start, end])
        return storage.readRange(uri, start, end)
      }).pipe(countRead),
    read: (uri) => Effect.suspend(() => (count("read"), storage.read(uri))).pipe(countRead),
    readStream: (uri) =>
      Stream.suspend(() => {
        count("readStream")
        return storage.readStream(uri)
      }).pipe(
        Stream.tap((bytes) =>
          Effect.sync(() => {
            counts.bytesRead += bytes.byteLength
          })
        )
      ),
    write: (uri, body) =>
      Effect.suspend(() => {
        count("write")
        if (body instanceof Uint8Array) {
          counts.bytesWritten += body.byteLength
          return storage.write(uri, body)
        }
        return storage.write(
          uri,
          body.pipe(
            Stream.tap((bytes) =>
              Effect.sync(() => {
                counts.bytesWritten += bytes.byteLength
              })
            )
          )
        )
      }),
    writeIfAbsent: (uri, body) =>
      Effect.suspend(() => {
        count("writeIfAbsent")
        counts.bytesWritten += body.byteLength
        return storage.writeIfAbsent(uri, body)
      }),
    remove: (uri) => Effect.suspend(() => (count("remove"), storage.remove(uri))),
    removePrefix: (prefix) => Effect.suspend(() => (count("removePrefix"), storage.removePrefix(prefix)))
  }
}
