/**
 * Mixing: weighted sampling of tokenized documents to integer token targets, a
 * seeded shuffle of the interleaving, and packing into fixed-length sequences.
 *
 * Each component contributes exactly its target number of tokens. Documents are
 * taken in a seeded random order; a component smaller than its target is cycled
 * again (one more epoch) in a fresh order drawn from a seed derived from the mix seed,
 * the component index and the epoch. The document that crosses the target is cut so
 * the component's measured tokens equal the target, which makes measured shares equal
 * planned shares. The selected pieces of all components are then shuffled together
 * and concatenated (document boundaries are the EOS tokens the tokenizer appended)
 * and cut into sequences of `sequenceLength` tokens; only the last sequence may be
 * shorter. Everything depends only on the inputs and the seed.
 */
import { deriveSeed, makeRng, shuffleInPlace } from "../../../connectors/generators/random.ts"

export interface MixComponentData {
  readonly name: string
  /** Integer token target. */
  readonly target: number
  /** Token ids of each document, in the input's order. */
  readonly documents: ReadonlyArray<Uint32Array>
}

export interface MixOptions {
  readonly seed: number
  readonly sequenceLength: number
  /** `concat` packs across documents; `none` emits each piece split into rows of at most `sequenceLength`. */
  readonly packing: "concat" | "none"
}

/** A slice `[0, length)` of one document of one component. */
export interface MixPiece {
  readonly component: number
  readonly document: number
  readonly length: number
}

export interface TargetSpec {
  readonly name: string
  readonly tokens: number | null
  readonly epochs?: number | null | undefined
  readonly weight: number | null
}

/**
 * Resolves every component's integer token target from the measured sizes.
 *
 * A component with `tokens` keeps it. One with `epochs` takes
 * `round(epochs * available)`. The rest share what those leave of `totalTokens` in
 * proportion to their weights, rounded with the largest-remainder method so the
 * targets sum to the budget exactly.
 */
export const resolveTargets = (
  specs: ReadonlyArray<TargetSpec>,
  available: ReadonlyArray<number>,
  totalTokens: number | null
): Array<number> => {
  const targets: Array<number | undefined> = specs.map((spec, index) => {
    if (spec.tokens !== null) {
      if (!Number.isInteger(spec.tokens) || spec.tokens < 0) {
        throw new MixInputError(spec.name, `component ${spec.name}: tokens must be a non-negative integer, got ${spec.tokens}`)
      }
      return spec.tokens
    }
    if (spec.epochs !== null && spec.epochs !== undefined) return Math.round(spec.epochs * available[index])
    return undefined
  })
  const open = specs.map((_, index) => index).filter((index) => targets[index] === undefined)
  if (open.length > 0) {
    const fixed = targets.reduce<number>((sum, target) => sum + (target ?? 0), 0)
    const weights = open.map((index) => specs[index].weight ?? 0)
    const weightSum = weights.reduce((sum, weight) => sum + weight, 0)
    if (totalTokens === null || !(weightSum > 0) || totalTokens < fixed) {
      const names = open.map((index) => specs[index].name).join(", ")
      throw new MixInputError(names, `components ${names} have neither tokens nor epochs, and the mix has no token budget left to share by weight; set tokens, epochs or totalTokens`)
    }
    const remaining = Math.round(totalTokens - fixed)
    const exact = weights.map((weight) => (remaining * weight) / weightSum)
    const floors = exact.map(Math.floor)
    let left = remaining - floors.reduce((sum, value) => sum + value, 0)
    const byRemainder = exact.map((value, position) => ({ position, remainder: value - floors[position] }))
      .sort((a, b) => b.remainder - a.remainder || a.position - b.position)
    for (const { position } of byRemainder) {
      if (left <= 0) break
      floors[position]++
      left--
    }
    open.forEach((index, position) => {
      targets[index] = floors[position]
    })
  }
  return targets.map((target) => target ?? 0)
}

/** Salt for the interleaving shuffle, so it never shares a stream with a component's order. */
const INTERLEAVE_SALT = 0x6d697821

export class MixInputError extends Error {
  readonly component: string
  constructor(component: string, description: string) {
    super(description)
    this.component = component
  }
}

/**
 * Selects the pieces of one component, epoch by epoch, until their lengths sum to
 * the target exactly.
 */
export const selectComponent = (component: MixComponentData, index: number, seed: number): Array<MixPiece> => {
  const pieces: Array<MixPiece> = []
  if (component.target <= 0) return pieces
  const available = component.documents.reduce((total, document) => total + document.length, 0)
  if (available === 0) {
    throw new MixInputError(component.name, `component ${component.name} has no tokens, but its target is ${component.target}`)
  }
  const componentSeed = deriveSeed(seed, index)
  let taken = 0
  for (let epoch = 0; taken < component.target; epoch++) {
    const order = Array.from({ length: component.documents.length }, (_, document) => document)
    shuffleInPlace(order, makeRng(deriveSeed(componentSeed, epoch)))
    for (const document of order) {
      const length = component.documents[document].length
      if (length === 0) continue
      const take = Math.min(length, component.target - taken)
      pieces.push({ component: index, document, length: take })
      taken += take
      if (taken === component.target) break
    }
  }
  return pieces
}

/** Selects every component's pieces and shuffles them into one interleaved order. */
export const planMix = (components: ReadonlyArray<MixComponentData>, seed: number): Array<MixPiece> => {
  const pieces = components.flatMap((component, index) => selectComponent(component, index, seed))
  return shuffleInPlace(pieces, makeRng(deriveSeed(seed ^ INTERLEAVE_SALT, components.length)))
}

export interface PackedMix {
  /** Sequences in output order. */
  readonly sequences: Array<Uint32Array>
  /** Tokens each component contributed, counted while packing. */
  readonly measuredTokens: Array<number>
}

/** Packs the pieces into sequences and counts each component's tokens on the way. */
export const packMix = (
  components: ReadonlyArray<MixComponentData>,
  pieces: ReadonlyArray<MixPiece>,
  options: MixOptions
): PackedMix => {
  if (!Number.isInteger(options.sequenceLength) || options.sequenceLength <= 0) {
    throw new MixInputError("", `sequenceLength must be a positive integer, got ${options.sequenceLength}`)
  }
  const measuredTokens = components.map(() => 0)
  const sequences: Array<Uint32Array> = []
  const length = options.sequenceLength

  if (options.packing === "none") {
    for (const piece of pieces) {
      const tokens = components[piece.component].documents[piece.document]
      for (let start = 0; start < piece.length; start += length) {
        sequences.push(tokens.slice(start, Math.min(start + length, piece.length)))
      }
      measuredTokens[piece.component] += piece.length
    }
    return { sequences, measuredTokens }
  }

  let current = new Uint32Array(length)
  let filled = 0
  for (const piece of pieces) {
    const tokens = components[piece.component].documents[piece.document]
    let offset = 0
    while (offset < piece.length) {
      const take = Math.min(length - filled, piece.length - offset)
      current.set(tokens.subarray(offset, offset + take), filled)
      filled += take
      offset += take
      if (filled === length) {
        sequences.push(current)
        current = new Uint32Array(length)
        filled = 0
      }
    }
    measuredTokens[piece.component] += piece.length
  }
  if (filled > 0) sequences.push(current.slice(0, filled))
  return { sequences, measuredTokens }
}
