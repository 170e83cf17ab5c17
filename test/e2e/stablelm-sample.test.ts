/**
 * The main job end to end: the StableLM 2 1.6B sample mix through the real CLI, on
 * local disk, on S3 (s3rver on loopback) and on Slurm, with byte-for-byte comparisons.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3"
import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { RunSummary } from "../../runtime/executor/types.ts"
import { startS3, type RunningS3 } from "../support/s3.ts"

const ROOT = path.join(import.meta.dirname, "..", "..")
const CLI = path.join(ROOT, "cli", "entry.ts")
const RECIPE = path.join(ROOT, "recipes", "stablelm-2-1_6b.ts")
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3"
const hasNumpy = spawnSync(PYTHON, ["-c", "import numpy"], { stdio: "ignore" }).status === 0
// A node busy with other jobs still takes ours; only a down or missing node skips.
const hasSlurm = /idle|mix|alloc|comp/.test(spawnSync("sinfo", ["-h", "-o", "%T"], { encoding: "utf8" }).stdout ?? "")
if (!hasSlurm) console.warn("no idle Slurm node; skipping the Slurm run (start one with: bash scripts/slurm/start-cluster.sh)")

const mixwright = (args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 })
  if (result.status !== 0) throw new Error(`mixwright ${args.join(" ")} exited ${result.status}:\n${result.stderr.slice(-3000)}`)
  return JSON.parse(result.stdout) as RunSummary
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

/** Output files of the mix and export nodes by `<node kind>/<file name>`, with their hashes. */
const outputHashes = async (summary: RunSummary, read: (uri: string) => Promise<Uint8Array>) => {
  const hashes: Record<string, string> = {}
  for (const [nodeName, uris] of Object.entries(summary.outputs)) {
    const kind = nodeName.split(":")[0]!
    if (kind !== "mix" && kind !== "export") continue
    for (const uri of uris) hashes[`${nodeName}/${path.basename(uri)}`] = sha256(await read(uri))
  }
  return hashes
}

const readLocal = async (uri: string) => readFileSync(uri)

let work: string
let first: RunSummary
let second: RunSummary
let localHashes: Record<string, string>

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), "mixwright-e2e-"))
  first = mixwright(["run", RECIPE, "--profile", "sample", "--store", path.join(work, "local"), "--run-id", "first", "--json"])
  second = mixwright(["run", RECIPE, "--profile", "sample", "--store", path.join(work, "local"), "--run-id", "second", "--json"])
}, 600_000)

describe("StableLM 2 sample mix, local", () => {
  it("computes every node on the first run", () => {
    expect(first.status).toBe("succeeded")
    expect(first.totals.failed).toBe(0)
    expect(first.totals.computed).toBeGreaterThan(100)
    expect(first.nodes.filter((n) => n.status === "external").map((n) => n.name).sort()).toEqual(
      ["stage:dpo", "stage:gguf", "stage:openvino", "stage:pretrain", "stage:sft"]
    )
  })

  it("matches every planned share within one percentage point", () => {
    const mix = first.mixes[0]!
    expect(mix.components.length).toBe(28)
    for (const component of mix.components) {
      expect(Math.abs(component.measuredShare - component.plannedShare), component.name).toBeLessThan(0.01)
      expect(component.measuredTokens, component.name).toBeGreaterThan(0)
    }
    expect(mix.totalTokens).toBe(2_000_000)
  })

  it("computes nothing on an identical second run", () => {
    expect(second.status).toBe("succeeded")
    expect(second.totals.computed).toBe(0)
    expect(second.totals.cached).toBe(first.totals.computed)
    expect(second.mixes[0]!.components.map((c) => c.measuredTokens)).toEqual(first.mixes[0]!.components.map((c) => c.measuredTokens))
  })

  it("writes a gpt-neox config whose data paths exist", () => {
    const configs = second.outputs["gpt-neox"]
    expect(configs?.length).toBe(1)
    const config = JSON.parse(readFileSync(configs![0]!, "utf8"))
    expect(config.train_data_paths.length).toBe(28)
    for (const prefix of config.train_data_paths as Array<string>) {
      expect(statSync(`${prefix}.bin`).size, prefix).toBeGreaterThan(0)
      expect(statSync(`${prefix}.idx`).size, prefix).toBeGreaterThan(0)
    }
    const weights = config.train_data_weights as Array<number>
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3)
  })

  it.skipIf(!hasNumpy)("writes indexed datasets an independent reader accepts", () => {
    const exportFiles = Object.entries(first.outputs).find(([name]) => name.startsWith("export:"))![1]
    const prefixes = exportFiles.filter((uri) => uri.endsWith(".idx")).map((uri) => uri.slice(0, -4))
    const reader = path.join(ROOT, "test", "formats", "read_indexed.py")
    for (const prefix of prefixes.slice(0, 5)) {
      const result = spawnSync(PYTHON, [reader, prefix, "2"], { encoding: "utf8" })
      expect(result.status, result.stderr).toBe(0)
      const parsed = JSON.parse(result.stdout)
      expect(parsed.documents ?? parsed.sequence_count ?? parsed.sequences?.length).toBeGreaterThan(0)
    }
  })

  it("marks sizes measured in a plan after the run", () => {
    const result = spawnSync(process.execPath, [CLI, "plan", RECIPE, "--profile", "sample", "--store", path.join(work, "local"), "--json"], { encoding: "utf8", cwd: ROOT })
    expect(result.status, result.stderr).toBe(0)
    const plan = JSON.parse(result.stdout)
    const components = plan.mixes[0].components as Array<{ name: string; size: number; marks: { size: string; tokens: string } }>
    const available = new Map(first.mixes[0]!.components.map((c) => [c.name, c.availableTokens]))
    for (const component of components) {
      expect(component.marks.size, component.name).toBe("measured")
      expect(component.size, component.name).toBe(available.get(component.name))
      expect(component.marks.tokens, component.name).toBe("derived")
    }
  })

  it("lists the mix output as Parquet", () => {
    const mixFiles = Object.entries(first.outputs).find(([name]) => name.startsWith("mix:"))![1]
    expect(mixFiles.some((uri) => uri.endsWith(".parquet"))).toBe(true)
  })
})

describe("StableLM 2 sample mix, S3", () => {
  let s3: RunningS3
  let summary: RunSummary
  let client: S3Client

  beforeAll(async () => {
    localHashes = await outputHashes(first, readLocal)
    s3 = await startS3({ buckets: ["mixwright"] })
    client = new S3Client({ ...s3.options })
    const samples = path.join(ROOT, "samples")
    const upload = async (dir: string): Promise<void> => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name)
        if (entry.isDirectory()) await upload(full)
        else await client.send(new PutObjectCommand({ Bucket: "mixwright", Key: `samples/${path.relative(samples, full)}`, Body: readFileSync(full) }))
      }
    }
    await upload(samples)
    summary = mixwright(
      ["run", RECIPE, "--profile", "sample", "--store", "s3://mixwright/store", "--run-id", "s3", "--json"],
      { ...s3.env, MIXWRIGHT_SAMPLES: "s3://mixwright/samples" }
    )
  }, 600_000)

  afterAll(async () => {
    client?.destroy()
    await s3?.stop()
  })

  it("reads sources from S3 and matches the local bytes", async () => {
    expect(summary.status).toBe("succeeded")
    const readS3 = async (uri: string) => {
      const [, bucket, ...key] = uri.replace("s3://", "/").split("/")
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key.join("/") }))
      return response.Body!.transformToByteArray()
    }
    const hashes = await outputHashes(summary, readS3)
    expect(Object.keys(hashes).length).toBeGreaterThan(50)
    expect(hashes).toEqual(localHashes)
  })
})

describe.skipIf(!hasSlurm)("StableLM 2 sample mix, Slurm", () => {
  it("produces the local executor's bytes", async () => {
    const summary = mixwright(["run", RECIPE, "--profile", "sample", "--store", path.join(work, "slurm"), "--run-id", "slurm", "--executor", "slurm", "--json"])
    expect(summary.status).toBe("succeeded")
    expect(await outputHashes(summary, readLocal)).toEqual(localHashes ?? (await outputHashes(first, readLocal)))
  }, 900_000)
})
