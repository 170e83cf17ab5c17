import * as fs from "node:fs"
import * as path from "node:path"
import { Stream } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { writeArrowIpc } from "../../connectors/formats/arrow.ts"
import { runPlan } from "../../runtime/executor/run.ts"
import { readArtifactRows } from "../../runtime/store/store.ts"
import { hasData, PlanBuilder, readParams, runLocal, SAMPLE_PARQUET, tempRoot, WEBTEXT } from "./fixtures.ts"

const root = tempRoot("read-formats")
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

const readNode = async (name: string, params: ReturnType<typeof readParams>) => {
  const plan = new PlanBuilder()
  const id = plan.add("read", `read:${name}`, params)
  const summary = await runLocal(runPlan(plan.plan(), { root }))
  expect(summary.status).toBe("succeeded")
  const batches = await runLocal(Stream.runCollect(readArtifactRows(root, id)))
  return batches.flat()
}

describe.skipIf(!hasData)("read operator formats", () => {
  it("reads gzip JSONL shards", async () => {
    const rows = await readNode("dolma", readParams("dolma", [path.join(WEBTEXT, "allenai__dolma/tests/data/multiple_files/*.jsonl.gz")], { fields: { text: "text", id: "id" } }))
    expect(rows).toHaveLength(20)
    expect(rows.every((row) => typeof row.text === "string" && typeof row.id === "string" && row.source === "dolma")).toBe(true)
  })

  it("reads zstd JSONL with a mapped field", async () => {
    const rows = await readNode("zst", readParams("zst", [path.join(WEBTEXT, "allenai__dolma/tests/data/formats/test.jsonl.zst")], { fields: { text: "message" } }))
    const plain = JSON.parse(fs.readFileSync(path.join(WEBTEXT, "allenai__dolma/tests/data/formats/test.jsonl"), "utf8"))
    expect(rows).toEqual([{ text: plain.message, source: "zst" }])
  })

  it("reads Parquet through range reads", async () => {
    const rows = await readNode("parquet", readParams("parquet", [SAMPLE_PARQUET], { format: "parquet" }))
    expect(rows).toHaveLength(7)
    expect(rows.every((row) => typeof row.text === "string" && (row.text as string).length > 0)).toBe(true)
  })

  it("reads Arrow IPC files", async () => {
    const file = path.join(root, "inputs/docs.arrow")
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const documents = [{ body: "first arrow document", n: 1 }, { body: "second arrow document", n: 2 }]
    fs.writeFileSync(file, writeArrowIpc(documents, { columns: [{ name: "body", type: "string" }, { name: "n", type: "int32" }], format: "file" }))
    const rows = await readNode("arrow", readParams("arrow", [file], { format: "arrow", fields: { text: "body" } }))
    expect(rows).toEqual([{ text: "first arrow document", source: "arrow" }, { text: "second arrow document", source: "arrow" }])
  })

  it("reads a text file as one document", async () => {
    const file = path.join(root, "inputs/notes.txt")
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, "line one\nline two\n")
    const rows = await readNode("text", readParams("text", [file], { format: "text" }))
    expect(rows).toEqual([{ text: "line one\nline two\n", source: "text" }])
  })

  it("fails a glob that matches nothing", async () => {
    const plan = new PlanBuilder()
    plan.add("read", "read:none", readParams("none", [path.join(root, "missing/*.jsonl")]))
    const summary = await runLocal(runPlan(plan.plan(), { root }))
    expect(summary.nodes[0].status).toBe("failed")
    expect(summary.nodes[0].error).toContain("no file matches")
  })
})
