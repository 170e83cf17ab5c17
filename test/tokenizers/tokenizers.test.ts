import { existsSync, readFileSync } from "node:fs"
import { Tiktoken as JsTiktoken } from "js-tiktoken/lite"
import cl100kRanks from "js-tiktoken/ranks/cl100k_base"
import { describe, expect, it } from "vitest"
import {
  ARCADE100K_PATTERN,
  ARCADE100K_SPECIAL_TOKENS,
  getTokenizer,
  makeTokenizeBatch,
  TokenizerError
} from "../../connectors/tokenizers/index.ts"
import { SHARED_DATA } from "../support/data.ts"

const DATA = SHARED_DATA
const REAL_TEXT_FILES = [
  "books/karpathy__char-rnn/data/tinyshakespeare/input.txt",
  "wiki/pytorch__examples/word_language_model/data/wikitext-2/valid.txt",
  "multilingual/pemistahl__lingua-go/cmd/language-testdata/sentences/de.txt",
  "multilingual/RU-ECE__ECE451-Parallel/archive/project-gutenberg-data/books/French/Candide.txt",
  "code/MANIFEST.jsonl"
].map((path) => `${DATA}/${path}`)
const haveData = REAL_TEXT_FILES.every((path) => existsSync(path))
if (!haveData) console.warn(`skipping real-text tokenizer tests: ${DATA} is missing`)

/** Splits a file into paragraphs, keeping the first 100 that are not blank. */
const readDocuments = (path: string): Array<string> =>
  readFileSync(path, "utf8").split(/\n\s*\n/).filter((doc) => doc.trim() !== "").slice(0, 100)

describe("cl100k_base", () => {
  const tokenizer = getTokenizer("cl100k_base")

  it("encodes known strings", () => {
    expect(Array.from(tokenizer.encode("hello world"))).toEqual([15339, 1917])
    expect(Array.from(tokenizer.encode("12345"))).toEqual([4513, 1774])
    expect(tokenizer.encode("")).toHaveLength(0)
  })

  it("reports layout", () => {
    expect(tokenizer.eosId).toBe(100257)
    expect(tokenizer.vocabSize).toBe(100277)
  })

  it("never emits special tokens from text", () => {
    const text = "a <|endoftext|> b <|fim_prefix|>"
    const ids = tokenizer.encode(text)
    expect(ids.every((id) => id < 100257)).toBe(true)
    expect(tokenizer.decode(ids)).toBe(text)
    // js-tiktoken with nothing allowed or disallowed encodes special tokens as ordinary text too.
    expect(Array.from(ids)).toEqual(new JsTiktoken(cl100kRanks).encode(text, [], []))
  })

  it("appends EOS in one array", () => {
    const ids = tokenizer.encodeWithEos("hello world")
    expect(ids).toBeInstanceOf(Uint32Array)
    expect(Array.from(ids)).toEqual([15339, 1917, 100257])
  })

  it.skipIf(!haveData)("matches js-tiktoken on real text", () => {
    const reference = new JsTiktoken(cl100kRanks)
    for (const path of REAL_TEXT_FILES) {
      for (const doc of readDocuments(path)) {
        expect(Array.from(tokenizer.encode(doc))).toEqual(reference.encode(doc, [], []))
      }
    }
  })

  it.skipIf(!haveData)("round-trips real text", () => {
    for (const path of REAL_TEXT_FILES) {
      for (const doc of readDocuments(path)) expect(tokenizer.decode(tokenizer.encode(doc))).toBe(doc)
    }
  })

  it("segments pathological long runs", () => {
    // JSONTestSuite's n_structure_100000_opening_arrays.json is one run of 100,000 "[".
    const brackets = "[".repeat(100_000)
    const ids = tokenizer.encode(brackets)
    expect(tokenizer.decode(ids)).toBe(brackets)
    expect(ids.length).toBeLessThan(brackets.length)
    // U+1D400 is a letter outside the BMP; the leading "a" puts its surrogate pairs at odd offsets.
    const mixed = `prefix a${"\u{1D400}".repeat(3000)} middle ${" ".repeat(5000)} suffix.`
    expect(tokenizer.decode(tokenizer.encode(mixed))).toBe(mixed)
    const letters = `Start ${"x".repeat(1500)} end`
    expect(tokenizer.decode(tokenizer.encodeWithEos(letters).subarray(0, -1))).toBe(letters)
  })

  it("rejects ids outside the vocabulary", () => {
    expect(() => tokenizer.decode([15339, 100277])).toThrow(TokenizerError)
    expect(() => tokenizer.decode([15339, 100277])).toThrow(/100277 at position 1/)
    expect(() => tokenizer.decode([100265])).toThrow(/100265 at position 0 is not in the vocabulary/)
    expect(() => tokenizer.decode([100256])).toThrow(TokenizerError)
    expect(tokenizer.decode([100276])).toBe("<|endofprompt|>")
    expect(tokenizer.decode([100255]).length).toBeGreaterThan(0)
  })
})

describe("arcade100k", () => {
  const tokenizer = getTokenizer("arcade100k")

  it("splits digits into single tokens", () => {
    expect(Array.from(tokenizer.encode("12345"))).toEqual([16, 17, 18, 19, 20])
    const mixed = tokenizer.encode("in 2024 we had 3.14")
    const pieces = Array.from(mixed, (id) => tokenizer.decode([id]))
    expect(pieces).toEqual(["in", " ", "2", "0", "2", "4", " we", " had", " ", "3", ".", "1", "4"])
  })

  it("has 32 special tokens from 100257", () => {
    const ids = Object.values(ARCADE100K_SPECIAL_TOKENS).sort((a, b) => a - b)
    expect(ids).toHaveLength(32)
    expect(ids[0]).toBe(100257)
    expect(ids[31]).toBe(100288)
    expect(new Set(ids).size).toBe(32)
    expect(tokenizer.vocabSize).toBe(100289)
    expect(tokenizer.eosId).toBe(100257)
    for (const name of ["<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|im_start|>", "<|im_end|>"]) {
      expect(ARCADE100K_SPECIAL_TOKENS[name]).toBeGreaterThan(100257)
    }
  })

  it("decodes special ids to names", () => {
    expect(tokenizer.decode([100257, ARCADE100K_SPECIAL_TOKENS["<|im_end|>"]])).toBe("<|endoftext|><|im_end|>")
  })

  it("never emits special tokens from text", () => {
    const text = Object.keys(ARCADE100K_SPECIAL_TOKENS).join(" ")
    const ids = tokenizer.encode(text)
    expect(ids.every((id) => id < 100257)).toBe(true)
    expect(tokenizer.decode(ids)).toBe(text)
  })

  it.skipIf(!haveData)("matches js-tiktoken with the digit pattern", () => {
    const reference = new JsTiktoken({ ...cl100kRanks, pat_str: ARCADE100K_PATTERN })
    for (const path of REAL_TEXT_FILES) {
      for (const doc of readDocuments(path)) {
        const ids = tokenizer.encode(doc)
        expect(Array.from(ids)).toEqual(reference.encode(doc, [], []))
        expect(tokenizer.decode(ids)).toBe(doc)
      }
    }
  })
})

describe("getTokenizer", () => {
  it("rejects unknown names", () => {
    expect(() => getTokenizer("gpt2")).toThrow(/unknown tokenizer; expected one of cl100k_base, arcade100k/)
  })

  it("returns one shared instance", () => {
    expect(getTokenizer("arcade100k")).toBe(getTokenizer("arcade100k"))
  })
})

describe("makeTokenizeBatch", () => {
  it("separates documents with EOS", () => {
    const run = makeTokenizeBatch({ tokenizer: "cl100k_base", field: "text", appendEos: true })
    const out = run([{ text: "hello world", source: "web" }, { text: "", source: "web" }])
    expect(out).toHaveLength(2)
    expect(Array.from(out[0].tokens as Uint32Array)).toEqual([15339, 1917, 100257])
    expect(out[0].source).toBe("web")
    expect(Array.from(out[1].tokens as Uint32Array)).toEqual([100257])
  })

  it("omits EOS when disabled", () => {
    const run = makeTokenizeBatch({ tokenizer: "arcade100k", field: "body", appendEos: false })
    const out = run([{ body: "42" }])
    expect(Array.from(out[0].tokens as Uint32Array)).toEqual([19, 17])
    expect("source" in out[0]).toBe(false)
  })

  it("names the row with a bad field", () => {
    const run = makeTokenizeBatch({ tokenizer: "cl100k_base", field: "text", appendEos: true })
    expect(() => run([{ text: "ok" }, { text: 7 }])).toThrow(/row 1 of the batch: field "text" is number/)
    expect(() => run([{ other: "x" }])).toThrow(/field "text" is missing/)
  })
})
