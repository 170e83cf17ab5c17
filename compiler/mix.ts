/**
 * Mix arithmetic: weights, epochs and token targets, converted into each other.
 *
 * For a budget T and component sizes S_i (tokens after processing):
 * - a `tokens` component takes exactly that many tokens;
 * - an `epochs` component takes `epochs_i * S_i` tokens;
 * - `weight` components share what the others leave of T, in proportion to their
 *   weights (weights are normalised, so they need not sum to 1);
 * - then `epochs_i = tokens_i / S_i` and the reported weight is `tokens_i / T`.
 * When T is not declared it is the sum of the component targets.
 *
 * Each number carries a mark: `declared` (written in the recipe), `derived` (computed
 * from declared numbers), `measured` (read from a committed artifact) or `missing`.
 */
import type { DeclaredSize } from "./recipe/schema.ts"
import { bytesOf, formatTokens, tokensOf } from "./recipe/units.ts"

export type Mark = "declared" | "derived" | "measured" | "missing"

export interface Quantity {
  readonly value: number | undefined
  readonly mark: Mark
}

const missing: Quantity = { value: undefined, mark: "missing" }

/** Assumed bytes per token when a size is declared only in bytes. */
export const DEFAULT_BYTES_PER_TOKEN = 4

/** Components above this many epochs get a warning unless the mix sets `maxEpochs`. */
export const DEFAULT_MAX_EPOCHS = 4

/** Converts what a source declares (tokens, bytes or documents) into its size in tokens. */
export const sizeFromDeclared = (size: DeclaredSize | undefined): Quantity => {
  if (size === undefined) return missing
  if (size.tokens !== undefined) return { value: tokensOf(size.tokens), mark: "declared" }
  if (size.bytes !== undefined) {
    return { value: bytesOf(size.bytes) / (size.bytesPerToken ?? DEFAULT_BYTES_PER_TOKEN), mark: "derived" }
  }
  if (size.documents !== undefined && size.tokensPerDocument !== undefined) {
    return { value: size.documents * size.tokensPerDocument, mark: "derived" }
  }
  return missing
}

export interface MixComponentInput {
  readonly name: string
  readonly category?: string | undefined
  readonly size: Quantity
  readonly weight?: number | undefined
  readonly epochs?: number | undefined
  readonly tokens?: number | undefined
}

export interface MixComponentPlan {
  readonly name: string
  readonly category: string | undefined
  readonly size: Quantity
  readonly weight: Quantity
  readonly tokens: Quantity
  readonly epochs: Quantity
}

export interface MixPlanNumbers {
  readonly totalTokens: Quantity
  readonly components: ReadonlyArray<MixComponentPlan>
  readonly warnings: ReadonlyArray<string>
  /** Contradictions the plan cannot resolve, such as fixed targets above the budget. */
  readonly errors: ReadonlyArray<string>
}

const round4 = (x: number): number => Number(x.toPrecision(4))

/** Solves a mix: every component's weight, tokens and epochs, with marks and warnings. */
export const solveMix = (
  mixName: string,
  components: ReadonlyArray<MixComponentInput>,
  options: { readonly totalTokens?: number | undefined; readonly maxEpochs?: number | undefined } = {}
): MixPlanNumbers => {
  const warnings: Array<string> = []
  const errors: Array<string> = []
  const maxEpochs = options.maxEpochs ?? DEFAULT_MAX_EPOCHS

  // Components with a fixed token target: `tokens`, or `epochs` times a known size.
  const fixed: Array<Quantity | undefined> = components.map((c) => {
    if (c.tokens !== undefined) return { value: c.tokens, mark: "declared" }
    if (c.epochs !== undefined) {
      return c.size.value === undefined ? missing : { value: c.epochs * c.size.value, mark: "derived" }
    }
    return undefined
  })
  const fixedKnown = fixed.every((q) => q === undefined || q.value !== undefined)
  const fixedSum = fixed.reduce((sum, q) => sum + (q?.value ?? 0), 0)
  const weightSum = components.reduce((sum, c) => sum + (c.weight ?? 0), 0)
  const hasWeights = components.some((c) => c.weight !== undefined)

  let total: Quantity
  if (options.totalTokens !== undefined) total = { value: options.totalTokens, mark: "declared" }
  else if (!hasWeights && fixedKnown) total = { value: fixedSum, mark: "derived" }
  else total = missing

  const allWeighted = components.every((c) => c.weight !== undefined)
  if (allWeighted && Math.abs(weightSum - 1) > 1e-6) {
    warnings.push(`${mixName}: weights sum to ${round4(weightSum)}; they are normalised to sum to 1`)
  }

  // Weighted components share the budget the fixed ones leave.
  const remaining = total.value !== undefined && fixedKnown ? total.value - fixedSum : undefined
  if (remaining !== undefined && remaining < 0) {
    errors.push(
      `token and epoch targets add up to ${formatTokens(fixedSum)}, above totalTokens ${formatTokens(total.value)}; raise totalTokens or lower the targets`
    )
  }
  if (hasWeights && remaining !== undefined && remaining <= 0) {
    warnings.push(`${mixName}: weighted components get no tokens because fixed targets use the whole budget`)
  }

  const tokens: Array<Quantity> = components.map((c, i) => {
    const f = fixed[i]
    if (f !== undefined) return f
    if (remaining === undefined) return missing
    return { value: (Math.max(remaining, 0) * c.weight!) / weightSum, mark: "derived" }
  })

  const allTokensKnown = tokens.every((q) => q.value !== undefined)
  const tokenSum = tokens.reduce((sum, q) => sum + (q.value ?? 0), 0)
  // Without weights nothing can absorb the difference, so the targets set the total.
  if (total.mark === "declared" && allTokensKnown && !hasWeights && tokenSum < total.value! * (1 - 1e-6)) {
    warnings.push(
      `${mixName}: component targets add up to ${formatTokens(tokenSum)}, not the declared total ${formatTokens(total.value)}; the mix writes ${formatTokens(tokenSum)}`
    )
    total = { value: tokenSum, mark: "derived" }
  }
  if (total.mark === "declared" && !allTokensKnown) {
    warnings.push(
      `${mixName}: the declared total ${formatTokens(total.value)} cannot be split because some component sizes are missing; declare them or measure them with a run`
    )
  }

  const planned = components.map((c, i): MixComponentPlan => {
    const t = tokens[i]!
    const weight: Quantity =
      allTokensKnown && tokenSum > 0
        ? { value: round4(t.value! / tokenSum), mark: c.weight !== undefined ? "declared" : "derived" }
        : c.weight !== undefined && allWeighted
          ? { value: round4(c.weight / weightSum), mark: "declared" }
          : missing
    let epochs: Quantity
    if (c.epochs !== undefined) epochs = { value: c.epochs, mark: "declared" }
    else if (t.value !== undefined && c.size.value !== undefined && c.size.value > 0) {
      epochs = { value: t.value / c.size.value, mark: "derived" }
    } else epochs = missing
    if (epochs.value !== undefined && epochs.value > maxEpochs) {
      warnings.push(`${mixName}: ${c.name} repeats ${epochs.value.toFixed(2)} epochs, above the limit of ${maxEpochs}`)
    }
    return { name: c.name, category: c.category, size: c.size, weight, tokens: t, epochs }
  })

  return {
    totalTokens: total.value === undefined && allTokensKnown ? { value: tokenSum, mark: "derived" } : total,
    components: planned,
    warnings,
    errors
  }
}

/**
 * Scales a solved mix to a smaller budget, keeping every component's share. Sizes stay
 * as they are, so epochs shrink with the budget.
 */
export const scaleMix = (numbers: MixPlanNumbers, budget: number): MixPlanNumbers => {
  const known = numbers.components.every((c) => c.tokens.value !== undefined)
  const total = known ? numbers.components.reduce((sum, c) => sum + c.tokens.value!, 0) : numbers.totalTokens.value
  if (total === undefined || total <= 0) return numbers
  const factor = budget / total
  return {
    totalTokens: { value: budget, mark: "declared" },
    warnings: numbers.warnings,
    errors: numbers.errors,
    components: numbers.components.map((c) => ({
      ...c,
      tokens: c.tokens.value === undefined ? c.tokens : { value: c.tokens.value * factor, mark: "derived" },
      epochs:
        c.tokens.value === undefined || c.size.value === undefined
          ? c.epochs
          : { value: (c.tokens.value * factor) / c.size.value, mark: "derived" }
    }))
  }
}

/**
 * Integer token targets that add up to `total` exactly (largest-remainder rounding),
 * so measured shares can match planned shares.
 */
export const integerTargets = (tokens: ReadonlyArray<number>, total: number): Array<number> => {
  const sum = tokens.reduce((a, b) => a + b, 0)
  const goal = Math.round(total)
  const exact = tokens.map((t) => (sum === 0 ? 0 : (t / sum) * goal))
  const floors = exact.map(Math.floor)
  let left = goal - floors.reduce((a, b) => a + b, 0)
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1])
  for (const [, i] of order) {
    if (left <= 0) break
    floors[i]!++
    left--
  }
  return floors
}
