import { describe, expect, it } from "vitest"
import { type MixComponentData, MixInputError, packMix, planMix, resolveTargets, selectComponent } from "../../runtime/ops/mix/mix.ts"

/** Documents of lengths `lengths`, each filled with `base + its index`. */
const documents = (base: number, lengths: ReadonlyArray<number>): Array<Uint32Array> =>
  lengths.map((length, index) => new Uint32Array(length).fill(base + index))

const components = (): Array<MixComponentData> => [
  { name: "web", target: 700, documents: documents(1000, [50, 120, 33, 80, 9, 200]) },
  { name: "code", target: 300, documents: documents(2000, [40, 40, 40]) }
]

const sum = (values: ReadonlyArray<number>) => values.reduce((total, value) => total + value, 0)

describe("selectComponent", () => {
  it("takes exactly the target across epochs", () => {
    const [, code] = components()
    const pieces = selectComponent(code, 1, 42)
    expect(sum(pieces.map((piece) => piece.length))).toBe(300)
    // 120 tokens available: two full epochs, then 60 tokens of a third.
    const perDocument = [0, 1, 2].map((document) => pieces.filter((piece) => piece.document === document).length)
    expect(sum(perDocument)).toBe(pieces.length)
    expect(Math.min(...perDocument)).toBeGreaterThanOrEqual(2)
  })

  it("reshuffles each epoch with a derived seed", () => {
    const component: MixComponentData = { name: "many", target: 400, documents: documents(0, Array.from({ length: 20 }, () => 10)) }
    const pieces = selectComponent(component, 0, 7)
    const epochs = [0, 1].map((epoch) => pieces.slice(epoch * 20, epoch * 20 + 20).map((piece) => piece.document))
    expect([...epochs[0]].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, index) => index))
    expect(epochs[0]).not.toEqual(epochs[1])
  })

  it("rejects a component without tokens", () => {
    expect(() => selectComponent({ name: "empty", target: 5, documents: [new Uint32Array(0)] }, 0, 1)).toThrow(MixInputError)
  })
})

describe("packMix", () => {
  it("packs concat sequences and measures each component", () => {
    const data = components()
    const packed = packMix(data, planMix(data, 99), { seed: 99, sequenceLength: 128, packing: "concat" })
    expect(packed.measuredTokens).toEqual([700, 300])
    const lengths = packed.sequences.map((sequence) => sequence.length)
    expect(lengths.slice(0, -1).every((length) => length === 128)).toBe(true)
    expect(sum(lengths)).toBe(1000)
    const codeTokens = packed.sequences.reduce((total, sequence) => total + sequence.filter((id) => id >= 2000).length, 0)
    expect(codeTokens).toBe(300)
  })

  it("splits documents without packing under none", () => {
    const data = components()
    const packed = packMix(data, planMix(data, 3), { seed: 3, sequenceLength: 64, packing: "none" })
    expect(sum(packed.sequences.map((sequence) => sequence.length))).toBe(1000)
    for (const sequence of packed.sequences) {
      expect(sequence.length).toBeLessThanOrEqual(64)
      expect(new Set(sequence).size).toBe(1)
    }
  })

  it("is deterministic for a seed and changes with it", () => {
    const data = components()
    const pack = (seed: number) => packMix(data, planMix(data, seed), { seed, sequenceLength: 100, packing: "concat" }).sequences.map((sequence) => Array.from(sequence))
    expect(pack(5)).toEqual(pack(5))
    expect(pack(5)).not.toEqual(pack(6))
  })
})

describe("resolveTargets", () => {
  it("keeps tokens, multiplies epochs and shares the rest by weight", () => {
    const targets = resolveTargets(
      [
        { name: "fixed", tokens: 100, weight: null },
        { name: "twice", tokens: null, epochs: 2, weight: null },
        { name: "a", tokens: null, weight: 1 },
        { name: "b", tokens: null, weight: 2 }
      ],
      [0, 55, 0, 0],
      1000
    )
    expect(targets.slice(0, 2)).toEqual([100, 110])
    expect(sum(targets)).toBe(1000)
    expect(Math.abs(targets[3] / targets[2] - 2)).toBeLessThan(0.01)
  })

  it("rejects weights without a budget", () => {
    expect(() => resolveTargets([{ name: "a", tokens: null, weight: 1 }], [10], null)).toThrow(/no token budget/)
  })
})
