import { describe, expect, it } from "vitest"
import { checkQdcRow, filterByQdc, selectDiverse } from "../../runtime/ops/qdc/index.ts"

const dup = (i: number) => ({ id: `d${i}`, text: "the exact same text for every duplicate row in this set" })
const rows = [
  dup(0),
  { id: "u0", text: "first unique text about numbers and targets" },
  dup(1),
  { id: "u1", text: "second unique document on a different subject" },
  dup(2),
  dup(3),
  { id: "u2", text: "third text that shares nothing with the others" },
  dup(4)
]

describe("qdc filters", () => {
  it("checks a row against bounds", () => {
    const row = { text: "one two three", backtracks: 4 }
    expect(checkQdcRow(row, { rule: "qdc", metric: "tokens", min: 2, max: 3 })).toBeUndefined()
    expect(checkQdcRow(row, { rule: "qdc", metric: "tokens", min: 4 })).toBe("qdc.tokens")
    expect(checkQdcRow(row, { rule: "qdc", metric: "backtracks", max: 3 })).toBe("qdc.backtracks")
    expect(checkQdcRow(row, { rule: "qdc", metric: "depth", max: 3 })).toBe("qdc.depth.missing")
  })

  it("counts drops against the first rule", () => {
    const input = [
      { text: "a", verified: true },
      { text: "a b c d", verified: false },
      { text: "a b c d e f", verified: true },
      { text: "a b", verified: true }
    ]
    const result = filterByQdc(input, [
      { rule: "qdc", metric: "verified", min: 1 },
      { rule: "qdc", metric: "tokens", min: 2, max: 5 }
    ])
    expect(result.rows.map((r) => r.text)).toEqual(["a b"])
    expect(result.dropped).toEqual({ "qdc.verified": 1, "qdc.tokens": 2 })
  })
})

describe("selectDiverse", () => {
  it("caps rows per cluster", () => {
    const result = selectDiverse(rows, { maxPerCluster: 1, seed: 1 })
    expect(result.stats.clusters).toBe(4)
    expect(result.rows.length).toBe(4)
    expect(result.rows.filter((r) => String(r.id).startsWith("d")).length).toBe(1)
    expect(result.rows.filter((r) => String(r.id).startsWith("u")).map((r) => r.id)).toEqual(["u0", "u1", "u2"])
  })

  it("is deterministic for a seed", () => {
    const ids = (seed: number) => selectDiverse(rows, { maxPerCluster: 2, seed }).rows.map((r) => r.id)
    expect(ids(7)).toEqual(ids(7))
    const seen = new Set(Array.from({ length: 10 }, (_, s) => ids(s).join(",")))
    expect(seen.size).toBeGreaterThan(1)
  })

  it("stratifies with equal allocation", () => {
    const input = [
      ...Array.from({ length: 10 }, (_, i) => ({ text: `a${i}`, level: "a" })),
      ...Array.from({ length: 2 }, (_, i) => ({ text: `b${i}`, level: "b" })),
      { text: "c0", level: "c" }
    ]
    const result = selectDiverse(input, { stratifyBy: "level", limit: 6, seed: 3 })
    expect(result.stats.strata).toEqual({ a: 3, b: 2, c: 1 })
    expect(result.rows.length).toBe(6)
    // Output keeps input order.
    const positions = result.rows.map((r) => input.indexOf(r as (typeof input)[number]))
    expect(positions).toEqual([...positions].sort((x, y) => x - y))
    const proportional = selectDiverse(input, { stratifyBy: "level", limit: 6, seed: 3, allocation: "proportional" })
    expect(proportional.stats.strata).toEqual({ a: 5, b: 1, c: 0 })
  })

  it("stratifies by a complexity bucket", () => {
    const input = [0, 0, 0, 0, 1, 2, 3, 5, 9, 12].map((backtracks, i) => ({ text: `t${i}`, backtracks }))
    const result = selectDiverse(input, { stratifyBy: "backtracks", limit: 5, seed: 0 })
    expect(result.stats.strata).toEqual({ "0": 1, "1": 1, "2-3": 1, "4-7": 1, "8-15": 1 })
  })

  it("samples a plain limit", () => {
    const result = selectDiverse(rows, { limit: 3, seed: 2 })
    expect(result.rows.length).toBe(3)
    expect(selectDiverse(rows, { limit: 3, seed: 2 }).rows).toEqual(result.rows)
  })
})
