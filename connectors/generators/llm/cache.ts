/**
 * Response cache of the `llm` generator, keyed by a hash of the canonical request.
 *
 * The key covers the API kind, model, messages or prompt, sampling parameters and the
 * sample index. It leaves out the endpoint URL and the API key, so the same request sent
 * to another server with the same model reuses the cached response.
 */
import { createHash } from "node:crypto"
import { mkdir, readFile, rename, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Effect } from "effect"
import { joinUri, type StorageService } from "../../storage/Storage.ts"
import { LlmGeneratorError } from "./errors.ts"

/** Cache entry for one request. */
export interface CachedCompletion {
  readonly completion: string
  readonly model: string
  readonly finishReason: string | null
}

/** A key-value store for responses; keys are 64 hex digits. */
export interface LlmCache {
  readonly get: (key: string) => Effect.Effect<CachedCompletion | undefined, LlmGeneratorError>
  readonly set: (key: string, value: CachedCompletion) => Effect.Effect<void, LlmGeneratorError>
}

const compareStrings = (a: string, b: string): number => {
  if (a < b) return -1
  if (a > b) return 1
  return 0
}

/** Serializes JSON with object keys sorted, so equal requests give equal bytes. */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null"
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => compareStrings(a, b))
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`
}

/** SHA-256 of the canonical JSON of a request body plus its sample index. */
export const requestCacheKey = (api: string, body: Record<string, unknown>, sampleIndex: number): string =>
  createHash("sha256").update(canonicalJson({ api, body, sampleIndex })).digest("hex")

const cacheError = (subject: string, description: string) =>
  new LlmGeneratorError({ reason: "Cache", subject, description })

const isCachedCompletion = (value: unknown): value is CachedCompletion =>
  typeof value === "object" && value !== null &&
  typeof (value as CachedCompletion).completion === "string" &&
  typeof (value as CachedCompletion).model === "string"

/** Parses an entry; a truncated or foreign file counts as a miss, and the next write replaces it. */
const decodeEntry = (text: string): CachedCompletion | undefined => {
  try {
    const value: unknown = JSON.parse(text)
    return isCachedCompletion(value) ? value : undefined
  } catch {
    return undefined
  }
}

/**
 * Creates a cache in a directory of JSON files, `<dir>/<key[0..2]>/<key>.json`. Writes go
 * to a temporary name and are renamed, so a reader never sees half a file.
 */
export const makeDirectoryCache = (dir: string): LlmCache => {
  const pathOf = (key: string) => join(dir, key.slice(0, 2), `${key}.json`)
  return {
    get: (key) =>
      Effect.tryPromise({
        try: async () => {
          try {
            return decodeEntry(await readFile(pathOf(key), "utf8"))
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined
            throw error
          }
        },
        catch: (error) => cacheError(pathOf(key), `cannot read the cache entry: ${(error as Error).message}`)
      }),
    set: (key, value) =>
      Effect.tryPromise({
        try: async () => {
          const path = pathOf(key)
          await mkdir(join(dir, key.slice(0, 2)), { recursive: true })
          const temporary = `${path}.${process.pid}.${Math.floor(performance.now() * 1000)}.tmp`
          await writeFile(temporary, JSON.stringify(value))
          await rename(temporary, path)
        },
        catch: (error) => cacheError(pathOf(key), `cannot write the cache entry: ${(error as Error).message}`)
      })
  }
}

/** Creates an in-process cache, for tests and one-off runs. */
export const makeMemoryCache = (): LlmCache & { readonly size: () => number } => {
  const entries = new Map<string, CachedCompletion>()
  return {
    get: (key) => Effect.succeed(entries.get(key)),
    set: (key, value) => Effect.sync(() => void entries.set(key, value)),
    size: () => entries.size
  }
}

/**
 * Creates a cache on the Storage service (local paths or `s3://`), `<root>/<key[0..2]>/<key>.json`.
 * Entries are written with `writeIfAbsent`, so concurrent runs never overwrite each other.
 */
export const makeStorageCache = (storage: StorageService, root: string): LlmCache => {
  const uriOf = (key: string) => joinUri(root, key.slice(0, 2), `${key}.json`)
  return {
    get: (key) =>
      storage.stat(uriOf(key)).pipe(
        Effect.flatMap((info) =>
          info === undefined
            ? Effect.succeed(undefined)
            : storage.read(uriOf(key)).pipe(Effect.map((bytes) => decodeEntry(new TextDecoder().decode(bytes))))
        ),
        Effect.mapError((error) => cacheError(uriOf(key), `cannot read the cache entry: ${error.description}`))
      ),
    set: (key, value) =>
      storage.writeIfAbsent(uriOf(key), new TextEncoder().encode(JSON.stringify(value))).pipe(
        Effect.asVoid,
        Effect.mapError((error) => cacheError(uriOf(key), `cannot write the cache entry: ${error.description}`))
      )
  }
}
