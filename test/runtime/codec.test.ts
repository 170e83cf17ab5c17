import { describe, expect, it } from "vitest"
import type { Row } from "../../runtime/batch.ts"
import { decodeArtifactFile, inferSchema, makeArtifactWriter } from "../../runtime/store/codec.ts"
import { concatBytes } from "../../connectors/formats/bytes.ts"

const roundTrip = async (batches: ReadonlyArray<ReadonlyArray<Row>>): Promise<Array<Row>> => {
  const schema = inferSchema(batches[0])
  const writer = makeArtifactWriter(schema, "test.parquet")
  const bytes = concatBytes([...batches.map((batch) => writer.write(batch)), writer.finish()])
  const source = { byteLength: bytes.byteLength, slice: async (start: number, end?: number) => bytes.slice(start, end).buffer as ArrayBuffer }
  const rows: Array<Row> = []
  for await (const batch of decodeArtifactFile(source, schema, "test.parquet")) rows.push(...batch)
  return rows
}

describe("artifact codec", () => {
  it("infers column types from the first batch", () => {
    expect(inferSchema([
      { text: "a", score: 1.5, keep: true, tokens: new Uint32Array([1]), meta: { a: 1 }, empty: null },
      { text: "b", score: "high", keep: false, tokens: null, meta: null, empty: null }
    ])).toEqual([
      { name: "text", type: "string" },
      { name: "score", type: "json" },
      { name: "keep", type: "boolean" },
      { name: "tokens", type: "uint32[]" },
      { name: "meta", type: "json" },
      { name: "empty", type: "json" }
    ])
  })

  it("round-trips every column type", async () => {
    const rows = await roundTrip([
      [
        { text: "héllo", score: 0.25, keep: true, tokens: new Uint32Array([0, 70000, 4294967295]), meta: { list: [1, "x"] }, later: null },
        { text: null, score: null, keep: null, tokens: new Uint32Array(0), meta: null, later: null }
      ],
      [{ text: "two", score: 2, keep: false, tokens: new Uint32Array([5]), meta: "plain", later: 42 }]
    ])
    expect(rows).toEqual([
      { text: "héllo", score: 0.25, keep: true, tokens: new Uint32Array([0, 70000, 4294967295]), meta: { list: [1, "x"] }, later: null },
      { text: null, score: null, keep: null, tokens: new Uint32Array(0), meta: null, later: null },
      { text: "two", score: 2, keep: false, tokens: new Uint32Array([5]), meta: "plain", later: 42 }
    ])
  })

  it("writes equal bytes for equal rows", () => {
    const encode = () => {
      const rows = [{ text: "same", tokens: new Uint32Array([1, 2, 3]) }]
      const writer = makeArtifactWriter(inferSchema(rows), "x")
      return concatBytes([writer.write(rows), writer.finish()])
    }
    expect(encode()).toEqual(encode())
  })
})
