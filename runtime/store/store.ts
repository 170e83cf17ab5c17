/**
 * The artifact store: content-addressed node outputs under a root URI.
 *
 * Layout, for a node id `<id>`:
 *
 * ```
 * <root>/artifacts/<id>/part-00000.parquet   data shards (and other files, e.g. .bin/.idx)
 * <root>/artifacts/<id>/_shards/00000.json   shard commit records, written after the data
 * <root>/artifacts/<id>/_manifest.json       written last: the node's commit marker
 * ```
 *
 * Every write goes through `Storage`, which never exposes a partial object. A shard
 * record is created with `writeIfAbsent` after its files, and the manifest with
 * `writeIfAbsent` after every shard record, so a reader that finds `_manifest.json`
 * finds every file it lists. Files without a record are leftovers of an interrupted
 * run and are overwritten when the shard runs again.
 */
import { createHash } from "node:crypto"
import { Effect, Stream } from "effect"
import { asyncBufferFor } from "../../connectors/storage/adapters.ts"
import { joinUri, Storage, type StorageError } from "../../connectors/storage/Storage.ts"
import type { Batch } from "../batch.ts"
import { RunError } from "../executor/errors.ts"
import type { ArtifactFile, Manifest, ShardRecord } from "../executor/types.ts"
import { decodeArtifactFile } from "./codec.ts"

export const MANIFEST_FILE = "_manifest.json"
export const SHARDS_DIR = "_shards"

export const artifactUri = (root: string, nodeId: string): string => joinUri(root, "artifacts", nodeId)

export const manifestUri = (root: string, nodeId: string): string =>
  joinUri(artifactUri(root, nodeId), MANIFEST_FILE)

export const shardRecordUri = (root: string, nodeId: string, shard: number): string =>
  joinUri(artifactUri(root, nodeId), SHARDS_DIR, `${padShard(shard)}.json`)

/** `part-00012.parquet` for shard 12. */
export const partFileName = (shard: number): string => `part-${padShard(shard)}.parquet`

export const padShard = (shard: number): string => String(shard).padStart(5, "0")

export const sha256Hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex")

const storageFailed = (description: string) => (cause: StorageError): RunError =>
  new RunError({ reason: "Storage", uri: cause.uri, description: `${description}: ${cause.description}`, cause })

const encodeJson = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n")

const readJson = <A>(uri: string): Effect.Effect<A | undefined, RunError, Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const info = yield* storage.stat(uri)
    if (info === undefined) return undefined
    const bytes = yield* storage.read(uri)
    try {
      return JSON.parse(new TextDecoder().decode(bytes)) as A
    } catch (cause) {
      return yield* new RunError({
        reason: "Storage",
        uri,
        description: "the file is not valid JSON; remove the artifact (run with --force) to recompute it",
        cause
      })
    }
  }).pipe(Effect.mapError((error) => error._tag === "StorageError" ? storageFailed("reading a store record failed")(error) : error))

/** The manifest of a committed artifact, or `undefined` when the node is not committed. */
export const readManifest = (root: string, nodeId: string): Effect.Effect<Manifest | undefined, RunError, Storage> =>
  readJson<Manifest>(manifestUri(root, nodeId))

export const isCommitted = (root: string, nodeId: string): Effect.Effect<boolean, RunError, Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const info = yield* storage.stat(manifestUri(root, nodeId))
    return info !== undefined
  }).pipe(Effect.mapError(storageFailed("checking the manifest failed")))

export const readShardRecord = (
  root: string,
  nodeId: string,
  shard: number
): Effect.Effect<ShardRecord | undefined, RunError, Storage> => readJson<ShardRecord>(shardRecordUri(root, nodeId, shard))

/** Shard numbers with a commit record, from one listing of `_shards/`. */
export const listShardRecords = (root: string, nodeId: string): Effect.Effect<Array<number>, RunError, Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const prefix = joinUri(artifactUri(root, nodeId), SHARDS_DIR)
    const objects = yield* storage.list(prefix + "/")
    const shards: Array<number> = []
    for (const object of objects) {
      const match = /\/(\d+)\.json$/.exec(object.uri)
      if (match !== null) shards.push(Number(match[1]))
    }
    return shards.sort((a, b) => a - b)
  }).pipe(Effect.mapError(storageFailed("listing shard records failed")))

/** Writes one file of a shard (not yet committed) and returns its size and checksum. */
export const writeArtifactFile = (
  root: string,
  nodeId: string,
  path: string,
  bytes: Uint8Array
): Effect.Effect<ArtifactFile, RunError, Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    yield* storage.write(joinUri(artifactUri(root, nodeId), path), bytes)
    return { path, bytes: bytes.byteLength, sha256: sha256Hex(bytes) }
  }).pipe(Effect.mapError(storageFailed(`writing ${path} failed`)))

/**
 * Writes one file of a shard from a stream of chunks, hashing as they pass, and
 * returns its size and checksum. The file becomes visible only when complete.
 */
export const writeArtifactStream = (
  root: string,
  nodeId: string,
  path: string,
  body: Stream.Stream<Uint8Array, StorageError>
): Effect.Effect<ArtifactFile, RunError, Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const hash = createHash("sha256")
    let bytes = 0
    const counted = body.pipe(
      Stream.tap((chunk) =>
        Effect.sync(() => {
          hash.update(chunk)
          bytes += chunk.byteLength
        })
      )
    )
    yield* storage.write(joinUri(artifactUri(root, nodeId), path), counted)
    return { path, bytes, sha256: hash.digest("hex") }
  }).pipe(Effect.mapError(storageFailed(`writing ${path} failed`)))

/** Removes one file of an uncommitted shard. */
export const removeArtifactFile = (root: string, nodeId: string, path: string): Effect.Effect<void, RunError, Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    yield* storage.remove(joinUri(artifactUri(root, nodeId), path))
  }).pipe(Effect.mapError(storageFailed(`removing ${path} failed`)))

/**
 * Commits a shard by creating its record. Returns `false` when another writer
 * committed the same shard first; their files are equal because shards are
 * deterministic, so the caller treats that as success.
 */
export const commitShard = (root: string, record: ShardRecord): Effect.Effect<boolean, RunError, Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    return yield* storage.writeIfAbsent(shardRecordUri(root, record.nodeId, record.shard), encodeJson(record))
  }).pipe(Effect.mapError(storageFailed(`committing shard ${record.shard} failed`)))

/** Commits a node by creating its manifest; `false` when it was already committed. */
export const commitManifest = (root: string, manifest: Manifest): Effect.Effect<boolean, RunError, Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    return yield* storage.writeIfAbsent(manifestUri(root, manifest.nodeId), encodeJson(manifest))
  }).pipe(Effect.mapError(storageFailed("committing the manifest failed")))

/**
 * Removes a node's artifact. The manifest goes first, so a reader never sees a
 * manifest whose files are gone.
 */
export const removeArtifact = (root: string, nodeId: string): Effect.Effect<number, RunError, Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    yield* storage.remove(manifestUri(root, nodeId))
    return yield* storage.removePrefix(artifactUri(root, nodeId) + "/")
  }).pipe(Effect.mapError(storageFailed("removing the artifact failed")))

/** Absolute URIs of every file a committed artifact lists, in shard order. */
export const artifactFileUris = (root: string, manifest: Manifest): Array<string> =>
  manifest.shards.flatMap((shard) => shard.files.map((file) => joinUri(artifactUri(root, manifest.nodeId), file.path)))

export interface ReadArtifactOptions {
  /** Reads only these shards, in this order; all shards by default. */
  readonly shards?: ReadonlyArray<number>
}

/**
 * Streams the rows of a committed artifact, one batch per Parquet row group, shard by
 * shard. Fails with reason `NotCommitted` when the node has no manifest.
 */
export const readArtifactRows = (
  root: string,
  nodeId: string,
  options: ReadArtifactOptions = {}
): Stream.Stream<Batch, RunError, Storage> =>
  Stream.unwrap(Effect.gen(function*() {
    const manifest = yield* readManifest(root, nodeId)
    if (manifest === undefined) {
      return yield* new RunError({
        reason: "NotCommitted",
        node: nodeId,
        description: "the artifact is not committed; run the plan that produces it first"
      })
    }
    const storage = yield* Storage
    const wanted = options.shards === undefined
      ? manifest.shards
      : options.shards.map((shard) => manifest.shards.find((entry) => entry.shard === shard)).filter((entry) => entry !== undefined)
    const uris = wanted.flatMap((shard) =>
      shard.files.filter((file) => file.path.endsWith(".parquet")).map((file) => joinUri(artifactUri(root, nodeId), file.path))
    )
    return Stream.fromIterable(uris).pipe(
      Stream.flatMap((uri) =>
        Stream.fromAsyncIterable(
          (async function*() {
            const source = await asyncBufferFor(storage, uri)
            yield* decodeArtifactFile(source, manifest.schema, uri)
          })(),
          (cause) =>
            new RunError({
              reason: "Storage",
              node: nodeId,
              uri,
              description: "reading an artifact file failed; remove the artifact (run with --force) to recompute it",
              cause
            })
        )
      )
    )
  }))
