/**
 * One storage interface over local paths and `s3://` URIs.
 *
 * Every location in a recipe or profile is a URI: a plain path or `file://` URI for
 * local disk, `s3://bucket/key` for S3 and S3-compatible stores. Callers pass full
 * URIs; the layer in `layer.ts` routes each call to the implementation for its scheme.
 */
import { Context, Effect, Schema, Stream } from "effect"

/** Why a storage call failed. Retry policies match on this, never on message text. */
export const StorageErrorReason = Schema.Literals([
  "NotFound",
  "AlreadyExists",
  "Throttled",
  "Timeout",
  "Unavailable",
  "AccessDenied",
  "InvalidArgument",
  "Unknown"
])
export type StorageErrorReason = typeof StorageErrorReason.Type

export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  reason: StorageErrorReason,
  method: Schema.String,
  uri: Schema.String,
  description: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {
  override get message(): string {
    return `StorageError: Storage.${this.method} (${this.uri}): ${this.description}`
  }
}

/** One object or file, as listed. `uri` is absolute; `size` is in bytes. */
export interface ObjectInfo {
  readonly uri: string
  readonly size: number
}

export interface StorageService {
  /** Lists objects under a prefix (recursively), sorted by URI. An absent prefix lists nothing. */
  readonly list: (prefix: string) => Effect.Effect<ReadonlyArray<ObjectInfo>, StorageError>
  /** Expands a glob (`*`, `**`, `?`, `{a,b}`) against the store, sorted by URI. */
  readonly glob: (pattern: string) => Effect.Effect<ReadonlyArray<ObjectInfo>, StorageError>
  /** Size of one object, or `undefined` when it does not exist. */
  readonly stat: (uri: string) => Effect.Effect<ObjectInfo | undefined, StorageError>
  /** Bytes `[start, end)` of one object. */
  readonly readRange: (uri: string, start: number, end: number) => Effect.Effect<Uint8Array, StorageError>
  readonly read: (uri: string) => Effect.Effect<Uint8Array, StorageError>
  readonly readStream: (uri: string) => Stream.Stream<Uint8Array, StorageError>
  /**
   * Writes a whole object. Readers never see a partial object: local writes go to a
   * temporary name and are renamed, S3 writes become visible when the PUT or the
   * multipart upload completes.
   */
  readonly write: (uri: string, body: Uint8Array | Stream.Stream<Uint8Array, StorageError>) => Effect.Effect<void, StorageError>
  /**
   * Creates an object only when none exists at `uri`; returns `false` when one already
   * did. This is the commit primitive: two writers never both succeed.
   */
  readonly writeIfAbsent: (uri: string, body: Uint8Array) => Effect.Effect<boolean, StorageError>
  /** Removes one object; removing an absent object succeeds. */
  readonly remove: (uri: string) => Effect.Effect<void, StorageError>
  /** Removes every object under a prefix and returns how many were removed. */
  readonly removePrefix: (prefix: string) => Effect.Effect<number, StorageError>
}

export class Storage extends Context.Service<Storage, StorageService>()("mixwright/connectors/storage/Storage") {}

/** Joins URI segments with single slashes, keeping the scheme of the first. */
export const joinUri = (base: string, ...parts: ReadonlyArray<string>): string => {
  let out = base.replace(/\/+$/, "")
  for (const part of parts) out += "/" + part.replace(/^\/+/, "").replace(/\/+$/, "")
  return out
}

export const isS3Uri = (uri: string): boolean => uri.startsWith("s3://")
