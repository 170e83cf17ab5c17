/**
 * S3 implementation of the storage service, for AWS S3 and S3-compatible stores.
 *
 * URIs are `s3://bucket/key` with the key taken verbatim (no percent-decoding), so
 * keys may contain spaces and any Unicode. Listing treats a prefix as a path, like
 * the local implementation: `list("s3://b/a")` returns the object `a` and everything
 * under `a/`, never `ab`.
 */
import { Readable } from "node:stream"
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client
} from "@aws-sdk/client-s3"
import { Upload } from "@aws-sdk/lib-storage"
import { Effect, Stream } from "effect"
import { compareUris, globToRegExp, literalPrefix } from "./glob.ts"
import {
  BackoffRetryStrategy,
  DEFAULT_PART_SIZE,
  describeSdkError,
  makeS3Client,
  reasonForSdkError,
  redact,
  registerSecrets,
  resolveEndpoint,
  s3Error,
  type S3StorageOptions
} from "./s3-client.ts"
import { type ObjectInfo, StorageError, type StorageService } from "./Storage.ts"

export type { S3StorageEvent, S3StorageOptions } from "./s3-client.ts"

export type ConditionalWrites = "supported" | "emulated"

export interface S3Storage extends StorageService {
  /**
   * Mode of `writeIfAbsent` on the last bucket probed: `"supported"` uses a
   * conditional PUT (`If-None-Match: *`), `"emulated"` uses HEAD then PUT and cannot
   * guarantee that only one writer succeeds. `"unknown"` until the first probe.
   */
  readonly conditionalWrites: ConditionalWrites | "unknown"
  /**
   * Probes (once per bucket) whether the store honours conditional PUTs. The probe
   * object goes next to `nearKey` (default: the bucket root), so credentials limited
   * to a prefix can run it.
   */
  readonly detectConditionalWrites: (bucket: string, nearKey?: string) => Effect.Effect<ConditionalWrites, StorageError>
  /** The SDK client, for callers that need an operation this interface lacks. */
  readonly client: S3Client
  /** Retries made so far by this client. */
  readonly retryCount: () => number
}

interface S3Location {
  readonly bucket: string
  readonly key: string
}

/** Splits `s3://bucket/key` into bucket and key. */
export const parseS3Uri = (uri: string): S3Location | undefined => {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/s.exec(uri)
  if (!match) return undefined
  return { bucket: match[1], key: match[2] ?? "" }
}

const toUri = (bucket: string, key: string): string => `s3://${bucket}/${key}`

/** Reports whether an error from reading a response body should be retried by reissuing the request. */
const isTransientBodyError = (error: unknown): boolean => {
  const reason = reasonForSdkError(error)
  return reason === "Unavailable" || reason === "Timeout" || reason === "Throttled" ||
    (error instanceof Error && /aborted|premature close|socket hang up|terminated/i.test(error.message))
}

/** Views a chunk as a plain `Uint8Array` (the SDK yields `Buffer`s) without copying. */
const asPlainBytes = (chunk: Uint8Array): Uint8Array =>
  chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)

const concat = (chunks: ReadonlyArray<Uint8Array>, total: number): Uint8Array => {
  if (chunks.length === 1) return asPlainBytes(chunks[0])
  const out = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

const collectBody = async (body: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array> => {
  if (body === undefined) return new Uint8Array(0)
  const chunks: Array<Uint8Array> = []
  let total = 0
  for await (const chunk of body) {
    chunks.push(chunk)
    total += chunk.byteLength
  }
  return concat(chunks, total)
}

/** Name prefix of the temporary objects the conditional-write probe creates; listings skip them. */
const PROBE_PREFIX = ".mixwright-probe-"

const isProbeKey = (key: string): boolean => key.slice(key.lastIndexOf("/") + 1).startsWith(PROBE_PREFIX)

/** Creates the S3 storage service. The client is built once and shared by all calls. */
export const makeS3Storage = (options: S3StorageOptions = {}): S3Storage => {
  const retryStrategy = new BackoffRetryStrategy({
    maxAttempts: options.maxAttempts ?? 5,
    baseDelayMs: options.retryBaseDelayMs ?? 100,
    maxDelayMs: options.retryMaxDelayMs ?? 5_000,
    budget: options.retryBudget ?? 500,
    onEvent: options.onEvent
  })
  const staticCredentials = options.credentials
  if (staticCredentials && typeof staticCredentials === "object") {
    registerSecrets(staticCredentials.accessKeyId, staticCredentials.secretAccessKey, staticCredentials.sessionToken)
  }
  registerSecrets(process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY, process.env.AWS_SESSION_TOKEN)
  const client = options.client ?? makeS3Client(options, retryStrategy)
  const partSize = Math.max(options.partSize ?? DEFAULT_PART_SIZE, 5 * 1024 * 1024)
  const threshold = options.multipartThreshold ?? partSize
  const uploadConcurrency = options.uploadConcurrency ?? 4
  const maxBodyAttempts = options.maxAttempts ?? 5
  const configuredConditional = options.conditionalWrites ?? "auto"
  const conditionalByBucket = new Map<string, ConditionalWrites>()
  const existingBuckets = new Set<string>()
  let lastConditional: ConditionalWrites | "unknown" = configuredConditional === "auto" ? "unknown" : configuredConditional

  const locate = (method: string, uri: string): Effect.Effect<S3Location, StorageError> => {
    const location = parseS3Uri(uri)
    if (location === undefined) {
      return Effect.fail(
        new StorageError({ reason: "InvalidArgument", method, uri: redact(uri), description: "expected an s3://bucket/key URI" })
      )
    }
    return Effect.succeed(location)
  }

  /**
   * Runs one SDK call with interruption support and error mapping. A call that
   * succeeded only after retries is logged at debug level with its attempt count.
   */
  const call = <A>(method: string, uri: string, bucket: string, run: (signal: AbortSignal) => Promise<A>) =>
    Effect.tryPromise({ try: run, catch: (error) => s3Error(method, redact(uri), bucket, error) }).pipe(
      Effect.tap((output) => {
        const attempts = (output as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts ?? 1
        return attempts > 1
          ? Effect.logDebug(`Storage.${method} (${redact(uri)}) succeeded after ${attempts} attempts`)
          : Effect.void
      })
    )

  /** Lists every key that starts with `prefix` (a raw string prefix), following continuation tokens. */
  const listRaw = (method: string, uri: string, bucket: string, prefix: string) =>
    call(method, uri, bucket, async (abortSignal) => {
      const out: Array<ObjectInfo> = []
      let token: string | undefined
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
          { abortSignal }
        )
        for (const item of page.Contents ?? []) {
          if (item.Key === undefined || isProbeKey(item.Key)) continue
          out.push({ uri: toUri(bucket, item.Key), size: Number(item.Size ?? 0) })
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token !== undefined)
      existingBuckets.add(bucket)
      return out
    })

  /** Lists `key` itself and everything under `key/`. */
  const listPath = (method: string, uri: string, location: S3Location) =>
    Effect.map(listRaw(method, uri, location.bucket, location.key), (found) => {
      const { bucket, key } = location
      if (key === "" || key.endsWith("/")) return found.sort(compareUris)
      const exact = toUri(bucket, key)
      const under = exact + "/"
      return found.filter((info) => info.uri === exact || info.uri.startsWith(under)).sort(compareUris)
    })

  const list = (prefix: string) => Effect.flatMap(locate("list", prefix), (location) => listPath("list", prefix, location))

  const glob = (pattern: string) =>
    Effect.gen(function*() {
      const location = yield* locate("glob", pattern)
      if (/[*?[{\\]/.test(location.bucket)) {
        return yield* new StorageError({
          reason: "InvalidArgument",
          method: "glob",
          uri: pattern,
          description: "glob syntax is allowed in the key only, not in the bucket name"
        })
      }
      const regexp = yield* Effect.try({
        try: () => globToRegExp(location.key),
        catch: (cause) =>
          new StorageError({ reason: "InvalidArgument", method: "glob", uri: pattern, description: `invalid glob pattern: ${String(cause)}` })
      })
      const prefix = literalPrefix(location.key)
      const found = yield* listRaw("glob", pattern, location.bucket, prefix)
      const keyStart = `s3://${location.bucket}/`.length
      return found.filter((info) => regexp.test(info.uri.slice(keyStart))).sort(compareUris)
    })

  /**
   * Fails with NotFound naming the bucket when it does not exist. A HEAD request for a
   * missing object and for a missing bucket both return a bare 404, so the first miss
   * in each bucket is followed by one HeadBucket.
   */
  const checkBucket = (method: string, uri: string, bucket: string) =>
    existingBuckets.has(bucket)
      ? Effect.void
      : call(method, uri, bucket, async (abortSignal) => {
        try {
          await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal })
          existingBuckets.add(bucket)
        } catch (error) {
          if (reasonForSdkError(error) === "NotFound") {
            throw Object.assign(new Error("The specified bucket does not exist"), {
              name: "NoSuchBucket",
              $metadata: { httpStatusCode: 404 }
            })
          }
          throw error
        }
      })

  const stat = (uri: string) =>
    Effect.gen(function*() {
      const location = yield* locate("stat", uri)
      const head = yield* call("stat", uri, location.bucket, (abortSignal) =>
        client.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }), { abortSignal })
      ).pipe(
        Effect.map((output) => ({ uri, size: Number(output.ContentLength ?? 0) }) as ObjectInfo | undefined),
        Effect.catchTag("StorageError", (error) => (error.reason === "NotFound" ? Effect.succeed(undefined) : Effect.fail(error)))
      )
      if (head === undefined) {
        yield* checkBucket("stat", uri, location.bucket)
        return undefined
      }
      existingBuckets.add(location.bucket)
      return head
    })

  /**
   * Fetches one object or range and reads the whole body. The SDK retries the request
   * itself; a connection lost while the body streams is retried here by reissuing it.
   */
  const getBytes = (method: string, uri: string, location: S3Location, range: string | undefined) =>
    call(method, uri, location.bucket, async (abortSignal) => {
      for (let attempt = 1;; attempt++) {
        const output = await client.send(
          new GetObjectCommand({ Bucket: location.bucket, Key: location.key, Range: range }),
          { abortSignal }
        )
        try {
          return await collectBody(output.Body as AsyncIterable<Uint8Array> | undefined)
        } catch (error) {
          if (attempt >= maxBodyAttempts || !isTransientBodyError(error) || abortSignal.aborted) throw error
        }
      }
    })

  const invalidRange = (uri: string, description: string) =>
    new StorageError({ reason: "InvalidArgument", method: "readRange", uri, description })

  const readRange = (uri: string, start: number, end: number) =>
    Effect.gen(function*() {
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
        return yield* invalidRange(uri, `invalid byte range [${start}, ${end}): expected integers with 0 <= start <= end`)
      }
      const location = yield* locate("readRange", uri)
      if (start === end) return new Uint8Array(0)
      return yield* getBytes("readRange", uri, location, `bytes=${start}-${end - 1}`).pipe(
        Effect.catchTag("StorageError", (error) => {
          if (error.reason !== "InvalidArgument" || !/InvalidRange|416/.test(error.description)) return Effect.fail(error)
          // S3 rejects a range that starts at the object's size with 416; local files
          // return no bytes there, so S3 does the same.
          return Effect.flatMap(stat(uri), (info) =>
            info !== undefined && info.size === start
              ? Effect.succeed(new Uint8Array(0))
              : Effect.fail(
                invalidRange(uri, `byte range [${start}, ${end}) starts past the end of the ${info?.size ?? "unknown"}-byte object`)
              ))
        })
      )
    })

  const read = (uri: string) => Effect.flatMap(locate("read", uri), (location) => getBytes("read", uri, location, undefined))

  /**
   * Streams an object. A connection lost mid-body resumes with a ranged GET from the
   * last byte received, pinned to the object's ETag so a replaced object fails
   * instead of mixing two versions.
   */
  const readStream = (uri: string): Stream.Stream<Uint8Array, StorageError> =>
    Stream.unwrap(
      Effect.map(locate("readStream", uri), (location) =>
        Stream.suspend(() => {
          const controller = new AbortController()
          async function* chunks(): AsyncGenerator<Uint8Array> {
            let offset = 0
            let etag: string | undefined
            for (let attempt = 1;; attempt++) {
              const output = await client.send(
                new GetObjectCommand({
                  Bucket: location.bucket,
                  Key: location.key,
                  Range: offset > 0 ? `bytes=${offset}-` : undefined,
                  IfMatch: offset > 0 ? etag : undefined
                }),
                { abortSignal: controller.signal }
              ).catch((error: unknown) => {
                if (offset > 0 && reasonForSdkError(error) === "AlreadyExists") {
                  throw new StorageError({
                    reason: "Unavailable",
                    method: "readStream",
                    uri: redact(uri),
                    description: `the object was replaced after ${offset} bytes had been streamed (its ETag changed); read it again`
                  })
                }
                throw error
              })
              etag ??= output.ETag
              try {
                for await (const chunk of output.Body as AsyncIterable<Uint8Array>) {
                  offset += chunk.byteLength
                  yield asPlainBytes(chunk)
                }
                return
              } catch (error) {
                if (attempt >= maxBodyAttempts || !isTransientBodyError(error) || controller.signal.aborted) throw error
              }
            }
          }
          return Stream.fromAsyncIterable(chunks(), (error) => s3Error("readStream", redact(uri), location.bucket, error)).pipe(
            Stream.ensuring(Effect.sync(() => controller.abort()))
          )
        })
      )
    )

  const putBuffer = (method: string, uri: string, location: S3Location, body: Uint8Array, ifNoneMatch?: "*") =>
    call(method, uri, location.bucket, (abortSignal) =>
      client.send(
        new PutObjectCommand({
          Bucket: location.bucket,
          Key: location.key,
          Body: body,
          ContentLength: body.byteLength,
          IfNoneMatch: ifNoneMatch
        }),
        { abortSignal }
      ))

  /**
   * Uploads a body of any size with lib-storage, which splits it into `partSize`
   * parts. Each part is a buffer, so the SDK retries failed parts. A failed upload is
   * aborted here rather than by lib-storage, because lib-storage replaces the
   * original error with the abort's error when the abort fails too.
   */
  const upload = (uri: string, location: S3Location, body: Uint8Array | Readable) =>
    call("write", uri, location.bucket, async (abortSignal) => {
      const abortController = new AbortController()
      const onAbort = () => abortController.abort()
      abortSignal.addEventListener("abort", onAbort, { once: true })
      const task = new Upload({
        client,
        params: { Bucket: location.bucket, Key: location.key, Body: body },
        partSize,
        queueSize: uploadConcurrency,
        leavePartsOnError: true,
        abortController
      })
      try {
        await task.done()
      } catch (error) {
        const uploadId = (task as unknown as { uploadId?: string }).uploadId
        if (uploadId !== undefined) {
          await client.send(new AbortMultipartUploadCommand({ Bucket: location.bucket, Key: location.key, UploadId: uploadId }))
            .catch((abortError: unknown) => {
              options.onEvent?.({
                _tag: "AbortMultipartUploadFailed",
                uri: redact(uri),
                error: describeSdkError(abortError)
              })
            })
        }
        throw error
      } finally {
        abortSignal.removeEventListener("abort", onAbort)
      }
    })

  const writeStream = (uri: string, location: S3Location, body: Stream.Stream<Uint8Array, StorageError>) =>
    Effect.acquireUseRelease(
      Effect.sync(() => Stream.toAsyncIterable(body)[Symbol.asyncIterator]()),
      (iterator) =>
        Effect.gen(function*() {
          const head: Array<Uint8Array> = []
          let buffered = 0
          let ended = false
          // Buffers up to the threshold: a small object becomes one PUT with a retryable body.
          yield* Effect.tryPromise({
            try: async () => {
              while (buffered <= threshold) {
                const next = await iterator.next()
                if (next.done) {
                  ended = true
                  return
                }
                head.push(next.value)
                buffered += next.value.byteLength
              }
            },
            catch: (error) => s3Error("write", uri, location.bucket, error)
          })
          if (ended) {
            yield* putBuffer("write", uri, location, concat(head, buffered))
            return
          }
          async function* rest(): AsyncGenerator<Uint8Array> {
            yield* head
            for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value
          }
          yield* upload(uri, location, Readable.from(rest(), { objectMode: false }))
        }),
      // Closing the iterator stops the source stream when the write fails or is interrupted early.
      (iterator) =>
        Effect.promise(async () => {
          await iterator.return?.().catch(() => undefined)
        })
    )

  const write = (uri: string, body: Uint8Array | Stream.Stream<Uint8Array, StorageError>) =>
    Effect.gen(function*() {
      const location = yield* locate("write", uri)
      if (location.key === "" || location.key.endsWith("/")) {
        return yield* new StorageError({ reason: "InvalidArgument", method: "write", uri, description: "an object key must not be empty or end with /" })
      }
      if (!(body instanceof Uint8Array)) return yield* writeStream(uri, location, body)
      if (body.byteLength <= threshold) {
        yield* putBuffer("write", uri, location, body)
        return
      }
      yield* upload(uri, location, body)
    })

  const detectConditionalWrites = (bucket: string, nearKey = ""): Effect.Effect<ConditionalWrites, StorageError> =>
    Effect.gen(function*() {
      if (configuredConditional !== "auto") return configuredConditional
      const known = conditionalByBucket.get(bucket)
      if (known !== undefined) return known
      // Two conditional PUTs of the same new key: a store that honours If-None-Match
      // rejects the second with 412, one that ignores it overwrites.
      const directory = nearKey.slice(0, nearKey.lastIndexOf("/") + 1)
      const key = `${directory}${PROBE_PREFIX}${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
      const location = { bucket, key }
      const uri = toUri(bucket, key)
      const marker = new TextEncoder().encode("mixwright conditional write probe\n")
      const tryConditional = putBuffer("writeIfAbsent", uri, location, marker, "*").pipe(
        Effect.as("written" as const),
        Effect.catchTag("StorageError", (error) => {
          if (error.reason === "AlreadyExists") return Effect.succeed("rejected" as const)
          // 501 NotImplemented or 400 for an unknown header: the store does not support it.
          if (error.reason === "InvalidArgument" || /NotImplemented|HTTP 501/.test(error.description)) {
            return Effect.succeed("unsupported" as const)
          }
          return Effect.fail(error)
        })
      )
      const first = yield* tryConditional
      const second = first === "written" ? yield* tryConditional : first
      yield* call("writeIfAbsent", uri, bucket, (abortSignal) =>
        client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal })).pipe(Effect.ignore)
      const mode: ConditionalWrites = second === "rejected" ? "supported" : "emulated"
      conditionalByBucket.set(bucket, mode)
      lastConditional = mode
      if (mode === "emulated") {
        const endpoint = resolveEndpoint(options) ?? "AWS S3"
        const message = `S3 store ${endpoint} ignores conditional writes (If-None-Match: *) for bucket "${bucket}"; ` +
          "writeIfAbsent falls back to HEAD then PUT, which cannot guarantee that only one concurrent writer succeeds"
        options.onEvent?.({ _tag: "ConditionalWritesEmulated", bucket, message })
        yield* Effect.logWarning(message)
      }
      return mode
    })

  const writeIfAbsent = (uri: string, body: Uint8Array) =>
    Effect.gen(function*() {
      const location = yield* locate("writeIfAbsent", uri)
      const mode = yield* detectConditionalWrites(location.bucket, location.key)
      if (mode === "emulated") {
        // NOTE: not atomic. Two writers can both see no object and both PUT.
        const existing = yield* stat(uri)
        if (existing !== undefined) return false
        yield* putBuffer("writeIfAbsent", uri, location, body)
        return true
      }
      return yield* putBuffer("writeIfAbsent", uri, location, body, "*").pipe(
        Effect.as(true),
        Effect.catchTag("StorageError", (error) =>
          // 409 ConditionalRequestConflict: a concurrent conditional write to the same key won.
          error.reason === "AlreadyExists" || /ConditionalRequestConflict|HTTP 409/.test(error.description)
            ? Effect.succeed(false)
            : Effect.fail(error))
      )
    })

  const remove = (uri: string) =>
    Effect.gen(function*() {
      const location = yield* locate("remove", uri)
      yield* call("remove", uri, location.bucket, (abortSignal) =>
        client.send(new DeleteObjectCommand({ Bucket: location.bucket, Key: location.key }), { abortSignal }))
    })

  /** Deletes up to 1000 keys per DeleteObjects request, the S3 maximum. */
  const removePrefix = (prefix: string) =>
    Effect.gen(function*() {
      const location = yield* locate("removePrefix", prefix)
      const found = yield* listPath("removePrefix", prefix, location)
      const keyStart = `s3://${location.bucket}/`.length
      let removed = 0
      for (let offset = 0; offset < found.length; offset += 1000) {
        const batch = found.slice(offset, offset + 1000).map((info) => ({ Key: info.uri.slice(keyStart) }))
        const output = yield* call("removePrefix", prefix, location.bucket, (abortSignal) =>
          client.send(
            new DeleteObjectsCommand({ Bucket: location.bucket, Delete: { Objects: batch, Quiet: false } }),
            { abortSignal }
          ))
        const failures = output.Errors ?? []
        if (failures.length > 0) {
          const first = failures[0]
          return yield* s3Error("removePrefix", prefix, location.bucket, {
            name: first.Code ?? "DeleteFailed",
            message: `${failures.length} of ${batch.length} deletes failed, first at key "${first.Key}": ${first.Message ?? ""}`
          })
        }
        removed += output.Deleted?.length ?? batch.length
      }
      return removed
    })

  return {
    get conditionalWrites() {
      return lastConditional
    },
    detectConditionalWrites,
    client,
    retryCount: () => retryStrategy.retries,
    list,
    glob,
    stat,
    readRange,
    read,
    readStream,
    write,
    writeIfAbsent,
    remove,
    removePrefix
  }
}
