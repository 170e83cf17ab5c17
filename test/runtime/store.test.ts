import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, Layer, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { countingStorage, makeStorage, makeStorageLayer } from "../../connectors/storage/layer.ts"
import { Storage } from "../../connectors/storage/Storage.ts"
import { runPlan } from "../../runtime/executor/run.ts"
import { commitNode, planShards, runShard } from "../../runtime/executor/shard.ts"
import type { RunEvent } from "../../runtime/executor/types.ts"
import { isCommitted, readArtifactRows, readManifest, removeArtifact } from "../../runtime/store/store.ts"
import { type RunningS3, startS3 } from "../support/s3.ts"
import { hasData, MIXTURE_DIR, PlanBuilder, readParams, runLocal, tempRoot } from "./fixtures.ts"

/** read (5 JSONL files, one shard each) -> tokenize. */
const shardedPlan = () => {
  const plan = new PlanBuilder()
  const read = plan.add("read", "read:mixture", readParams("mixture", [path.join(MIXTURE_DIR, "*.jsonl")]))
  plan.add("tokenize", "tokenize:mixture", { tokenizer: "cl100k_base", field: "text", appendEos: true }, [read])
  plan.add("mix", "mix:small", {
    seed: 4,
    sequenceLength: 512,
    packing: "concat",
    totalTokens: 5000,
    components: [{ name: "mixture", weight: 1, tokens: 5000 }]
  }, [plan.nodes[1].id])
  return plan.plan()
}

describe.skipIf(!hasData)("per-shard API", () => {
  const root = tempRoot("store")
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }))
  const plan = shardedPlan()
  const [read, tokenize] = plan.nodes

  it("commits a node only after every shard", async () => {
    const before = await runLocal(planShards(plan, read.id, { root }))
    expect(before).toEqual({ nodeId: read.id, shards: 5, committed: [], nodeCommitted: false })

    const first = await runLocal(runShard(plan, read.id, 0, { root }))
    await runLocal(runShard(plan, "read:mixture", 3, { root }))
    expect((await runLocal(planShards(plan, read.id, { root }))).committed).toEqual([0, 3])

    const again = await runLocal(runShard(plan, read.id, 0, { root }))
    expect(again).toEqual(first)

    const incomplete = await runLocal(Effect.flip(commitNode(plan, read.id, { root })))
    expect(incomplete.reason).toBe("NotCommitted")
    expect(incomplete.message).toContain("shard 1 of 5")
    expect(await runLocal(isCommitted(root, read.id))).toBe(false)

    const blocked = await runLocal(Effect.flip(runShard(plan, tokenize.id, 0, { root })))
    expect(blocked.reason).toBe("NotCommitted")
    expect(blocked.message).toContain("input read:mixture is not committed")
  })

  it("resumes the remaining shards in runPlan", async () => {
    const events: Array<RunEvent> = []
    const summary = await runLocal(runPlan(plan, { root, onEvent: (event) => events.push(event) }))
    expect(summary.status).toBe("succeeded")
    const started = events.find((event) => event.type === "node-started" && event.nodeId === read.id)
    expect(started).toMatchObject({ shards: 5, resumedShards: 2 })
    const manifest = (await runLocal(readManifest(root, read.id)))!
    expect(manifest.shards.map((shard) => shard.shard)).toEqual([0, 1, 2, 3, 4])
    expect(manifest.rows).toBe(50)
    expect(manifest.shards.every((shard) => shard.files[0].sha256.length === 64)).toBe(true)
    const rows = await runLocal(Stream.runCollect(readArtifactRows(root, read.id)))
    expect(rows.reduce((total, batch) => total + batch.length, 0)).toBe(50)
  })

  it("globs a read node once per run", async () => {
    const counting = countingStorage(makeStorage())
    const fresh = tempRoot("store-count")
    try {
      await Effect.runPromise(Effect.provide(runPlan({ nodes: [read] }, { root: fresh }), Layer.succeed(Storage, counting)))
      expect(counting.counts.requests.glob).toBe(1)
      expect(counting.counts.requests.list).toBe(1)
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true })
    }
  })

  it("removes an artifact manifest first", async () => {
    const removed = await runLocal(removeArtifact(root, tokenize.id))
    expect(removed).toBeGreaterThan(0)
    expect(await runLocal(isCommitted(root, tokenize.id))).toBe(false)
    expect(fs.existsSync(path.join(root, "artifacts", tokenize.id))).toBe(false)
  })
})

describe.skipIf(!hasData)("artifact store on S3", () => {
  let s3: RunningS3
  let layer: Layer.Layer<Storage>
  beforeAll(async () => {
    s3 = await startS3({ buckets: ["store"] })
    layer = makeStorageLayer({ s3: { ...s3.options, conditionalWrites: "emulated" } })
  })
  afterAll(async () => {
    await s3?.stop()
  })

  it("runs and caches a plan with an s3 root", async () => {
    const plan = shardedPlan()
    const root = "s3://store/mixwright"
    const run = (runId: string) => Effect.runPromise(Effect.provide(runPlan(plan, { root, runId }), layer))
    const first = await run("one")
    expect(first.status).toBe("succeeded")
    expect(first.mixes[0].components[0].measuredTokens).toBe(5000)
    const second = await run("two")
    expect(second.nodes.map((node) => node.status)).toEqual(["cached", "cached", "cached"])
    const rows = await Effect.runPromise(Effect.provide(Stream.runCollect(readArtifactRows(root, plan.nodes[2].id)), layer))
    const tokens = rows.flatMap((batch) => batch.map((row) => (row.tokens as Uint32Array).length))
    expect(tokens.reduce((total, length) => total + length, 0)).toBe(5000)
    expect(first.outputs["mix:small"][0]).toBe(`${root}/artifacts/${plan.nodes[2].id}/part-00000.parquet`)
  })
})
