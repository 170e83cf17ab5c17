/** Shared helpers for the format tests: a counting AsyncBuffer, DuckDB access and data paths. */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DuckDBInstance } from "@duckdb/node-api"
import type { DuckDBConnection } from "@duckdb/node-api"
import type { AsyncBuffer } from "hyparquet"
import { SHARED_DATA } from "../support/data.ts"

export const DATA_ROOT = SHARED_DATA

/** Returns the path when it exists, else undefined (tests then skip with a message). */
export const dataPath = (relative: string): string | undefined => {
  const path = join(DATA_ROOT, relative)
  return existsSync(path) ? path : undefined
}

/** Lists every file under a folder, recursively, sorted. */
export const listFiles = (root: string): Array<string> => {
  const out: Array<string> = []
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry)
      if (statSync(path).isDirectory()) visit(path)
      else out.push(path)
    }
  }
  visit(root)
  return out.sort()
}

export interface CountingBuffer extends AsyncBuffer {
  readonly ranges: Array<readonly [number, number]>
  bytesRead: number
}

/** Wraps bytes in an AsyncBuffer that records every range read. */
export const countingBuffer = (bytes: Uint8Array): CountingBuffer => {
  const buffer: CountingBuffer = {
    byteLength: bytes.byteLength,
    ranges: [],
    bytesRead: 0,
    slice(start: number, end?: number) {
      const stop = end ?? bytes.byteLength
      buffer.ranges.push([start, stop])
      buffer.bytesRead += stop - start
      return Promise.resolve(bytes.slice(start, stop).buffer)
    }
  }
  return buffer
}

let duckdb: Promise<DuckDBConnection> | undefined

/**
 * Runs a DuckDB query on one in-memory database per test file and returns rows as
 * JSON-compatible objects. Tests write each file under a fresh name, because DuckDB
 * may cache Parquet metadata by path.
 */
export const duckdbRows = async (sql: string): Promise<Array<Record<string, unknown>>> => {
  duckdb ??= DuckDBInstance.create(":memory:").then((instance) => instance.connect())
  const reader = await (await duckdb).runAndReadAll(sql)
  return reader.getRowObjectsJson() as Array<Record<string, unknown>>
}

/** Creates a temporary folder and returns it with its cleanup. */
export const makeTempDir = (prefix: string): { dir: string; cleanup: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), `mixwright-${prefix}-`))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Collects an async iterable into an array. */
export const collect = async <A>(iterable: AsyncIterable<A>): Promise<Array<A>> => {
  const out: Array<A> = []
  for await (const item of iterable) out.push(item)
  return out
}

/** Returns the error a promise rejects with, or fails when it resolves. */
export const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error("expected the promise to reject, but it resolved")
}
