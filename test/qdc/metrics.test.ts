import { describe, expect, it } from "vitest"
import { decodeSearchTraceConfig, generateSearchTraces } from "../../connectors/generators/countdown/index.ts"
import {
  clusterNearDuplicates,
  compressionRatio,
  computeQdc,
  defaultMinHashOptions,
  distinctN,
  estimateJaccard,
  heuristicQuality,
  log2Histogram,
  makeMinHasher,
  ngramEntropy,
  ngrams,
  summarize,
  whitespaceTokenizer
} from "../../runtime/ops/qdc/index.ts"

const corpus = ["a b a b", "a b c"].map(whitespaceTokenizer)
const h = (ps: ReadonlyArray<number>) => -ps.reduce((s, p) => s + p * Math.log2(p), 0)

/** 40 distinct words, so 5-gram shingles are all distinct. */
const longText = (last: string) => Array.from({ length: 39 }, (_, i) => `w${i}`).concat(last).join(" ")

describe("lexical diversity", () => {
  it("ngrams of a token list", () => {
    expect(ngrams(["a", "b", "c"], 2)).toEqual(["a\u0001b", "b\u0001c"])
    expect(ngrams(["a"], 2)).toEqual([])
  })

  it("distinct-n by hand", () => {
    // Unigrams a b a b a b c: 3 distinct of 7.
    expect(distinctN(corpus, 1)).toBeCloseTo(3 / 7, 12)
    // Bigrams ab ba ab | ab bc: 3 distinct of 5.
    expect(distinctN(corpus, 2)).toBeCloseTo(3 / 5, 12)
    // Trigrams aba bab | abc: all 3 distinct.
    expect(distinctN(corpus, 3)).toBe(1)
    expect(distinctN([[]], 1)).toBe(0)
  })

  it("n-gram entropy by hand", () => {
    expect(ngramEntropy(corpus, 1)).toBeCloseTo(h([3 / 7, 3 / 7, 1 / 7]), 12)
    expect(ngramEntropy(corpus, 2)).toBeCloseTo(h([3 / 5, 1 / 5, 1 / 5]), 12)
    expect(ngramEntropy([["x", "x", "x"]], 1)).toBe(0)
  })

  it("compression ratio ranks redundancy", () => {
    const repetitive = Array.from({ length: 200 }, () => "the same sentence again")
    let state = 12345
    const noisy = Array.from({ length: 200 }, () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0
      return state.toString(36) + (state * 7).toString(36)
    })
    expect(compressionRatio(repetitive)).toBeGreaterThan(20)
    expect(compressionRatio(noisy)).toBeLessThan(2.5)
    expect(compressionRatio([])).toBe(0)
  })
})

describe("MinHash", () => {
  it("estimates Jaccard of shingle sets", () => {
    const sign = makeMinHasher({ ...defaultMinHashOptions, bands: 64, rows: 4 })
    const a = sign(longText("end"))
    expect(estimateJaccard(a, sign(longText("end")))).toBe(1)
    // 36 shingles each, 35 shared: Jaccard 35/37.
    expect(estimateJaccard(a, sign(longText("other")))).toBeGreaterThan(0.85)
    expect(estimateJaccard(a, sign("completely different words in this short text here now"))).toBeLessThan(0.1)
  })

  it("clusters near duplicates", () => {
    const texts = [longText("end"), "something else entirely with other words and more", longText("other"), longText("end")]
    expect(Array.from(clusterNearDuplicates(texts, defaultMinHashOptions))).toEqual([0, 1, 0, 0])
  })
})

describe("row measures", () => {
  it("heuristic quality by hand", () => {
    // Length ok (1), 2 distinct of 3 lines, all printable: (1 + 2/3 + 1) / 3.
    expect(heuristicQuality("x\nx\ny", 3, 1, 100)).toBeCloseTo(8 / 9, 12)
    // One control character of four: (1 + 1 + 3/4) / 3.
    expect(heuristicQuality("a\u0001bc", 1, 1, 100)).toBeCloseTo(11 / 12, 12)
    // Too long: (0 + 1 + 1) / 3.
    expect(heuristicQuality("a b c", 3, 1, 2)).toBeCloseTo(2 / 3, 12)
    expect(heuristicQuality("", 0, 1, 2)).toBeCloseTo(1 / 3, 12)
  })

  it("summary percentiles by nearest rank", () => {
    expect(summarize([10, 9, 8, 7, 6, 5, 4, 3, 2, 1])).toEqual({ count: 10, mean: 5.5, min: 1, p50: 5, p90: 9, max: 10 })
    expect(summarize([]).count).toBe(0)
  })

  it("power-of-two histogram", () => {
    const hist = log2Histogram("tokens", [0, 1, 3, 4, 9, 15])
    expect(hist.buckets.map((b) => [b.label, b.count])).toEqual([["0", 1], ["1", 1], ["2-3", 1], ["4-7", 1], ["8-15", 2]])
  })
})

describe("computeQdc", () => {
  it("measures a small corpus", () => {
    const rows = [
      { text: "a b a b", verified: true },
      { text: "a b c", verified: false },
      { text: "a b c", verified: true },
      { text: "" }
    ]
    const report = computeQdc(rows)
    expect(report.rows).toBe(4)
    expect(report.quality.verifierPassRate).toBeCloseTo(2 / 3, 12)
    expect(report.quality.judgedRows).toBe(3)
    // Unigrams: a b a b | a b c | a b c: 3 distinct of 10.
    expect(report.diversity.distinct1).toBeCloseTo(3 / 10, 12)
    // Short texts are one shingle each; the two "a b c" rows are one cluster.
    expect(report.diversity.clusters).toBe(3)
    expect(report.diversity.nearDuplicateRate).toBeCloseTo(1 / 4, 12)
    expect(report.complexity.tokens.max).toBe(4)
    expect(report.complexity.depth).toBeNull()
    expect(report.histograms.length.buckets.map((b) => b.count)).toEqual([1, 0, 2, 1])
  })

  it("reads a custom field and tokenizer", () => {
    const report = computeQdc([{ body: "abc" }], { field: "body", tokenizer: (t) => Uint32Array.from(t, (c) => c.charCodeAt(0)) })
    expect(report.complexity.tokens.mean).toBe(3)
    expect(report.quality.verifierPassRate).toBeNull()
  })

  it("compares search algorithms on traces", () => {
    const base = decodeSearchTraceConfig({ type: "search-trace", task: "game24", search: "bfs", count: 30, seed: 3 })
    const bfs = computeQdc([...generateSearchTraces(base)], { field: "trace", complexityField: "backtracks" })
    const best = computeQdc([...generateSearchTraces({ ...base, search: "best-first" })], { field: "trace", complexityField: "backtracks" })
    expect(bfs.quality.verifierPassRate).toBe(1)
    expect(bfs.complexity.depth?.max).toBe(3)
    expect(bfs.complexity.backtracks).not.toBeNull()
    expect(bfs.histograms.complexity.metric).toBe("backtracks")
    // Best-first explores fewer states, so its traces are shorter.
    expect(best.complexity.tokens.mean).toBeLessThan(bfs.complexity.tokens.mean)
    expect(bfs.complexity.steps.mean).toBeGreaterThan(10)
  })
})
