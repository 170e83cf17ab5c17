import { existsSync, readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import {
  C4_DEFAULTS,
  FilterError,
  FilterRuleSchema,
  GOPHER_QUALITY_DEFAULTS,
  decodeFilterRules,
  makeC4Rule,
  makeFilter,
  makeFineWebRule,
  makeGopherQualityRule,
  makeGopherRepetitionRule,
  makeLengthRule,
  resolveFilterRule,
  splitTokens,
  splitWords
} from "../../runtime/ops/filters/index.ts"

// About 110 words of ordinary English prose in six lines that end with full stops.
const PROSE = [
  "The river runs through the old town and past the market where farmers sell their vegetables every morning.",
  "Visitors often stop at the bridge to watch the boats, and some of them take photographs of the church tower.",
  "In the afternoon the square fills with children who have finished school and want to play with their friends.",
  "Most of the shops close early on Sunday, so people walk along the water and talk about the week that has passed.",
  "The local library has a small collection of maps that show how the streets looked two hundred years ago.",
  "Anyone who is interested in history can ask the librarian to explain how the town grew over the centuries."
].join("\n")

describe("text splitting", () => {
  it("separates words and symbols", () => {
    expect(splitTokens("Hello, world... don't #tag")).toEqual(["Hello", ",", "world", "...", "don't", "#", "tag"])
    expect(splitWords("well-known café, 42 times!")).toEqual(["well-known", "café", "42", "times"])
  })
})

describe("gopher_quality", () => {
  const rule = makeGopherQualityRule()

  it("passes ordinary prose", () => {
    expect(rule.check(PROSE)).toBeUndefined()
  })

  it("rejects short documents", () => {
    expect(rule.check("The cat sat on the mat and looked at the dog.")).toBe("gopher_quality.word_count")
  })

  it("rejects overlong documents", () => {
    expect(makeGopherQualityRule({ maxWords: 50 }).check(PROSE)).toBe("gopher_quality.word_count")
  })

  it("rejects extreme mean word length", () => {
    const longWords = Array.from({ length: 60 }, (_, i) => `internationalization${i} the`).join(" ")
    expect(rule.check(longWords)).toBe("gopher_quality.mean_word_length")
    const shortWords = Array.from({ length: 60 }, () => "a an to of by").join(" ")
    expect(rule.check(shortWords)).toBe("gopher_quality.mean_word_length")
  })

  it("rejects hash-heavy text", () => {
    const hashes = PROSE + "\n" + Array.from({ length: 30 }, (_, i) => `#tag${i}`).join(" ")
    expect(rule.check(hashes)).toBe("gopher_quality.hash_ratio")
  })

  it("rejects ellipsis-heavy text", () => {
    const ellipses = PROSE.replaceAll(" the ", " the... ")
    expect(rule.check(ellipses)).toBe("gopher_quality.ellipsis_ratio")
  })

  it("rejects bullet lists", () => {
    const bullets = PROSE.split("\n").map((line) => `- ${line}`).join("\n")
    expect(rule.check(bullets)).toBe("gopher_quality.bullet_lines")
    expect(makeGopherQualityRule({ maxBulletLineRatio: 1 }).check(bullets)).toBeUndefined()
  })

  it("rejects lines ending in ellipsis", () => {
    const lines = PROSE.split("\n")
    const trailing = lines.map((line, i) => i < 2 ? line.replace(/\.$/, "…") : line).join("\n")
    expect(rule.check(trailing)).toBe("gopher_quality.ellipsis_lines")
  })

  it("rejects mostly non-alphabetic tokens", () => {
    const numbers = PROSE + "\n" + Array.from({ length: 200 }, (_, i) => String(1000 + i)).join(" ")
    expect(rule.check(numbers)).toBe("gopher_quality.alpha_words")
  })

  it("requires stop words", () => {
    const noStopWords = Array.from({ length: 12 }, () => "Quick brown foxes jump over lazy dogs near green fields.").join(" ")
    expect(rule.check(noStopWords)).toBe("gopher_quality.stop_words")
  })
})

describe("gopher_repetition", () => {
  const rule = makeGopherRepetitionRule()

  it("passes ordinary prose", () => {
    expect(rule.check(PROSE)).toBeUndefined()
  })

  it("rejects repeated paragraphs", () => {
    const paragraphs = PROSE.split("\n")
    const text = [paragraphs[0], paragraphs[1], paragraphs[0], paragraphs[0]].join("\n\n")
    expect(rule.check(text)).toBe("gopher_repetition.duplicate_paragraphs")
  })

  it("rejects repeated lines", () => {
    const lines = PROSE.split("\n")
    const text = [...lines, lines[0], lines[1], lines[0]].join("\n")
    expect(rule.check(text)).toBe("gopher_repetition.duplicate_lines")
  })

  it("rejects repeated line characters", () => {
    const lines = PROSE.split("\n")
    const long = lines[0] + " " + lines[1] + " " + lines[2]
    const text = [long, ...lines.slice(3), "x", "y", "z", "w", long].join("\n")
    expect(rule.check(text)).toBe("gopher_repetition.duplicate_line_chars")
  })

  it("rejects a dominant bigram", () => {
    const text = Array.from({ length: 40 }, (_, i) => `buy now item${i}`).join(" ")
    expect(rule.check(text)).toBe("gopher_repetition.top_2_gram")
  })

  it("rejects duplicated n-grams", () => {
    const sentence = "we sell the finest handmade leather boots in town"
    const words = PROSE.split(/\s+/)
    const text = `${sentence} ${words.slice(0, 30).join(" ")} ${sentence} ${words.slice(30, 60).join(" ")} ${sentence}`
    expect(rule.check(text)).toMatch(/^gopher_repetition\.duplicate_\d+_grams$/)
    const onlyFive = (maxCharRatio: number) => makeGopherRepetitionRule({ topNgrams: [], duplicateNgrams: [{ n: 5, maxCharRatio }] })
    // Each repeat of the sentence contributes one 5-gram ("we sell the finest handmade", 23 chars) before the scan moves on.
    const ratio = (2 * "wesellthefinesthandmade".length) / text.length
    expect(onlyFive(ratio - 0.001).check(text)).toBe("gopher_repetition.duplicate_5_grams")
    expect(onlyFive(ratio + 0.001).check(text)).toBeUndefined()
  })
})

describe("c4", () => {
  const rule = makeC4Rule()

  it("keeps punctuated lines only", () => {
    const text = `Menu\nHome | About\n${PROSE}\nShare this\nClick here to enable JavaScript in your browser.\nRead our privacy policy for details.`
    const outcome = rule.apply!(text)
    expect(outcome).toEqual({ text: PROSE })
  })

  it("removes citation marks", () => {
    const text = PROSE.replace("every morning.", "every morning.[12]")
    expect(rule.apply!(text)).toEqual({ text: PROSE })
  })

  it("requires five sentences", () => {
    const three = PROSE.split("\n").slice(0, 3).join("\n")
    expect(rule.check(three)).toBe("c4.too_few_sentences")
    expect(makeC4Rule({ minSentences: 3 }).check(three)).toBeUndefined()
  })

  it("counts sentences within lines", () => {
    const oneLine = "It rained. We stayed in. The fire was warm. Tea was ready. Nobody left early."
    expect(rule.check(oneLine)).toBeUndefined()
  })

  it("rejects lorem ipsum", () => {
    expect(rule.check(`${PROSE}\nLorem ipsum dolor sit amet, consectetur.`)).toBe("c4.lorem_ipsum")
  })

  it("rejects curly braces", () => {
    expect(rule.check(`${PROSE}\nThe config is { "a": 1 } in the file.`)).toBe("c4.curly_brace")
    expect(makeC4Rule({ dropCurlyBraces: false }).check(`${PROSE}\nThe config is { "a": 1 } in the file.`)).toBeUndefined()
  })

  it("rejects configured bad words", () => {
    const strict = makeC4Rule({ badWords: ["market"] })
    expect(strict.check(PROSE)).toBe("c4.bad_words")
    expect(makeC4Rule({ badWords: ["mark"] }).check(PROSE)).toBeUndefined()
  })

  it("drops lines with too few words", () => {
    const text = `${PROSE}\nThanks!`
    expect(rule.apply!(text)).toEqual({ text: PROSE })
  })

  it("uses published defaults", () => {
    expect(C4_DEFAULTS.minSentences).toBe(5)
    expect(C4_DEFAULTS.minWordsPerLine).toBe(3)
  })
})

describe("fineweb", () => {
  const rule = makeFineWebRule()

  it("passes ordinary prose", () => {
    expect(rule.check(PROSE)).toBeUndefined()
  })

  it("rejects unpunctuated lines", () => {
    const text = PROSE.replaceAll(".", "")
    expect(rule.check(text)).toBe("fineweb.line_punctuation")
    expect(makeFineWebRule({ allowNoPunctuation: true }).check(text)).toBeUndefined()
  })

  it("rejects mostly short lines", () => {
    const text = `${PROSE}\n${Array.from({ length: 20 }, (_, i) => `Item ${i}.`).join("\n")}`
    expect(rule.check(text)).toBe("fineweb.short_lines")
  })

  it("rejects duplicated lines", () => {
    const lines = PROSE.split("\n")
    expect(rule.check([...lines, lines[2]].join("\n"))).toBe("fineweb.duplicate_line_chars")
  })

  it("rejects list-like text", () => {
    // Three tokens per line and one newline per line: 1/3 newlines per token.
    const text = Array.from({ length: 10 }, (_, i) => `Extraordinarily${i}wonderful adventures.\n`).join("")
    expect(rule.check(text)).toBe("fineweb.list_like")
  })
})

describe("length", () => {
  it("checks characters and words", () => {
    const rule = makeLengthRule({ minChars: 5, maxChars: 40, minWords: 2, maxWords: 5 })
    expect(rule.check("abc")).toBe("length.min_chars")
    expect(rule.check("a".repeat(41))).toBe("length.max_chars")
    expect(rule.check("single")).toBe("length.min_words")
    expect(rule.check("one two three four five six")).toBe("length.max_words")
    expect(rule.check("one two three")).toBeUndefined()
  })
})

describe("makeFilter", () => {
  it("counts each row once", () => {
    const filter = makeFilter([{ rule: "length", minChars: 10 }, { rule: "length", maxChars: 20 }])
    const rows = [{ text: "short" }, { text: "just right here" }, { text: "x".repeat(30) }, { text: "tiny" }]
    const result = filter(rows, "text")
    expect(result.kept).toEqual([{ text: "just right here" }])
    expect(result.dropped).toEqual({ "length.min_chars": 2, "length.max_chars": 1 })
  })

  it("charges the first failing rule", () => {
    const filter = makeFilter([{ rule: "gopher_quality" }, { rule: "length", minChars: 1000 }])
    const result = filter([{ text: "too short" }], "text")
    expect(result.dropped).toEqual({ "gopher_quality.word_count": 1 })
  })

  it("writes C4-cleaned text", () => {
    const filter = makeFilter([{ rule: "c4" }, { rule: "length", maxChars: PROSE.length }])
    const row = { text: `Navigation menu\n${PROSE}`, source: "web" }
    const result = filter([row], "text")
    expect(result.kept).toEqual([{ text: PROSE, source: "web" }])
    expect(row.text.startsWith("Navigation")).toBe(true)
  })

  it("accepts rule objects", () => {
    const custom = { name: "custom", check: (text: string) => text.includes("spam") ? "custom.spam" : undefined }
    const filter = makeFilter([custom, { rule: "length", minChars: 3 }])
    const result = filter([{ body: "spam" }, { body: "ok" }, { body: "fine" }], "body")
    expect(result.kept).toEqual([{ body: "fine" }])
    expect(result.dropped).toEqual({ "custom.spam": 1, "length.min_chars": 1 })
  })

  it("rejects invalid configs with a path", () => {
    expect(() => makeFilter([{ rule: "length" }, { rule: "gopher_quality", minWords: -1 }])).toThrow(FilterError)
    expect(() => makeFilter([{ rule: "gopher_quality", minWords: -1 }])).toThrow(/\["minWords"\]/)
    expect(() => makeFilter([{ rule: "fineweb", maxShortLineRatio: 2 }])).toThrow(/between 0 and 1/)
    expect(() => makeFilter([{ rule: "c4", minSentence: 3 }])).toThrow(/minSentence/)
    expect(() => makeFilter([{ rule: "perplexity" }])).toThrow(/invalid filter rules/)
  })

  it("names rows with a bad field", () => {
    const filter = makeFilter([{ rule: "length", minChars: 1 }])
    expect(() => filter([{ text: "ok" }, { text: null }], "text")).toThrow(/row 1 of the batch: field "text" is object/)
    expect(() => filter([{ body: "x" }], "text")).toThrow(/field "text" is missing/)
  })

  const c4Samples = [1, 2, 3].map((i) => `/work/shared/data/webtext/allenai__OLMo/test_fixtures/c4-sample.0${i}.json`)
  it.skipIf(!c4Samples.every(existsSync))("runs on C4 sample pages", () => {
    const rows = c4Samples.flatMap((path) =>
      readFileSync(path, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { text: string })
    )
    const filter = makeFilter([{ rule: "gopher_quality" }, { rule: "gopher_repetition" }, { rule: "fineweb" }])
    const result = filter(rows, "text")
    const droppedTotal = Object.values(result.dropped).reduce((sum, count) => sum + count, 0)
    expect(result.kept.length + droppedTotal).toBe(rows.length)
    // These pages already passed C4's cleaning, so most must pass Gopher quality too.
    expect(result.dropped["gopher_quality.word_count"] ?? 0).toBeLessThan(rows.length / 2)
    expect(result.kept.length).toBeGreaterThan(0)
  })
})

describe("schemas", () => {
  it("decodes and resolves defaults", () => {
    const [config] = decodeFilterRules([{ rule: "gopher_quality", minWords: 20 }])
    const resolved = resolveFilterRule(config)
    expect(resolved).toMatchObject({ rule: "gopher_quality", minWords: 20, maxWords: GOPHER_QUALITY_DEFAULTS.maxWords })
  })

  it("exports the rule union", () => {
    expect(FilterRuleSchema.members).toHaveLength(6)
  })
})
