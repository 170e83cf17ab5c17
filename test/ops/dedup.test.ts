import { existsSync, readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import {
  DedupError,
  ExactDeduper,
  Hash128Set,
  MinHashDeduper,
  MinHasher,
  estimateJaccard,
  exactDedupKey,
  lshCandidateProbability,
  lshThreshold,
  makeDeduper,
  minhashClusters,
  murmur3x86_128,
  normalizeForDedup,
  type MinHashOptions
} from "../../runtime/ops/dedup/index.ts"
import { SHARED_DATA } from "../support/data.ts"

describe("murmur3x86_128", () => {
  it("matches the SMHasher verification value", () => {
    // SMHasher's VerificationTest: hash {}, {0}, {0,1}, ... {0..254} with seed 256 - length,
    // concatenate the 256 digests, hash them with seed 0 and read the first 32-bit word.
    const key = new Uint8Array(256)
    const digests = new Uint8Array(256 * 16)
    const out = new Uint32Array(4)
    for (let i = 0; i < 256; i++) {
      key[i] = i
      murmur3x86_128(key, i, 256 - i, out)
      digests.set(new Uint8Array(out.buffer.slice(0)), i * 16)
    }
    murmur3x86_128(digests, digests.length, 0, out)
    expect(out[0]).toBe(0xb3ece62a)
  })

  it("hashes empty input with seed 0 to zero", () => {
    const out = new Uint32Array(4).fill(7)
    murmur3x86_128(new Uint8Array(0), 0, 0, out)
    expect(Array.from(out)).toEqual([0, 0, 0, 0])
  })
})

describe("normalizeForDedup", () => {
  it("folds case, punctuation and whitespace", () => {
    expect(normalizeForDedup("  Hello,\n\n World!  ")).toBe("hello world")
    expect(normalizeForDedup("don't stop")).toBe("dont stop")
    expect(normalizeForDedup("«Bonjour», dit-il.")).toBe("bonjour ditil")
  })

  it("applies NFKC", () => {
    expect(normalizeForDedup("ＦＵＬＬ width ﬁle")).toBe("full width file")
    expect(normalizeForDedup("Cafe\u0301")).toBe("café")
  })

  it("keeps symbols and digits", () => {
    expect(normalizeForDedup("Price: $5 + 10% 😀")).toBe("price $5 + 10 😀")
  })
})

describe("Hash128Set", () => {
  it("grows without losing keys", () => {
    const set = new Hash128Set(4)
    const key = new Uint32Array(4)
    for (let i = 0; i < 50_000; i++) {
      key.set([i, i * 7, 0, 1])
      expect(set.add(key)).toBe(true)
    }
    expect(set.size).toBe(50_000)
    for (let i = 0; i < 50_000; i += 997) {
      key.set([i, i * 7, 0, 1])
      expect(set.add(key)).toBe(false)
    }
    key.set([1, 7, 0, 2])
    expect(set.add(key)).toBe(true)
  })
})

describe("ExactDeduper", () => {
  it("drops normalised duplicates across batches", () => {
    const deduper = new ExactDeduper()
    const first = deduper.filterBatch([{ text: "Hello, world!" }, { text: "hello world" }, { text: "Other text." }], "text")
    expect(first.kept).toEqual([{ text: "Hello, world!" }, { text: "Other text." }])
    expect(first.duplicates).toBe(1)
    const second = deduper.filterBatch([{ text: "OTHER   text" }, { text: "new" }], "text")
    expect(second.kept).toEqual([{ text: "new" }])
    expect(deduper.size).toBe(3)
  })

  it("keeps the first source in priority order", () => {
    const deduper = makeDeduper({ method: "exact", field: "text", ngram: 5, bands: 14, rows: 8, threshold: 0.7, seed: 1 })
    const wiki = deduper.filterBatch([{ text: "Shared page.", source: "wiki" }, { text: "Wiki only.", source: "wiki" }])
    const web = deduper.filterBatch([{ text: "shared page", source: "web" }, { text: "Web only.", source: "web" }])
    expect(wiki.kept.map((row) => row.source)).toEqual(["wiki", "wiki"])
    expect(web.kept).toEqual([{ text: "Web only.", source: "web" }])
  })

  it("separates different texts", () => {
    const a = Array.from(exactDedupKey("alpha beta"))
    const b = Array.from(exactDedupKey("alpha beta gamma"))
    expect(a).not.toEqual(b)
    expect(Array.from(exactDedupKey("Alpha, beta!"))).toEqual(a)
  })

  const wikiPath = SHARED_DATA + "/wiki/pytorch__examples/word_language_model/data/wikitext-2/test.txt"
  it.skipIf(!existsSync(wikiPath))("agrees with a string set on real lines", () => {
    const lines = readFileSync(wikiPath, "utf8").split("\n")
    const deduper = new ExactDeduper()
    const kept = deduper.filterBatch(lines.map((text) => ({ text })), "text").kept
    const distinct = new Set(lines.map(normalizeForDedup))
    expect(kept.length).toBe(distinct.size)
    expect(lines.length - kept.length).toBeGreaterThan(0)
  })

  it("names rows with a bad field", () => {
    const deduper = new ExactDeduper()
    expect(() => deduper.filterBatch([{ text: "a" }, { text: 3 }], "text")).toThrow(DedupError)
    expect(() => deduper.filterBatch([{ body: "a" }], "text")).toThrow(/row 0 of the batch: field "text" is missing/)
  })
})

// Documents built from distinct tokens, so word-unigram Jaccard similarity is known exactly.
const tokens = (from: number, to: number, prefix = "w"): Array<string> =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`)

const UNIGRAM: MinHashOptions = { shingle: "word", ngram: 1, bands: 32, rows: 8, threshold: 0, seed: 42 }

/** Exact Jaccard similarity of the word n-gram sets of two normalised texts. */
const exactJaccard = (a: string, b: string, n: number): number => {
  const shingles = (text: string) => {
    const words = normalizeForDedup(text).split(" ")
    const set = new Set<string>()
    for (let i = 0; i + n <= words.length; i++) set.add(words.slice(i, i + n).join(" "))
    return set
  }
  const setA = shingles(a)
  const setB = shingles(b)
  let common = 0
  for (const shingle of setA) if (setB.has(shingle)) common++
  return common / (setA.size + setB.size - common)
}

describe("MinHasher", () => {
  it("estimates known Jaccard similarity", () => {
    const hasher = new MinHasher(UNIGRAM)
    const base = tokens(0, 200)
    // Pairs sharing 190, 180, 150, 100 and 50 of their 200 tokens.
    for (const shared of [190, 180, 150, 100, 50]) {
      const other = [...tokens(0, shared), ...tokens(1000, 1000 + 200 - shared)]
      const expected = shared / (400 - shared)
      const estimate = estimateJaccard(hasher.signature(base.join(" "))!, hasher.signature(other.join(" "))!)
      // 256 positions: standard error at most 0.031, so 0.1 is over three standard errors.
      expect(Math.abs(estimate - expected), `shared ${shared}: expected ${expected}, estimated ${estimate}`).toBeLessThan(0.1)
    }
  })

  it("estimates 5-gram Jaccard on edited prose", () => {
    const hasher = new MinHasher({ ...UNIGRAM, ngram: 5 })
    const words = tokens(0, 300)
    const edited = [...words]
    for (let i = 10; i < 300; i += 40) edited[i] = `edit${i}`
    const a = words.join(" ")
    const b = edited.join(" ")
    const expected = exactJaccard(a, b, 5)
    expect(expected).toBeGreaterThan(0.7)
    expect(expected).toBeLessThan(0.9)
    expect(Math.abs(estimateJaccard(hasher.signature(a)!, hasher.signature(b)!) - expected)).toBeLessThan(0.1)
  })

  it("is deterministic for a seed", () => {
    const text = tokens(0, 50).join(" ")
    const first = new MinHasher(UNIGRAM).signature(text)!
    const second = new MinHasher(UNIGRAM).signature(text)!
    const reseeded = new MinHasher({ ...UNIGRAM, seed: 43 }).signature(text)!
    expect(Array.from(first)).toEqual(Array.from(second))
    expect(estimateJaccard(first, reseeded)).toBeLessThan(0.1)
  })

  it("ignores case and punctuation", () => {
    const hasher = new MinHasher({ ...UNIGRAM, ngram: 3 })
    expect(Array.from(hasher.signature("The cat, the HAT!")!)).toEqual(Array.from(hasher.signature("the cat the hat")!))
  })

  it("uses character shingles", () => {
    const hasher = new MinHasher({ ...UNIGRAM, shingle: "char", ngram: 3 })
    // "abcdefgh" and "abcdefgx" share 5 of 7 distinct trigrams: J = 5 / 7.
    const estimate = estimateJaccard(hasher.signature("abcdefgh")!, hasher.signature("abcdefgx")!)
    expect(Math.abs(estimate - 5 / 7)).toBeLessThan(0.1)
  })

  it("returns no signature for empty text", () => {
    expect(new MinHasher(UNIGRAM).signature(" ... ")).toBeUndefined()
  })
})

describe("LSH math", () => {
  it("computes the S-curve", () => {
    expect(lshThreshold(14, 8)).toBeCloseTo(0.719, 3)
    expect(lshCandidateProbability(0.8, 14, 8)).toBeCloseTo(0.924, 3)
    expect(lshCandidateProbability(0.7, 14, 8)).toBeCloseTo(0.5645, 3)
    expect(lshCandidateProbability(0.5, 14, 8)).toBeCloseTo(0.053, 3)
  })

  it("matches the S-curve empirically", () => {
    const options: MinHashOptions = { shingle: "word", ngram: 1, bands: 14, rows: 8, threshold: 0, seed: 3 }
    // For each similarity, 200 independent pairs of 100-token sets with that exact Jaccard.
    for (const [shared, similarity] of [[89, 0.8], [67, 0.5]] as const) {
      expect(shared / (200 - shared)).toBeCloseTo(similarity, 2)
      let candidates = 0
      for (let pair = 0; pair < 200; pair++) {
        const base = pair * 1000
        const a = tokens(base, base + 100).join(" ")
        const b = [...tokens(base, base + shared), ...tokens(base + 500, base + 600 - shared)].join(" ")
        if (minhashClusters([a, b], options).length === 1) candidates++
      }
      const expected = lshCandidateProbability(shared / (200 - shared), 14, 8)
      // Binomial standard error over 200 pairs is at most 0.035; allow about three.
      expect(Math.abs(candidates / 200 - expected), `J = ${similarity}: ${candidates} / 200, expected ${expected}`).toBeLessThan(0.1)
    }
  })
})

describe("MinHashDeduper", () => {
  const options: MinHashOptions = { shingle: "word", ngram: 1, bands: 14, rows: 8, threshold: 0.7, seed: 7 }

  it("clusters near duplicates", () => {
    const base = tokens(0, 200)
    const texts = [
      base.join(" "),
      [...tokens(0, 195), ...tokens(500, 505)].join(" "),
      tokens(2000, 2200).join(" "),
      [...tokens(0, 100), ...tokens(3000, 3100)].join(" "),
      [...tokens(2000, 2190), ...tokens(4000, 4010)].join(" ")
    ]
    // Pairs 0-1 (J = 0.95) and 2-4 (J = 0.90) are duplicates; 0-3 (J = 0.33) is not.
    expect(minhashClusters(texts, options)).toEqual([[0, 1], [2, 4]])
  })

  it("keeps the earliest input", () => {
    const deduper = new MinHashDeduper(options)
    const page = tokens(0, 100).join(" ")
    const copy = `${tokens(0, 98).join(" ")} extra words`
    const wiki = deduper.filterBatch([{ text: page, source: "wiki" }], "text")
    const web = deduper.filterBatch([{ text: copy, source: "web" }, { text: tokens(900, 1000).join(" "), source: "web" }], "text")
    expect(wiki.kept).toHaveLength(1)
    expect(web.duplicates).toBe(1)
    expect(web.kept.map((row) => row.text)).toEqual([tokens(900, 1000).join(" ")])
    expect(deduper.clusters()).toEqual([[0, 1]])
  })

  it("rejects candidates below threshold", () => {
    const texts = [tokens(0, 100).join(" "), [...tokens(0, 80), ...tokens(500, 520)].join(" ")]
    // J = 80 / 120 = 0.67: a candidate in some runs, but below a 0.9 threshold.
    expect(minhashClusters(texts, { ...options, bands: 64, rows: 2, threshold: 0.9 })).toEqual([])
    expect(minhashClusters(texts, { ...options, bands: 64, rows: 2, threshold: 0.5 })).toEqual([[0, 1]])
  })

  it("joins chains into one cluster", () => {
    const a = tokens(0, 100)
    const b = [...tokens(0, 95), ...tokens(200, 205)]
    const c = [...tokens(0, 90), ...tokens(200, 205), ...tokens(300, 305)]
    expect(minhashClusters([a.join(" "), b.join(" "), c.join(" ")], options)).toEqual([[0, 1, 2]])
  })

  it("never matches empty documents", () => {
    expect(minhashClusters(["", "...", "!!"], options)).toEqual([])
  })

  const wikiPath = SHARED_DATA + "/wiki/pytorch__examples/word_language_model/data/wikitext-2/valid.txt"
  it.skipIf(!existsSync(wikiPath))("finds planted copies in real text", () => {
    const paragraphs = readFileSync(wikiPath, "utf8").split("\n").filter((line) => line.split(" ").length > 120).slice(0, 300)
    // Plant 20 copies, each with two words replaced, after the originals. Each
    // replacement changes 5 shingles, so every copy has 5-gram Jaccard above 0.8.
    const planted = paragraphs.slice(0, 20).map((paragraph) => {
      const words = paragraph.split(" ")
      words[10] = "replacedword"
      words[words.length - 10] = "anotherword"
      return words.join(" ")
    })
    for (let i = 0; i < planted.length; i++) expect(exactJaccard(paragraphs[i], planted[i], 5)).toBeGreaterThan(0.8)
    const deduper = makeDeduper({ method: "minhash", field: "text", ngram: 5, bands: 14, rows: 8, threshold: 0.7, seed: 1 })
    const result = deduper.filterBatch([...paragraphs, ...planted].map((text) => ({ text })))
    const keptTexts = new Set(result.kept.map((row) => row.text))
    for (const copy of planted) expect(keptTexts.has(copy)).toBe(false)
    for (const paragraph of paragraphs.slice(0, 20)) expect(keptTexts.has(paragraph)).toBe(true)
    expect(result.duplicates).toBeGreaterThanOrEqual(20)
  })
})

describe("makeDeduper", () => {
  it("rejects invalid params", () => {
    const valid = { method: "minhash", field: "text", ngram: 5, bands: 14, rows: 8, threshold: 0.7, seed: 1 }
    expect(() => makeDeduper({ ...valid, bands: 0 })).toThrow(DedupError)
    expect(() => makeDeduper({ ...valid, bands: 0 })).toThrow(/\["bands"\]/)
    expect(() => makeDeduper({ ...valid, threshold: 1.5 })).toThrow(/between 0 and 1/)
    expect(() => makeDeduper({ ...valid, method: "simhash" })).toThrow(/\["method"\]/)
    expect(() => makeDeduper({ ...valid, band: 3 })).toThrow(/band/)
  })
})
