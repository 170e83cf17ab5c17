/**
 * Local-disk implementation of the storage service.
 *
 * Accepts plain paths (relative paths resolve against the working directory) and
 * `file://` URIs. Returned URIs are absolute plain paths, so a `file:///data/x` input
 * lists as `/data/x`. A prefix names a directory or file: `list("/data/a")` returns
 * `/data/a` itself when it is a file and everything under `/data/a/` otherwise, never
 * `/data/ab`.
 */
import { randomBytes } from "node:crypto"
import { createReadStream } from "node:fs"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { Effect, Stream } from "effect"
import { compareUris, globToRegExp, literalPrefix } from "./glob.ts"
import { type ObjectInfo, StorageError, type StorageErrorReason, type StorageService } from "./Storage.ts"

/** File names starting with this are in-progress writes; listings skip them. */
export const TEMP_PREFIX = ".mixwright-tmp-"

/** Converts a plain path or `file://` URI into an absolute filesystem path. */
export const toLocalPath = (uri: string): string => {
  if (uri.startsWith("file://")) {
    // Decode by hand: `fileURLToPath` would treat `?` and `#` (glob and file-name
    // characters) as the start of a query or fragment.
    let rest = uri.slice("file://".length)
    if (rest.startsWith("localhost/")) rest = rest.slice("localhost".length)
    if (!rest.startsWith("/")) {
      throw new TypeError(`file URI must have an absolute path (file:///...), got ${uri}`)
    }
    return path.resolve(decodeURIComponent(rest))
  }
  return path.resolve(uri)
}

const reasonForCode = (code: string | undefined): StorageErrorReason => {
  switch (code) {
    case "ENOENT":
      return "NotFound"
    case "EEXIST":
      return "AlreadyExists"
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return "AccessDenied"
    case "EISDIR":
    case "ENOTDIR":
    case "EINVAL":
    case "ENAMETOOLONG":
      return "InvalidArgument"
    case "ETIMEDOUT":
      return "Timeout"
    case "EBUSY":
    case "EAGAIN":
    case "EMFILE":
    case "ENFILE":
    case "ENOSPC":
    case "EIO":
      return "Unavailable"
    default:
      return "Unknown"
  }
}

const describeCode = (code: string | undefined, fallback: string): string => {
  switch (code) {
    case "ENOENT":
      return "no such file or directory"
    case "EEXIST":
      return "file already exists"
    case "EACCES":
    case "EPERM":
      return "permission denied; check the file's owner and mode"
    case "EROFS":
      return "the filesystem is read-only"
    case "EISDIR":
      return "the path is a directory, expected a file"
    case "ENOTDIR":
      return "a parent of the path is a file, expected a directory"
    case "ENOSPC":
      return "no space left on the device"
    default:
      return fallback
  }
}

/** Wraps a Node.js filesystem error as a `StorageError`. */
export const localError = (method: string, uri: string, cause: unknown): StorageError => {
  if (cause instanceof StorageError) return cause
  const code = (cause as { code?: string } | null)?.code
  const fallback = cause instanceof Error ? cause.message : String(cause)
  return new StorageError({
    reason: cause instanceof TypeError && code === undefined ? "InvalidArgument" : reasonForCode(code),
    method,
    uri,
    description: code ? `${describeCode(code, fallback)} (${code})` : fallback,
    cause
  })
}

const attempt = <A>(method: string, uri: string, run: () => Promise<A>): Effect.Effect<A, StorageError> =>
  Effect.tryPromise({ try: run, catch: (cause) => localError(method, uri, cause) })

const invalid = (method: string, uri: string, description: string): StorageError =>
  new StorageError({ reason: "InvalidArgument", method, uri, description })

const tempPathFor = (target: string): string =>
  path.join(path.dirname(target), `${TEMP_PREFIX}${path.basename(target)}.${process.pid}.${randomBytes(6).toString("hex")}`)

/** Walks a directory tree and returns every regular file, skipping in-progress writes. */
const walk = async (root: string, out: Array<ObjectInfo>): Promise<void> => {
  let entries
  try {
    entries = await fs.readdir(root, { withFileTypes: true })
  } catch (cause) {
    const code = (cause as { code?: string }).code
    // A directory removed while it is walked lists as empty.
    if (code === "ENOENT") return
    throw cause
  }
  for (const entry of entries) {
    if (entry.name.startsWith(TEMP_PREFIX)) continue
    const full = path.join(root, entry.name)
    if (entry.isDirectory()) {
      await walk(full, out)
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      const info = await fs.stat(full).catch(() => undefined)
      if (info?.isFile()) out.push({ uri: full, size: info.size })
    }
  }
}

const listPath = async (target: string): Promise<Array<ObjectInfo>> => {
  const info = await fs.stat(target).catch((cause: { code?: string }) => {
    if (cause.code === "ENOENT" || cause.code === "ENOTDIR") return undefined
    throw cause
  })
  if (info === undefined) return []
  if (info.isFile()) return [{ uri: target, size: info.size }]
  const out: Array<ObjectInfo> = []
  await walk(target, out)
  return out.sort(compareUris)
}

const checkRange = (method: string, uri: string, start: number, end: number): StorageError | undefined => {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    return invalid(method, uri, `invalid byte range [${start}, ${end}): expected integers with 0 <= start <= end`)
  }
  return undefined
}

const readRangeAt = async (uri: string, start: number, end: number): Promise<Uint8Array> => {
  const handle = await fs.open(toLocalPath(uri), "r")
  try {
    const { size } = await handle.stat()
    if (start > size) {
      throw invalid("readRange", uri, `byte range [${start}, ${end}) starts past the end of the ${size}-byte object`)
    }
    const length = Math.min(end, size) - start
    const buffer = new Uint8Array(length)
    let filled = 0
    while (filled < length) {
      const { bytesRead } = await handle.read(buffer, filled, length - filled, start + filled)
      if (bytesRead === 0) break
      filled += bytesRead
    }
    return filled === length ? buffer : buffer.subarray(0, filled)
  } finally {
    await handle.close()
  }
}

/** Writes all chunks of a body into a new temporary file next to `target` and returns its path. */
const writeTemp = (
  method: string,
  uri: string,
  target: string,
  body: Uint8Array | Stream.Stream<Uint8Array, StorageError>
): Effect.Effect<string, StorageError> =>
  Effect.gen(function*() {
    yield* attempt(method, uri, () => fs.mkdir(path.dirname(target), { recursive: true }))
    const temp = tempPathFor(target)
    const handle = yield* attempt(method, uri, () => fs.open(temp, "wx"))
    const writeAll = Effect.gen(function*() {
      if (body instanceof Uint8Array) {
        yield* attempt(method, uri, () => handle.writeFile(body))
      } else {
        yield* Stream.runForEach(body, (chunk) => attempt(method, uri, () => handle.write(chunk).then(() => undefined)))
      }
      yield* attempt(method, uri, () => handle.sync())
    })
    yield* writeAll.pipe(
      Effect.ensuring(Effect.promise(() => handle.close().catch(() => undefined))),
      Effect.onError(() => Effect.promise(() => fs.rm(temp, { force: true }).catch(() => undefined)))
    )
    return temp
  })

const removeTemp = (temp: string) => Effect.promise(() => fs.rm(temp, { force: true }).catch(() => undefined))

/** Creates the local storage service. */
export const makeLocalStorage = (): StorageService => {
  const resolve = (method: string, uri: string): Effect.Effect<string, StorageError> =>
    Effect.try({ try: () => toLocalPath(uri), catch: (cause) => localError(method, uri, cause) })

  const list = (prefix: string) =>
    Effect.flatMap(resolve("list", prefix), (target) => attempt("list", prefix, () => listPath(target)))

  const glob = (pattern: string) =>
    Effect.gen(function*() {
      const absolute = yield* resolve("glob", pattern)
      const regexp = yield* Effect.try({
        try: () => globToRegExp(absolute),
        catch: (cause) => invalid("glob", pattern, `invalid glob pattern: ${String(cause)}`)
      })
      const base = literalPrefix(absolute)
      const candidates = yield* attempt("glob", pattern, () => listPath(base.length > 1 ? base.replace(/\/$/, "") : "/"))
      return candidates.filter((info) => regexp.test(info.uri))
    })

  const stat = (uri: string) =>
    Effect.flatMap(resolve("stat", uri), (target) =>
      attempt("stat", uri, async () => {
        try {
          const info = await fs.stat(target)
          if (info.isDirectory()) return undefined
          return { uri: target, size: info.size } satisfies ObjectInfo
        } catch (cause) {
          const code = (cause as { code?: string }).code
          if (code === "ENOENT" || code === "ENOTDIR") return undefined
          throw cause
        }
      }))

  const readRange = (uri: string, start: number, end: number) => {
    const bad = checkRange("readRange", uri, start, end)
    if (bad) return Effect.fail(bad)
    return attempt("readRange", uri, () => readRangeAt(uri, start, end))
  }

  const read = (uri: string) =>
    Effect.flatMap(resolve("read", uri), (target) =>
      attempt("read", uri, async () => {
        const buffer = await fs.readFile(target)
        return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
      }))

  const readStream = (uri: string): Stream.Stream<Uint8Array, StorageError> =>
    Stream.unwrap(
      Effect.map(resolve("readStream", uri), (target) =>
        Stream.suspend(() =>
          Stream.fromAsyncIterable(
            createReadStream(target, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>,
            (cause) => localError("readStream", uri, cause)
          )
        ).pipe(Stream.map((chunk) => new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)))
      )
    )

  const write = (uri: string, body: Uint8Array | Stream.Stream<Uint8Array, StorageError>) =>
    Effect.gen(function*() {
      const target = yield* resolve("write", uri)
      const temp = yield* writeTemp("write", uri, target, body)
      yield* attempt("write", uri, () => fs.rename(temp, target)).pipe(Effect.onError(() => removeTemp(temp)))
    })

  const writeIfAbsent = (uri: string, body: Uint8Array) =>
    Effect.gen(function*() {
      const target = yield* resolve("writeIfAbsent", uri)
      const temp = yield* writeTemp("writeIfAbsent", uri, target, body)
      // `link` fails with EEXIST when the target exists and otherwise publishes the
      // complete file in one step, so two writers never both succeed and no reader
      // sees a partial file.
      return yield* attempt("writeIfAbsent", uri, async () => {
        try {
          await fs.link(temp, target)
          return true
        } catch (cause) {
          const code = (cause as { code?: string }).code
          if (code === "EEXIST") return false
          if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "EXDEV") throw cause
        }
        // Filesystems without hard links: an exclusive create on the final name keeps
        // the exclusivity guarantee, but a reader may see the file before it is full.
        try {
          await fs.writeFile(target, body, { flag: "wx" })
          return true
        } catch (cause) {
          if ((cause as { code?: string }).code === "EEXIST") return false
          throw cause
        }
      }).pipe(Effect.ensuring(removeTemp(temp)))
    })

  const remove = (uri: string) =>
    Effect.flatMap(resolve("remove", uri), (target) =>
      attempt("remove", uri, async () => {
        try {
          await fs.unlink(target)
        } catch (cause) {
          const code = (cause as { code?: string }).code
          if (code === "ENOENT" || code === "ENOTDIR") return
          throw cause
        }
      }))

  const removePrefix = (prefix: string) =>
    Effect.flatMap(resolve("removePrefix", prefix), (target) =>
      attempt("removePrefix", prefix, async () => {
        const files = await listPath(target)
        for (const file of files) await fs.rm(file.uri, { force: true })
        const info = await fs.stat(target).catch(() => undefined)
        // The emptied directories are removed too, so a later list returns nothing.
        if (info?.isDirectory()) await fs.rm(target, { recursive: true, force: true })
        return files.length
      }))

  return { list, glob, stat, readRange, read, readStream, write, writeIfAbsent, remove, removePrefix }
}
