import { describe, expect, it } from "vitest"
import { globToRegExp, hasGlobSyntax, literalPrefix } from "../../connectors/storage/glob.ts"

describe("glob matching", () => {
  const cases: ReadonlyArray<readonly [pattern: string, path: string, matches: boolean]> = [
    ["/d/*.parquet", "/d/a.parquet", true],
    ["/d/*.parquet", "/d/sub/a.parquet", false],
    ["/d/*.parquet", "/d/.parquet", true],
    ["/d/**/*.parquet", "/d/a.parquet", true],
    ["/d/**/*.parquet", "/d/x/y/z/a.parquet", true],
    ["/d/**", "/d/x/y", true],
    ["/d/**", "/e/x", false],
    ["/d/p-?.bin", "/d/p-1.bin", true],
    ["/d/p-?.bin", "/d/p-10.bin", false],
    ["/d/p-?.bin", "/d/p-/.bin", false],
    ["/{a,b}/x", "/a/x", true],
    ["/{a,b}/x", "/c/x", false],
    ["/{a,b{1,2}}/x", "/b2/x", true],
    ["/{a,b{1,2}}/x", "/b3/x", false],
    ["/d/[ab].txt", "/d/a.txt", true],
    ["/d/[!ab].txt", "/d/a.txt", false],
    ["/d/[!ab].txt", "/d/c.txt", true],
    ["/d/\\*.txt", "/d/*.txt", true],
    ["/d/\\*.txt", "/d/a.txt", false],
    ["/d/a+b (1).txt", "/d/a+b (1).txt", true],
    ["/d/a.txt", "/d/aXtxt", false],
    ["/données/*.txt", "/données/é.txt", true],
    ["s3://b/k/*.parquet", "s3://b/k/0.parquet", true]
  ]
  for (const [pattern, path, matches] of cases) {
    it(`${pattern} ${matches ? "matches" : "rejects"} ${path}`, () => {
      expect(globToRegExp(pattern).test(path)).toBe(matches)
    })
  }

  it("literalPrefix stops at the first glob segment", () => {
    expect(literalPrefix("/data/2024-*/x.parquet")).toBe("/data/")
    expect(literalPrefix("/data/{a,b}/x")).toBe("/data/")
    expect(literalPrefix("/data/sub/x.parquet")).toBe("/data/sub/x.parquet")
    expect(literalPrefix("*.parquet")).toBe("")
    expect(literalPrefix("k/p-?.bin")).toBe("k/")
  })

  it("hasGlobSyntax finds glob characters", () => {
    expect(hasGlobSyntax("/a/b.txt")).toBe(false)
    expect(hasGlobSyntax("/a/*.txt")).toBe(true)
    expect(hasGlobSyntax("/a/{b,c}")).toBe(true)
  })
})
