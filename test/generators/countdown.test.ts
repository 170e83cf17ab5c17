import { existsSync, readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import {
  decodeSearchTraceConfig,
  generateSearchTraces,
  parseCountdownProblem,
  parseCountdownProblems,
  reachableTargets,
  sampleCountdownProblem,
  searchCountdown,
  verifyCountdown
} from "../../connectors/generators/countdown/index.ts"
import { GeneratorError } from "../../connectors/generators/errors.ts"
import { makeRng } from "../../connectors/generators/random.ts"
import { SHARED_DATA } from "../support/data.ts"

const D1_COUNTDOWN = SHARED_DATA + "/math/dllm-reasoning__d1/dataset/countdown_cd3_test.jsonl"
const GAME24_CSV = SHARED_DATA + "/math/princeton-nlp__tree-of-thought-llm/src/tot/data/24/24.csv"

describe("makeRng", () => {
  it("repeats for the same seed", () => {
    const a = makeRng(42)
    const b = makeRng(42)
    const xs = Array.from({ length: 5 }, () => a.nextUint32())
    const ys = Array.from({ length: 5 }, () => b.nextUint32())
    expect(xs).toEqual(ys)
    expect(new Set(xs).size).toBe(5)
  })

  it("differs across seeds", () => {
    expect(makeRng(1).nextUint32()).not.toBe(makeRng(2).nextUint32())
  })

  it("int stays in range", () => {
    const rng = makeRng(7)
    const seen = new Set<number>()
    for (let i = 0; i < 2000; i++) seen.add(rng.int(3, 6))
    expect([...seen].sort()).toEqual([3, 4, 5, 6])
  })
})

describe("verifyCountdown", () => {
  const problem = { numbers: [25, 5, 4, 3], target: 23 }

  it("accepts a correct answer", () => {
    expect(verifyCountdown(problem, "25-4+5-3")).toEqual({ ok: true, reason: "correct", value: "23" })
    expect(verifyCountdown(problem, "(25 - 4) + (5 - 3)").ok).toBe(true)
  })

  it("accepts exact expressions with = and Answer:", () => {
    const p = { numbers: [6, 6, 5, 9], target: 24 }
    expect(verifyCountdown(p, "(9*6)-(6*5)")).toEqual({ ok: true, reason: "correct", value: "24" })
    expect(verifyCountdown(p, "Answer: 9 × 6 - 6 × 5 = 24").ok).toBe(true)
  })

  it("rejects a wrong value", () => {
    const result = verifyCountdown({ numbers: [6, 6, 5, 9], target: 24 }, "9*6-6-5")
    expect(result.ok).toBe(false)
    expect(result.reason).toBe("answer evaluates to 43, not the target 24")
  })

  it("rejects a wrong multiset", () => {
    const result = verifyCountdown({ numbers: [6, 6, 5, 9], target: 24 }, "9*6-6*5+6-6")
    expect(result.ok).toBe(false)
    expect(result.reason).toContain("each number must be used exactly once")
    expect(verifyCountdown({ numbers: [6, 6, 5, 9], target: 24 }, "4*6").ok).toBe(false)
  })

  it("rejects fractions in strict mode only", () => {
    const p = { numbers: [8, 3, 8, 3], target: 24 }
    const strict = verifyCountdown(p, "8/(3-8/3)")
    expect(strict.ok).toBe(false)
    expect(strict.reason).toContain("not a positive integer")
    expect(verifyCountdown(p, "8/(3-8/3)", { strict: false }).ok).toBe(true)
  })

  it("rejects garbage and a false claim", () => {
    expect(verifyCountdown({ numbers: [1, 2], target: 3 }, "").reason).toBe("empty answer")
    expect(verifyCountdown({ numbers: [1, 2], target: 3 }, "1+").reason).toContain("cannot parse")
    expect(verifyCountdown({ numbers: [1, 2], target: 3 }, "(1+2").reason).toContain("missing ')'")
    expect(verifyCountdown({ numbers: [1, 2], target: 3 }, "1+2 = 4").reason).toContain("target is 3")
    expect(verifyCountdown({ numbers: [1, 2], target: 3 }, "1+2a").reason).toContain("unexpected character 'a'")
  })
})

describe("searchCountdown", () => {
  const problem = { numbers: [25, 5, 4], target: 24 }

  for (const search of ["bfs", "dfs", "best-first"] as const) {
    it(`${search} solves and verifies`, () => {
      const result = searchCountdown(problem, { search, maxNodes: 500 })
      expect(result.solved).toBe(true)
      expect(result.outcome).toBe("solved")
      expect(verifyCountdown(problem, result.answer).ok).toBe(true)
      expect(result.depth).toBe(2)
      const lines = result.trace.split("\n")
      expect(lines[0]).toBe("Current state: [25, 5, 4], target 24.")
      expect(lines.at(-1)).toBe(`Answer: ${result.answer}`)
      expect(lines.at(-2)).toMatch(/^Goal reached: /)
      expect(lines.filter((l) => l.startsWith("Current state:")).length).toBe(result.nodesExpanded)
      expect(lines.filter((l) => l.startsWith("Backtrack to")).length).toBe(result.backtracks)
    })
  }

  it("dfs trace matches by hand", () => {
    const result = searchCountdown({ numbers: [3, 2], target: 1 }, { search: "dfs", maxNodes: 10 })
    expect(result.trace).toBe([
      "Current state: [3, 2], target 1.",
      "Try 3+2=5 -> [5] (not the target)",
      "Try 3-2=1 -> [1]",
      "Goal reached: 3-2=1.",
      "Answer: 3-2"
    ].join("\n"))
  })

  it("dfs backtracks and reports dead ends", () => {
    const result = searchCountdown({ numbers: [25, 5, 4, 3], target: 17 }, { search: "dfs", maxNodes: 1000 })
    expect(result.solved).toBe(true)
    expect(result.backtracks).toBeGreaterThan(0)
    expect(result.trace).toContain("Dead end at [")
    expect(verifyCountdown({ numbers: [25, 5, 4, 3], target: 17 }, result.answer).ok).toBe(true)
  })

  it("reports an unsolvable problem", () => {
    const result = searchCountdown({ numbers: [1, 1], target: 5 }, { search: "bfs", maxNodes: 100 })
    expect(result.solved).toBe(false)
    expect(result.outcome).toBe("exhausted")
    expect(result.answer).toBe("")
    expect(result.trace.split("\n").at(-1)).toBe("Search space exhausted: no solution exists.")
  })

  it("stops at the node budget", () => {
    const result = searchCountdown({ numbers: [2, 3, 5, 7, 11], target: 9999 }, { search: "bfs", maxNodes: 5 })
    expect(result.outcome).toBe("budget")
    expect(result.nodesExpanded).toBe(5)
    expect(result.trace.split("\n").at(-1)).toBe("Node budget of 5 exhausted: no solution found.")
  })

  it("best-first expands fewer nodes than bfs here", () => {
    const p = { numbers: [6, 6, 5, 9], target: 24 }
    const bfs = searchCountdown(p, { search: "bfs", maxNodes: 2000 })
    const best = searchCountdown(p, { search: "best-first", heuristic: "distance", maxNodes: 2000 })
    expect(best.nodesExpanded).toBeLessThan(bfs.nodesExpanded)
    for (const heuristic of ["sum-distance", "factor-distance"] as const) {
      const r = searchCountdown(p, { search: "best-first", heuristic, maxNodes: 2000 })
      expect(r.solved).toBe(true)
      expect(r.trace).toContain(" h=")
    }
  })

  it("reachableTargets enumerates by hand", () => {
    expect([...reachableTargets([3, 2])].sort((a, b) => a - b)).toEqual([1, 5, 6])
  })
})

describe("generateSearchTraces", () => {
  const base = decodeSearchTraceConfig({ type: "search-trace", task: "game24", search: "dfs", count: 20, seed: 5 })

  it("decodes defaults", () => {
    expect(base.heuristic).toBe("distance")
    expect(base.maxNodes).toBe(2000)
  })

  it("rejects a bad config with its path", () => {
    expect(() => decodeSearchTraceConfig({ ...base, search: "dfz" })).toThrow(/search/)
    expect(() => decodeSearchTraceConfig({ ...base, maxNodes: 0 })).toThrow(/maxNodes/)
  })

  it("is deterministic for a seed", () => {
    const a = [...generateSearchTraces(base)]
    const b = [...generateSearchTraces(base)]
    expect(a).toEqual(b)
    const c = [...generateSearchTraces({ ...base, seed: 6 })]
    expect(c.map((r) => r.problem)).not.toEqual(a.map((r) => r.problem))
  })

  it("samples solvable game24 problems", () => {
    const rows = [...generateSearchTraces(base)]
    expect(rows.length).toBe(20)
    for (const row of rows) {
      expect(row.problem.target).toBe(24)
      expect(row.problem.numbers.length).toBe(4)
      expect(Math.min(...row.problem.numbers)).toBeGreaterThanOrEqual(1)
      expect(Math.max(...row.problem.numbers)).toBeLessThanOrEqual(13)
      expect(row.verified).toBe(true)
      expect(verifyCountdown(row.problem, row.answer).ok).toBe(true)
      expect(row.search).toBe("dfs")
      expect(row.heuristic).toBeNull()
      expect(row.prompt).toContain("reach 24")
    }
  })

  it("honours a countdown difficulty", () => {
    const config = decodeSearchTraceConfig({
      type: "search-trace", task: "countdown", search: "best-first", heuristic: "sum-distance", count: 15, seed: 9,
      difficulty: { numbers: 5, min: 2, max: 50, targetMin: 100, targetMax: 500 }
    })
    const rows = [...generateSearchTraces(config)]
    for (const row of rows) {
      expect(row.problem.numbers.length).toBe(5)
      expect(row.problem.target).toBeGreaterThanOrEqual(100)
      expect(row.problem.target).toBeLessThanOrEqual(500)
      expect(row.heuristic).toBe("sum-distance")
    }
    expect(rows.filter((r) => r.verified).length).toBeGreaterThan(10)
  })

  it("sampling fails clearly when impossible", () => {
    expect(() => sampleCountdownProblem({ numbers: 2, min: 1, max: 1, targetMin: 50, targetMax: 60 }, 1, 0))
      .toThrow(GeneratorError)
    expect(() => sampleCountdownProblem({ numbers: 2, min: 1, max: 1, targetMin: 50, targetMax: 60 }, 1, 0))
      .toThrow(/widen the number or target range/)
  })

  it("requires count without problems", () => {
    const { count: _count, ...noCount } = base
    expect(() => [...generateSearchTraces(noCount)]).toThrow(/set 'count'/)
  })

  it("solves given problems and caps by count", () => {
    const rows = [...generateSearchTraces({ ...base, search: "bfs", count: 2 }, [
      { numbers: [3, 2], target: 1 },
      { numbers: [1, 1], target: 5 },
      { numbers: [4, 6], target: 24 }
    ])]
    expect(rows.length).toBe(2)
    expect(rows[0].verified).toBe(true)
    expect(rows[1].verified).toBe(false)
    expect(rows[1].outcome).toBe("exhausted")
  })
})

describe("problem parsing", () => {
  it("accepts the three row shapes", () => {
    expect(parseCountdownProblem({ numbers: [1, 2], target: 3 }, "r")).toEqual({ numbers: [1, 2], target: 3 })
    expect(parseCountdownProblem({ numbers: "1, 2", target: "3" }, "r")).toEqual({ numbers: [1, 2], target: 3 })
    expect(parseCountdownProblem({ input: "30,100,93", output: "23" }, "r")).toEqual({ numbers: [30, 100, 93], target: 23 })
    expect(parseCountdownProblem({ Puzzles: "1 1 4 6" }, "r")).toEqual({ numbers: [1, 1, 4, 6], target: 24 })
  })

  it("names the row in errors", () => {
    expect(() => parseCountdownProblems('{"numbers":[1,"x"],"target":3}\n', "p.jsonl")).toThrow(/p\.jsonl line 1.*"x"/)
    expect(() => parseCountdownProblems('{"numbers":[1,2],"target":3}\n{"text":1}', "p.jsonl")).toThrow(/p\.jsonl line 2.*found \{text\}/)
    expect(() => parseCountdownProblems("{bad", "p.jsonl")).toThrow(/invalid JSON/)
    expect(() => parseCountdownProblems("", "p.txt")).toThrow(/unsupported problem file extension/)
  })

  it("reads the d1 countdown file", (ctx) => {
    if (!existsSync(D1_COUNTDOWN)) return ctx.skip(`missing ${D1_COUNTDOWN}`)
    const problems = parseCountdownProblems(readFileSync(D1_COUNTDOWN, "utf8"), D1_COUNTDOWN)
    expect(problems.length).toBe(256)
    expect(problems[0]).toEqual({ numbers: [30, 100, 93], target: 23 })
    const config = decodeSearchTraceConfig({ type: "search-trace", task: "countdown", search: "best-first", count: 40, seed: 0 })
    const rows = [...generateSearchTraces(config, problems)]
    expect(rows.length).toBe(40)
    for (const row of rows) {
      if (row.verified) expect(verifyCountdown(row.problem, row.answer).ok).toBe(true)
    }
    expect(rows.filter((r) => r.verified).length).toBeGreaterThan(30)
  })

  it("reads the 24-game csv", (ctx) => {
    if (!existsSync(GAME24_CSV)) return ctx.skip(`missing ${GAME24_CSV}`)
    const problems = parseCountdownProblems(readFileSync(GAME24_CSV, "utf8"), GAME24_CSV)
    expect(problems.length).toBe(1362)
    expect(problems[0]).toEqual({ numbers: [1, 1, 4, 6], target: 24 })
    const config = decodeSearchTraceConfig({ type: "search-trace", task: "game24", search: "dfs", count: 30, seed: 0 })
    const rows = [...generateSearchTraces(config, problems)]
    // The first puzzles are the easiest and all solvable with integer intermediate results.
    expect(rows.filter((r) => r.verified).length).toBeGreaterThan(25)
  })
})

describe("search-trace config", () => {
  it("accepts recipe aliases and extra recipe fields", () => {
    const config = decodeSearchTraceConfig({
      type: "search-trace", task: "countdown", search: "bfs", count: 3,
      difficulty: { numbers: 3, maxNumber: 20, minTarget: 30, maxTarget: 40 },
      verify: "verified", category: "synthetic"
    })
    expect(config.seed).toBe(0)
    for (const row of generateSearchTraces(config)) {
      expect(row.problem.numbers.length).toBe(3)
      expect(Math.max(...row.problem.numbers)).toBeLessThanOrEqual(20)
      expect(row.problem.target).toBeGreaterThanOrEqual(30)
      expect(row.problem.target).toBeLessThanOrEqual(40)
    }
  })

  it("needs rows when problems names a source", () => {
    const config = decodeSearchTraceConfig({ type: "search-trace", task: "countdown", search: "bfs", problems: "cd3" })
    expect(() => [...generateSearchTraces(config)]).toThrow(/names the source 'cd3'/)
    expect([...generateSearchTraces(config, [{ numbers: [3, 2], target: 6 }])].length).toBe(1)
  })
})
