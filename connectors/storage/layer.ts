/**
 * The storage layer: routes each call by URI scheme. Plain paths and `file://` URIs
 * go to local disk; `s3://` URIs go to S3.
 */
import { Effect, Layer, Stream } from "effect"
import { makeLocalStorage } from "./local.ts"
import { makeS3Storage, type S3StorageOptions } from "./s3.ts"
import { isS3Uri, Storage, StorageError, type StorageService } from "./Storage.ts"

export { asyncBufferFor, countingStorage } from "./adapters.ts"
export type { AsyncBuffer, CountingStorage, StorageCounts } from "./adapters.ts"

export interface StorageOptions {
  /** Options for the S3 client; the defaults come from the AWS SDK chain and `AWS_ENDPOINT_URL`. */
  readonly s3?: S3StorageOptions
  /** Replaces the S3 implementation; called once, on the first `s3://` call. */
  readonly makeS3?: () => StorageService
}

const unsupportedScheme = (method: string, uri: string): StorageError =>
  new StorageError({
    reason: "InvalidArgument",
    method,
    uri,
    description: "unsupported URI scheme; use a local path, a file:// URI or an s3:// URI"
  })

/** Matches `scheme://` at the start of a URI, for schemes other than file and s3. */
const OTHER_SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//

/** Creates a storage service that dispatches each call on the scheme of its URI. */
export const makeStorage = (options: StorageOptions = {}): StorageService => {
  const local = makeLocalStorage()
  let s3: StorageService | undefined

  const pick = (method: string, uri: string): Effect.Effect<StorageService, StorageError> => {
    if (isS3Uri(uri)) {
      // The S3 client is built on first use, so local-only runs never load credentials.
      s3 ??= options.makeS3 ? options.makeS3() : makeS3Storage(options.s3)
      return Effect.succeed(s3)
    }
    if (!uri.startsWith("file://") && OTHER_SCHEME.test(uri)) return Effect.fail(unsupportedScheme(method, uri))
    return Effect.succeed(local)
  }

  return {
    list: (prefix) => Effect.flatMap(pick("list", prefix), (impl) => impl.list(prefix)),
    glob: (pattern) => Effect.flatMap(pick("glob", pattern), (impl) => impl.glob(pattern)),
    stat: (uri) => Effect.flatMap(pick("stat", uri), (impl) => impl.stat(uri)),
    readRange: (uri, start, end) => Effect.flatMap(pick("readRange", uri), (impl) => impl.readRange(uri, start, end)),
    read: (uri) => Effect.flatMap(pick("read", uri), (impl) => impl.read(uri)),
    readStream: (uri) => Stream.unwrap(Effect.map(pick("readStream", uri), (impl) => impl.readStream(uri))),
    write: (uri, body) => Effect.flatMap(pick("write", uri), (impl) => impl.write(uri, body)),
    writeIfAbsent: (uri, body) => Effect.flatMap(pick("writeIfAbsent", uri), (impl) => impl.writeIfAbsent(uri, body)),
    remove: (uri) => Effect.flatMap(pick("remove", uri), (impl) => impl.remove(uri)),
    removePrefix: (prefix) => Effect.flatMap(pick("removePrefix", prefix), (impl) => impl.removePrefix(prefix))
  }
}

/** Builds a layer for storage with the given options. */
export const makeStorageLayer = (options: StorageOptions = {}): Layer.Layer<Storage> =>
  Layer.sync(Storage, () => makeStorage(options))

/** Storage for local paths, `file://` and `s3://` URIs, with S3 settings from the environment. */
export const StorageLive: Layer.Layer<Storage> = makeStorageLayer()
