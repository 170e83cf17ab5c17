import { describe, expect, it } from "vitest"
import { integerTargets, scaleMix, sizeFromDeclared, solveMix } from "../../compiler/mix.ts"
import { formatTokens, parseByteSize, parseTokenCount } from "../../compiler/recipe/units.ts"

const size = (value: number) => ({ value, mark: "declared" as const })

describe("units", () => {
  it("parses token counts with suffixes", () => {
    expect(parseTokenCount("2T")).toBe(2e12)
    expect(parseTokenCount("300B")).toBe(3e11)
    expect(parseTokenCount("1.5M")).toBe(1.5e6)
    expect(parseTokenCount("40k tokens")).toBe(40_000)
    expect(parseTokenCount("lots")).toBeUndefined()
    expect(parseTokenCount("-3M")).toBeUndefined()
  })

  it("parses SI and IEC byte sizes", () => {
    expect(parseByteSize("1.5 GiB")).toBe(1.5 * 2 ** 30)
    expect(parseByteSize("800 MB")).toBe(8e8)
    expect(parseByteSize("42 B")).toBe(42)
    expect(parseByteSize("3 parsecs")).toBeUndefined()
  })

  it("formats token counts with four significant digits", () => {
    expect(formatTokens(2e12)).toBe("2.000T")
    expect(formatTokens(1_234_567)).toBe("1.235M")
  })
})

describe("declared sizes", () => {
  it("prefers tokens, then bytes, then documents", () => {
    expect(sizeFromDeclared({ tokens: "1M", bytes: 10 })).toEqual({ value: 1e6, mark: "declared" })
    expect(sizeFromDeclared({ bytes: "8 MiB" })).toEqual({ value: (8 * 2 ** 20) / 4, mark: "derived" })
    expect(sizeFromDeclared({ bytes: 1000, bytesPerToken: 2 })).toEqual({ value: 500, mark: "derived" })
    expect(sizeFromDeclared({ documents: 10, tokensPerDocument: 7 })).toEqual({ value: 70, mark: "derived" })
    expect(sizeFromDeclared({ documents: 10 }).mark).toBe("missing")
    expect(sizeFromDeclared(undefined).mark).toBe("missing")
  })
})

describe("solveMix", () => {
  it("turns weights into tokens and epochs", () => {
    const mix = solveMix("m", [
      { name: "a", size: size(1e6), weight: 0.75 },
      { name: "b", size: size(4e6), weight: 0.25 }
    ], { totalTokens: 4e6 })
    expect(mix.components[0]!.tokens).toEqual({ value: 3e6, mark: "derived" })
    expect(mix.components[0]!.epochs.value).toBeCloseTo(3)
    expect(mix.components[1]!.tokens.value).toBe(1e6)
    expect(mix.components[1]!.epochs.value).toBeCloseTo(0.25)
    expect(mix.components[0]!.weight).toEqual({ value: 0.75, mark: "declared" })
  })

  it("turns epochs into tokens and weights", () => {
    const mix = solveMix("m", [
      { name: "a", size: size(1e6), epochs: 2 },
      { name: "b", size: size(3e6), epochs: 1 }
    ])
    expect(mix.totalTokens).toEqual({ value: 5e6, mark: "derived" })
    expect(mix.components[0]!.tokens).toEqual({ value: 2e6, mark: "derived" })
    expect(mix.components[0]!.weight).toEqual({ value: 0.4, mark: "derived" })
    expect(mix.components[1]!.weight.value).toBe(0.6)
    expect(mix.components[0]!.epochs).toEqual({ value: 2, mark: "declared" })
  })

  it("round-trips weights through epochs", () => {
    const byWeight = solveMix("m", [
      { name: "a", size: size(2e6), weight: 0.3 },
      { name: "b", size: size(5e6), weight: 0.7 }
    ], { totalTokens: 1e7 })
    const byEpochs = solveMix(
      "m",
      byWeight.components.map((c) => ({ name: c.name, size: c.size, epochs: c.epochs.value! }))
    )
    expect(byEpochs.components.map((c) => c.weight.value)).toEqual([0.3, 0.7])
    expect(byEpochs.totalTokens.value).toBeCloseTo(1e7)
  })

  it("normalises weights that do not sum to one", () => {
    const mix = solveMix("m", [
      { name: "a", size: size(1e6), weight: 0.2 },
      { name: "b", size: size(1e6), weight: 0.6 }
    ], { totalTokens: 1e6 })
    expect(mix.components.map((c) => c.weight.value)).toEqual([0.25, 0.75])
    expect(mix.components[1]!.tokens.value).toBeCloseTo(750_000)
    expect(mix.warnings.join("\n")).toContain("weights sum to 0.8")
  })

  it("lets weighted components share what token targets leave", () => {
    const mix = solveMix("m", [
      { name: "fixed", size: size(1e6), tokens: 1e6 },
      { name: "a", size: size(1e7), weight: 0.5 },
      { name: "b", size: size(1e7), weight: 0.5 }
    ], { totalTokens: 5e6 })
    expect(mix.components.map((c) => c.tokens.value)).toEqual([1e6, 2e6, 2e6])
    expect(mix.components[0]!.weight).toEqual({ value: 0.2, mark: "derived" })
  })

  it("marks numbers missing when sizes are unknown", () => {
    const mix = solveMix("m", [
      { name: "a", size: { value: undefined, mark: "missing" }, epochs: 2 },
      { name: "b", size: size(1e6), epochs: 2 }
    ], { totalTokens: 2e12 })
    expect(mix.components[0]!.tokens.mark).toBe("missing")
    expect(mix.components[0]!.weight.mark).toBe("missing")
    expect(mix.components[1]!.tokens).toEqual({ value: 2e6, mark: "derived" })
    expect(mix.warnings.join("\n")).toContain("cannot be split")
  })

  it("warns above the epoch cap", () => {
    const mix = solveMix("m", [{ name: "tiny", size: size(1e3), weight: 1 }], { totalTokens: 1e4, maxEpochs: 4 })
    expect(mix.components[0]!.epochs.value).toBeCloseTo(10)
    expect(mix.warnings.join("\n")).toContain("tiny repeats 10.00 epochs, above the limit of 4")
  })

  it("rejects targets above the budget", () => {
    const mix = solveMix("m", [{ name: "a", size: size(1e6), tokens: 3e6 }], { totalTokens: 1e6 })
    expect(mix.errors).toEqual(["token and epoch targets add up to 3.000M, above totalTokens 1.000M; raise totalTokens or lower the targets"])
  })

  it("lets targets below the budget set the total", () => {
    const mix = solveMix("m", [{ name: "a", size: size(1e6), epochs: 2 }], { totalTokens: 5e6 })
    expect(mix.totalTokens).toEqual({ value: 2e6, mark: "derived" })
    expect(mix.components[0]!.tokens.value).toBe(2e6)
    expect(mix.components[0]!.epochs).toEqual({ value: 2, mark: "declared" })
    expect(mix.warnings.join("\n")).toContain("add up to 2.000M, not the declared total 5.000M")
  })

  it("warns about declared epochs above the cap", () => {
    const mix = solveMix("m", [{ name: "math", size: size(1e4), epochs: 10 }])
    expect(mix.warnings.join("\n")).toContain("math repeats 10.00 epochs, above the limit of 4")
  })

  it("scales to a sample budget keeping shares", () => {
    const mix = solveMix("m", [
      { name: "a", size: size(1e6), epochs: 2 },
      { name: "b", size: size(3e6), epochs: 2 }
    ])
    const sample = scaleMix(mix, 1e6)
    expect(sample.totalTokens.value).toBe(1e6)
    expect(sample.components.map((c) => c.tokens.value)).toEqual([250_000, 750_000])
    expect(sample.components.map((c) => c.weight.value)).toEqual([0.25, 0.75])
    expect(sample.components[0]!.epochs.value).toBeCloseTo(0.25)
  })
})

describe("integerTargets", () => {
  it("sums exactly to the total", () => {
    const targets = integerTargets([1 / 3, 1 / 3, 1 / 3], 1000)
    expect(targets.reduce((a, b) => a + b, 0)).toBe(1000)
    expect(Math.max(...targets) - Math.min(...targets)).toBeLessThanOrEqual(1)
  })
})
