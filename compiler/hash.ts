/**
 * Content hashing for IR nodes.
 *
 * A node's id is the SHA-256 of the canonical JSON of `{ kind, params, inputs, version }`.
 * Canonical means object keys sorted, no whitespace, and only JSON values: key order or
 * formatting in a recipe never changes an id. Because `inputs` holds the ids of upstream
 * nodes, a change to one node changes its id and, through them, the ids of all its
 * descendants, while every other node keeps its id and its cached artifact.
 *
 * Example: two `read` nodes that differ only in `uris` get different ids; the `filter`
 * below the changed one gets a new id because its `inputs` changed; the filter below the
 * other keeps its id.
 *
 * Cosmetic recipe fields (descriptions, licenses, categories shown in tables) are never
 * copied into `params`, so editing them recomputes nothing.
 */
import { createHash } from "node:crypto"
import type { JsonValue, NodeKind } from "./ir.ts"

export class CanonicalJsonError extends Error {
  readonly path: string
  constructor(path: string, description: string) {
    super(`cannot hash ${path}: ${description}; use plain JSON values (strings, finite numbers, booleans, null, arrays, objects)`)
    this.name = "CanonicalJsonError"
    this.path = path
  }
}

/** Serialises a JSON value with sorted keys. Rejects values JSON cannot carry exactly. */
export const canonicalJson = (value: unknown, path = "$"): string => {
  if (value === null) return "null"
  switch (typeof value) {
    case "string":
      return JSON.stringify(value)
    case "boolean":
      return value ? "true" : "false"
    case "number":
      if (!Number.isFinite(value)) throw new CanonicalJsonError(path, `non-finite number ${value}`)
      return JSON.stringify(value)
    case "object": {
      if (Array.isArray(value)) {
        let out = "["
        for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + canonicalJson(value[i], path + "[" + i + "]")
        return out + "]"
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) {
        throw new CanonicalJsonError(path, `an instance of ${proto?.constructor?.name ?? "unknown class"}`)
      }
      const record = value as Record<string, unknown>
      const keys = Object.keys(record).sort()
      let out = "{"
      let first = true
      for (const key of keys) {
        const item = record[key]
        if (item === undefined) continue
        out += (first ? "" : ",") + JSON.stringify(key) + ":" + canonicalJson(item, path + "." + key)
        first = false
      }
      return out + "}"
    }
    default:
      throw new CanonicalJsonError(path, `a ${typeof value}`)
  }
}

export const sha256Hex = (text: string): string => createHash("sha256").update(text).digest("hex")

/** The id of a node with these contents. */
export const nodeId = (node: {
  readonly kind: NodeKind
  readonly params: { readonly [key: string]: JsonValue }
  readonly inputs: ReadonlyArray<string>
  readonly version: string
}): string =>
  sha256Hex(canonicalJson({ kind: node.kind, params: node.params, inputs: node.inputs, version: node.version }))

/**
 * The same id as `nodeId`, from params already in canonical JSON. Keys of the outer
 * object are in sorted order: inputs, kind, params, version.
 */
export const nodeIdFromCanonical = (kind: NodeKind, paramsJson: string, inputs: ReadonlyArray<string>, version: string): string =>
  sha256Hex(`{"inputs":${canonicalJson(inputs)},"kind":${JSON.stringify(kind)},"params":${paramsJson},"version":${JSON.stringify(version)}}`)

/** The first 12 hex characters, as plans print ids. */
export const shortId = (id: string): string => id.slice(0, 12)
