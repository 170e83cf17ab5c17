/**
 * Artifact locations in the store, computed from node ids so that plans and emitted
 * trainer configs can point at files before they exist.
 */
import * as path from "node:path"

const isUri = (root: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(root)

/** The store root as an absolute path or URI. */
export const resolveStoreRoot = (root: string, cwd = process.cwd()): string =>
  isUri(root) ? root.replace(/\/+$/, "") : path.resolve(cwd, root)

/** Folder of a node's artifact. */
export const artifactUri = (root: string, nodeId: string): string => `${resolveStoreRoot(root)}/artifacts/${nodeId}`

/** A component name as a file name: runs of characters other than letters, digits, `.`, `_` and `-` become `_`. */
export const fileSafeName = (name: string): string => name.replace(/[^A-Za-z0-9._-]+/g, "_")

/** Megatron path prefix (without `.bin`/`.idx`) of one component of an export node. */
export const indexedDatasetPrefix = (root: string, exportNodeId: string, componentName: string): string =>
  `${artifactUri(root, exportNodeId)}/${fileSafeName(componentName)}`
