import { describe, expect, it } from "vitest"
import type { Row } from "../runtime/batch.ts"

describe("toolchain", () => {
  it("runs on node 22 or newer", () => {
    const row: Row = { text: "a" }
    expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(22)
    expect(row.text).toBe("a")
  })
})
