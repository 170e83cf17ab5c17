/**
 * Input checks of the Slurm driver that fail before any Slurm command runs, so they
 * need no cluster.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { StorageLive } from "../../connectors/storage/layer.ts"
import { runNodesOnSlurm, type SlurmNode } from "../../runtime/backends/slurm/index.ts"

const node = (id: string, shards: number, dependsOn: ReadonlyArray<string> = []): SlurmNode => ({ id, name: `n-${id}`, shards, dependsOn })

const failure = (nodes: ReadonlyArray<SlurmNode>, storeDir: string, retries = 1) =>
  Effect.runPromise(Effect.flip(runNodesOnSlurm({ nodes, storeDir, retries, taskCommand: () => ["true"] }).pipe(Effect.provide(StorageLive))))

describe("runNodesOnSlurm input checks", () => {
  const storeDir = mkdtempSync(join(tmpdir(), "mixwright-slurm-input-"))

  it("rejects a dependency on a later node", async () => {
    const error = await failure([node("b", 1, ["a"]), node("a", 1)], storeDir)
    expect(error.reason).toBe("InvalidArgument")
    expect(error.message).toContain("nodes[0].dependsOn names a")
    expect(error.message).toContain("topological order")
  })

  it("rejects duplicate ids and bad shard counts", async () => {
    expect((await failure([node("a", 1), node("a", 2)], storeDir)).message).toContain("nodes[1].id a appears twice")
    expect((await failure([node("a", 0)], storeDir)).message).toContain("nodes[0].shards must be a positive integer, got 0")
    expect((await failure([node("a", 1)], storeDir, -1)).message).toContain("retries must be a non-negative integer")
  })

  it("rejects a store on S3", async () => {
    const error = await failure([node("a", 1)], "s3://bucket/store")
    expect(error.reason).toBe("InvalidArgument")
    expect(error.message).toContain("shared file system")
  })

  it("reports a corrupt state file with its path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mixwright-slurm-state-"))
    mkdirSync(join(dir, "slurm"))
    writeFileSync(join(dir, "slurm", "state.json"), '{"version": 1, "nodes": {"a": {"name": 3}}}')
    const error = await failure([node("a", 1)], dir)
    expect(error.reason).toBe("StateInvalid")
    expect(error.message).toContain(join(dir, "slurm", "state.json"))
    expect(error.message).toContain("delete the file to start over")
  })
})
