import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { runPlan } from "../../runtime/executor/run.ts"
import type { RunSummary } from "../../runtime/executor/types.ts"
import { isCommitted } from "../../runtime/store/store.ts"
import { hasData, PlanBuilder, readParams, runLocal, SAMPLE_PARQUET, tempRoot } from "./fixtures.ts"

const dir = tempRoot("bad-input")
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const write = (name: string, bytes: Uint8Array | string): string => {
  const file = path.join(dir, "inputs", name)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, bytes)
  return file
}

const goodLines = ["{\"text\":\"first document\"}", "{\"text\":\"second document\"}"]

/** Copies a Parquet file and overwrites its footer (between the data and the footer length) with 0xff bytes. */
const corruptFooter = (parquet: Buffer): Buffer => {
  const copy = Buffer.from(parquet)
  const footerLength = copy.readUInt32LE(copy.length - 8)
  copy.fill(0xff, copy.length - 8 - footerLength, copy.length - 8)
  return copy
}

/** Files with one problem each, and what a skip run counts. */
const cases = () => {
  const parquet = hasData ? fs.readFileSync(SAMPLE_PARQUET) : undefined
  return [
    {
      label: "invalid UTF-8",
      file: write("utf8.jsonl", Buffer.concat([
        Buffer.from(goodLines[0] + "\n{\"text\":\""),
        Buffer.from([0xff, 0xfe]),
        Buffer.from("\"}\n" + goodLines[1] + "\n")
      ])),
      format: "jsonl",
      reason: "InvalidUtf8",
      message: "not valid UTF-8",
      keptRows: 2
    },
    {
      label: "missing text field",
      file: write("missing.jsonl", `${goodLines[0]}\n{"body":"no text here"}\n${goodLines[1]}\n`),
      format: "jsonl",
      reason: "MissingField",
      message: "\"text\" is missing",
      keptRows: 2
    },
    {
      label: "invalid JSON",
      file: write("json.jsonl", `${goodLines[0]}\n{"text": unquoted}\n${goodLines[1]}\n`),
      format: "jsonl",
      reason: "InvalidJson",
      message: "not valid JSON",
      keptRows: 2
    },
    {
      label: "empty JSONL file",
      file: write("empty.jsonl", ""),
      format: "jsonl",
      reason: "Empty",
      message: "empty",
      keptRows: 0
    },
    ...(parquet === undefined ? [] : [
      {
        label: "truncated Parquet",
        file: write("truncated.parquet", parquet.subarray(0, parquet.length - 40)),
        format: "parquet",
        reason: "Truncated",
        message: "truncated",
        keptRows: 0
      },
      {
        label: "corrupt Parquet",
        file: write("corrupt.parquet", corruptFooter(parquet)),
        format: "parquet",
        reason: "Corrupt",
        message: "corrupt",
        keptRows: 0
      },
      {
        label: "empty Parquet file",
        file: write("empty.parquet", ""),
        format: "parquet",
        reason: "Empty",
        message: "empty",
        keptRows: 0
      }
    ])
  ]
}

const planFor = (file: string, format: string, onError: "fail" | "skip") => {
  const plan = new PlanBuilder()
  const read = plan.add("read", "read:bad", readParams("bad", [file], { format, onError }))
  plan.add("tokenize", "tokenize:bad", { tokenizer: "cl100k_base", field: "text", appendEos: true }, [read])
  const good = write("good.jsonl", goodLines.join("\n") + "\n")
  plan.add("read", "read:good", readParams("good", [good]))
  return plan.plan()
}

const status = (summary: RunSummary, name: string) => summary.nodes.find((node) => node.name === name)!

describe("bad input files", () => {
  for (const testCase of cases()) {
    it(`${testCase.label} fails the node under onError fail`, async () => {
      const root = path.join(dir, `fail-${testCase.reason}-${testCase.format}`)
      const plan = planFor(testCase.file, testCase.format, "fail")
      const summary = await runLocal(runPlan(plan, { root }))
      const read = status(summary, "read:bad")
      expect(summary.status).toBe("failed")
      expect(read.status).toBe("failed")
      expect(read.error).toContain(testCase.file)
      expect(read.error?.toLowerCase()).toContain(testCase.message.toLowerCase())
      expect(status(summary, "tokenize:bad").error).toBe("input read:bad failed")
      expect(status(summary, "read:good").status).toBe("computed")
      expect(await runLocal(isCommitted(root, plan.nodes[0].id))).toBe(false)
      const artifact = path.join(root, "artifacts", plan.nodes[0].id)
      const files = fs.existsSync(artifact) ? fs.readdirSync(artifact) : []
      expect(files.filter((name) => name.startsWith("part-") || name === "_manifest.json")).toEqual([])
    })

    it(`${testCase.label} is a counted skip under onError skip`, async () => {
      const root = path.join(dir, `skip-${testCase.reason}-${testCase.format}`)
      const plan = planFor(testCase.file, testCase.format, "skip")
      const summary = await runLocal(runPlan(plan, { root }))
      const read = status(summary, "read:bad")
      expect(read.status).toBe("computed")
      expect(read.skips).toEqual({ [testCase.reason]: 1 })
      expect(read.rowsOut).toBe(testCase.keptRows)
    })
  }
})
