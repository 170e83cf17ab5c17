/**
 * A run on an S3 store killed with SIGKILL resumes without rewriting what it had
 * committed, and ends with the bytes of an uninterrupted run.
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3"
import { spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RunSummary } from "../../runtime/executor/types.ts"
import { startS3, type RunningS3 } from "../support/s3.ts"

const ROOT = path.join(import.meta.dirname, "..", "..")
const CLI = path.join(ROOT, "cli", "entry.ts")
const RECIPE = path.join(ROOT, "recipes", "meta-cot-countdown.ts")

let s3: RunningS3
let client: S3Client

/** Starts a run and kills it with SIGKILL once `committed` nodes have finished. */
const runUntilKilled = (env: Record<string, string>, committed: number): Promise<Array<string>> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "run", RECIPE, "--store", "s3://mixwright/store", "--run-id", "killed"], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "pipe"]
    })
    const finished: Array<string> = []
    let buffer = ""
    child.stderr.setEncoding("utf8")
    child.stderr.on("data", (chunk: string) => {
      buffer += chunk
      const lines = buffer.split("\n")
      buffer = lines.pop()!
      for (const line of lines) {
        if (!line.startsWith("{")) continue
        const event = JSON.parse(line)
        if (event.type === "node-finished" && event.status === "computed") finished.push(event.nodeId)
        if (finished.length >= committed && child.exitCode === null) child.kill("SIGKILL")
      }
    })
    child.on("exit", (code, signal) => (signal === "SIGKILL" ? resolve(finished) : reject(new Error(`run ended before the kill (exit ${code})`))))
  })

const objectsUnder = async (prefix: string) => {
  const out = new Map<string, string>()
  let token: string | undefined
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: "mixwright", Prefix: prefix, ContinuationToken: token }))
    for (const object of page.Contents ?? []) out.set(object.Key!, `${object.ETag}@${object.LastModified?.toISOString()}`)
    token = page.NextContinuationToken
  } while (token !== undefined)
  return out
}

beforeAll(async () => {
  s3 = await startS3({ buckets: ["mixwright"] })
  client = new S3Client({ ...s3.options })
}, 60_000)

afterAll(async () => {
  client?.destroy()
  await s3?.stop()
})

describe("S3 resume after SIGKILL", () => {
  it("keeps committed artifacts and matches an uninterrupted run", async () => {
    const committed = await runUntilKilled(s3.env, 2)
    expect(committed.length).toBeGreaterThanOrEqual(2)
    const before = new Map<string, Map<string, string>>()
    for (const nodeId of committed) {
      const manifest = await client.send(new HeadObjectCommand({ Bucket: "mixwright", Key: `store/artifacts/${nodeId}/_manifest.json` }))
      expect(manifest.ContentLength).toBeGreaterThan(0)
      before.set(nodeId, await objectsUnder(`store/artifacts/${nodeId}/`))
    }

    // Let the clock move past S3's one-second LastModified resolution.
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const resumed = spawnSync(process.execPath, [CLI, "run", RECIPE, "--store", "s3://mixwright/store", "--run-id", "resumed", "--json"], {
      cwd: ROOT,
      env: { ...process.env, ...s3.env },
      encoding: "utf8",
      maxBuffer: 64 << 20
    })
    expect(resumed.status, resumed.stderr.slice(-2000)).toBe(0)
    const summary = JSON.parse(resumed.stdout) as RunSummary
    expect(summary.status).toBe("succeeded")
    for (const nodeId of committed) {
      expect(summary.nodes.find((n) => n.id === nodeId)!.status).toBe("cached")
      expect(await objectsUnder(`store/artifacts/${nodeId}/`)).toEqual(before.get(nodeId))
    }

    const local = path.join(mkdtempSync(path.join(tmpdir(), "mixwright-resume-")), "store")
    const clean = spawnSync(process.execPath, [CLI, "run", RECIPE, "--store", local, "--json"], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 })
    expect(clean.status, clean.stderr.slice(-2000)).toBe(0)
    const reference = JSON.parse(clean.stdout) as RunSummary
    const mixName = Object.keys(reference.outputs).find((name) => name.startsWith("mix:"))!
    const localBytes = readFileSync(reference.outputs[mixName]![0]!)
    const key = summary.outputs[mixName]![0]!.replace("s3://mixwright/", "")
    const s3Object = await client.send(new GetObjectCommand({ Bucket: "mixwright", Key: key }))
    const s3Bytes = await s3Object.Body!.transformToByteArray()
    const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")
    expect(sha(s3Bytes)).toBe(sha(localBytes))
  }, 600_000)
})
