/**
 * The Plan: what a recipe will compute, shown before any data is read.
 *
 * `buildPlan` solves every mix, lowers the recipe to IR nodes and estimates the work.
 * The Plan is plain JSON (`mixwright plan --json`); `docs/plan.md` documents its fields.
 */
import { Effect } from "effect"
import { shortId } from "./hash.ts"
import type { IrNode } from "./ir.ts"
import { LoweringError, lowerRecipe } from "./lower.ts"
import { type Mark, type MixPlanNumbers, type Quantity, scaleMix, sizeFromDeclared, solveMix } from "./mix.ts"
import { RecipeError } from "./recipe/errors.ts"
import type { LoadedRecipe } from "./recipe/load.ts"
import type { Recipe } from "./recipe/schema.ts"
import { bytesOf, formatTokens, tokensOf } from "./recipe/units.ts"
import { DEFAULT_BYTES_PER_TOKEN, DEFAULT_MAX_EPOCHS } from "./mix.ts"

export const PLAN_FORMAT_VERSION = 1

export interface PlanNode extends IrNode {
  readonly shortId: string
}

export interface PlanMixComponent {
  readonly name: string
  readonly source: string
  readonly category: string | null
  readonly language: string | null
  /** Tokens available after processing. */
  readonly size: number | null
  readonly weight: number | null
  readonly tokens: number | null
  readonly epochs: number | null
  readonly marks: { readonly size: Mark; readonly weight: Mark; readonly tokens: Mark; readonly epochs: Mark }
}

export interface PlanMix {
  readonly name: string
  readonly nodeId: string
  readonly exportNodeId: string | null
  readonly tokenizer: string
  readonly sequenceLength: number
  readonly seed: number
  readonly totalTokens: number | null
  readonly totalTokensMark: Mark
  /** Set when a profile's sample budget scaled the mix; the full plan's total. */
  readonly fullTotalTokens: number | null
  /** Components repeating more than this many epochs get a warning. */
  readonly maxEpochs: number
  readonly components: ReadonlyArray<PlanMixComponent>
}

export interface PlanStage {
  readonly name: string
  readonly type: string
  readonly nodeId: string
  readonly data: ReadonlyArray<string>
  readonly from: string | null
  readonly backend: string | null
  readonly steps: number | null
  readonly globalBatch: number | null
  readonly sequenceLength: number | null
  /** Tokens the stage trains on: steps x global batch x sequence length. */
  readonly tokens: number | null
  readonly tokensMark: Mark
}

export interface Plan {
  readonly formatVersion: number
  readonly recipe: { readonly name: string; readonly file: string; readonly profile: string | null }
  /** Artifact store root the plan will read and write. */
  readonly store: string
  readonly executor: "local" | "slurm"
  /** S3 client settings from the profile; credentials always come from the AWS SDK chain. */
  readonly s3: { readonly endpoint: string | null; readonly region: string | null; readonly forcePathStyle: boolean | null } | null
  /** Slurm resources from the profile, for `--executor slurm`. */
  readonly slurm: { readonly [key: string]: unknown } | null
  readonly nodes: ReadonlyArray<PlanNode>
  readonly mixes: ReadonlyArray<PlanMix>
  readonly stages: ReadonlyArray<PlanStage>
  readonly estimate: {
    /** Bytes of source data to read, where sizes are declared. */
    readonly bytes: number | null
    readonly bytesMark: Mark
    /** Tokens of source data to process. */
    readonly tokens: number | null
    readonly tokensMark: Mark
    /** Tokens the mixes write. */
    readonly outputTokens: number | null
  }
  readonly warnings: ReadonlyArray<string>
}

const value = (q: Quantity): number | null => (q.value === undefined ? null : q.value)

/** Size of a dataset in tokens from its declaration. Generators without a size are missing. */
const datasetSize = (recipe: Recipe, name: string): Quantity => {
  const source = recipe.sources[name] ?? recipe.generators?.[name]
  return sizeFromDeclared(source?.size)
}

/** Solves every mix, scaled to the profile's sample budget when it sets one. */
export const solveMixes = (loaded: LoadedRecipe): Map<string, MixPlanNumbers> => {
  const { recipe, profile } = loaded
  const numbers = new Map<string, MixPlanNumbers>()
  for (const [name, mix] of Object.entries(recipe.mixes)) {
    const solved = solveMix(
      name,
      mix.components.map((c) => ({
        name: c.name ?? c.source,
        category: recipe.sources[c.source]?.category ?? recipe.generators?.[c.source]?.category,
        size: datasetSize(recipe, c.source),
        weight: c.weight,
        epochs: c.epochs,
        tokens: c.tokens === undefined ? undefined : tokensOf(c.tokens)
      })),
      {
        // A sample profile's sizes describe the sample, so the full total does not apply to them.
        totalTokens: mix.totalTokens === undefined || profile?.sample !== undefined ? undefined : tokensOf(mix.totalTokens),
        maxEpochs: mix.maxEpochs
      }
    )
    const sample = profile?.sample?.totalTokens
    numbers.set(name, sample === undefined ? solved : scaleMix(solved, tokensOf(sample)))
  }
  return numbers
}

const stageNumbers = (recipe: Recipe, name: string) => {
  const stage = recipe.stages![name]!
  const batch = stage.batch
  const globalBatch =
    batch?.globalBatch ??
    (batch?.microBatchPerGpu !== undefined && batch.gpus !== undefined
      ? batch.microBatchPerGpu * batch.gpus * (batch.gradientAccumulation ?? 1)
      : undefined)
  const mixName = typeof stage.data === "string" ? stage.data : undefined
  const mix = mixName === undefined ? undefined : recipe.mixes[mixName]
  const sequenceLength = stage.model?.sequenceLength ?? mix?.sequenceLength
  const tokens =
    stage.steps !== undefined && globalBatch !== undefined && sequenceLength !== undefined
      ? stage.steps * globalBatch * sequenceLength
      : undefined
  return { stage, mixName, globalBatch, sequenceLength, tokens }
}

/** Builds the plan of a loaded recipe. `store` overrides the profile's store root. */
export const buildPlan = (loaded: LoadedRecipe, options: { readonly store?: string | undefined } = {}): Effect.Effect<Plan, RecipeError> =>
  Effect.gen(function* () {
    const { recipe } = loaded
    const numbers = solveMixes(loaded)
    const warnings = [...loaded.warnings]
    for (const n of numbers.values()) warnings.push(...n.warnings)
    const mixErrors = [...numbers.entries()].flatMap(([name, n]) => n.errors.map((message) => ({ path: `mixes.${name}`, message })))
    if (mixErrors.length > 0) {
      return yield* Effect.fail(new RecipeError({ reason: "Incompatible", file: loaded.file, issues: mixErrors }))
    }

    const graph = yield* Effect.try({
      try: () => lowerRecipe(recipe, numbers),
      catch: (cause) =>
        cause instanceof LoweringError
          ? new RecipeError({ reason: "Invalid", file: loaded.file, issues: [{ path: cause.path, message: cause.message.slice(cause.path.length + 2) }] })
          : new RecipeError({ reason: "Invalid", file: loaded.file, issues: [{ path: "", message: String(cause) }] })
    })

    const mixes: Array<PlanMix> = Object.entries(recipe.mixes).map(([name, mix]) => {
      const solved = numbers.get(name)!
      const ids = graph.mixes.get(name)!
      const mixNode = graph.nodes.find((n) => n.id === ids.mix)!
      const targets = (mixNode.params.components as ReadonlyArray<{ tokens: number | null }>).map((c) => c.tokens)
      return {
        name,
        nodeId: ids.mix,
        exportNodeId: ids.export ?? null,
        tokenizer: mix.tokenizer ?? "cl100k_base",
        sequenceLength: mixNode.params.sequenceLength as number,
        seed: mixNode.params.seed as number,
        totalTokens: value(solved.totalTokens),
        totalTokensMark: solved.totalTokens.mark,
        fullTotalTokens: loaded.profile?.sample === undefined || mix.totalTokens === undefined ? null : tokensOf(mix.totalTokens),
        maxEpochs: mix.maxEpochs ?? DEFAULT_MAX_EPOCHS,
        components: solved.components.map((c, i) => {
          const sourceName = mix.components[i]!.source
          const dataset = recipe.sources[sourceName]
          return {
            name: c.name,
            source: sourceName,
            category: c.category ?? null,
            language: dataset?.language ?? null,
            size: value(c.size),
            weight: value(c.weight),
            tokens: targets[i] ?? value(c.tokens),
            epochs: value(c.epochs),
            marks: { size: c.size.mark, weight: c.weight.mark, tokens: c.tokens.mark, epochs: c.epochs.mark }
          }
        })
      }
    })

    const stages: Array<PlanStage> = Object.keys(recipe.stages ?? {}).map((name) => {
      const { stage, mixName, globalBatch, sequenceLength, tokens } = stageNumbers(recipe, name)
      const node = graph.nodes.find((n) => n.name === `stage:${name}`)!
      if (tokens !== undefined && mixName !== undefined) {
        const mixTotal = mixes.find((m) => m.name === mixName)?.totalTokens
        const fullTotal = loaded.profile?.sample === undefined ? mixTotal : mixes.find((m) => m.name === mixName)?.fullTotalTokens
        if (fullTotal !== null && fullTotal !== undefined && Math.abs(tokens - fullTotal) / fullTotal > 0.05) {
          warnings.push(
            `stage ${name}: steps x batch x sequence length is ${formatTokens(tokens)} tokens, but mix ${mixName} plans ${formatTokens(fullTotal)}`
          )
        }
      }
      return {
        name,
        type: stage.type,
        nodeId: node.id,
        data: [stage.data ?? []].flat(),
        from: stage.from ?? null,
        backend: stage.backend ?? null,
        steps: stage.steps ?? null,
        globalBatch: globalBatch ?? null,
        sequenceLength: sequenceLength ?? null,
        tokens: tokens ?? null,
        tokensMark: tokens === undefined ? "missing" : "derived"
      }
    })

    // Work estimate over the sources the plan reads.
    let bytes = 0
    let bytesKnown = true
    let tokens = 0
    let tokensKnown = true
    for (const node of graph.nodes) {
      if (node.kind !== "read") continue
      const source = recipe.sources[node.params.source as string]!
      const size = sizeFromDeclared(source.size)
      if (size.value === undefined) tokensKnown = false
      else tokens += size.value
      if (source.size?.bytes !== undefined) bytes += bytesOf(source.size.bytes)
      else if (size.value !== undefined) bytes += size.value * (source.size?.bytesPerToken ?? DEFAULT_BYTES_PER_TOKEN)
      else bytesKnown = false
    }
    const hubSources = graph.nodes
      .filter((n) => n.kind === "read" && (n.params.uris as ReadonlyArray<string>).some((uri) => uri.startsWith("hf://")))
      .map((n) => n.params.source as string)
    if (hubSources.length > 0) {
      const listed = hubSources.length > 5 ? `${hubSources.slice(0, 5).join(", ")} and ${hubSources.length - 5} more` : hubSources.join(", ")
      warnings.push(
        `${hubSources.length} source${hubSources.length === 1 ? "" : "s"} (${listed}) read hf:// URIs, which the runtime does not download; run with a profile that points them at local or S3 copies`
      )
    }
    const outputTokens = mixes.every((m) => m.totalTokens !== null) ? mixes.reduce((sum, m) => sum + m.totalTokens!, 0) : null

    return {
      formatVersion: PLAN_FORMAT_VERSION,
      recipe: { name: recipe.name, file: loaded.file, profile: loaded.profileName ?? null },
      store: options.store ?? loaded.profile?.store ?? ".mixwright",
      executor: loaded.profile?.executor ?? "local",
      s3:
        loaded.profile?.s3 === undefined
          ? null
          : { endpoint: loaded.profile.s3.endpoint ?? null, region: loaded.profile.s3.region ?? null, forcePathStyle: loaded.profile.s3.forcePathStyle ?? null },
      slurm: loaded.profile?.slurm === undefined ? null : { ...loaded.profile.slurm },
      nodes: graph.nodes.map((node) => ({ ...node, shortId: shortId(node.id) })),
      mixes,
      stages,
      estimate: {
        bytes: bytesKnown ? bytes : null,
        bytesMark: bytesKnown ? "derived" : "missing",
        tokens: tokensKnown ? tokens : null,
        tokensMark: tokensKnown ? "derived" : "missing",
        outputTokens
      },
      warnings
    }
  })

/**
 * Replaces declared sizes with measured ones where a committed `tokenize` artifact
 * reports its token count, and recomputes epochs from them. Targets, weights and node
 * ids stay as planned, so a plan reads the same before and after a run apart from
 * these marks. `measuredTokens` maps tokenize node ids to tokens.
 */
export const withMeasuredSizes = (plan: Plan, measuredTokens: ReadonlyMap<string, number>): Plan => {
  if (measuredTokens.size === 0) return plan
  const byId = new Map(plan.nodes.map((n) => [n.id, n]))
  const warnings = [...plan.warnings]
  return {
    ...plan,
    warnings,
    mixes: plan.mixes.map((mix) => {
      const mixNode = byId.get(mix.nodeId)!
      return {
        ...mix,
        components: mix.components.map((component, i) => {
          const measured = measuredTokens.get(mixNode.inputs[i] ?? "")
          if (measured === undefined) return component
          const epochs = component.tokens !== null && measured > 0 ? component.tokens / measured : null
          if (epochs !== null && epochs > mix.maxEpochs) {
            warnings.push(`${mix.name}: ${component.name} repeats ${epochs.toFixed(2)} epochs of its measured size, above the limit of ${mix.maxEpochs}`)
          }
          return {
            ...component,
            size: measured,
            epochs,
            marks: { ...component.marks, size: "measured" as const, epochs: epochs === null ? ("missing" as const) : ("measured" as const) }
          }
        })
      }
    })
  }
}

export interface PlanDiff {
  /** Nodes whose names exist only in the new plan. */
  readonly added: ReadonlyArray<PlanNode>
  /** Nodes whose names exist only in the old plan. */
  readonly removed: ReadonlyArray<PlanNode>
  /** Nodes present in both whose ids changed: they recompute. */
  readonly invalidated: ReadonlyArray<{ readonly name: string; readonly kind: string; readonly oldId: string; readonly newId: string; readonly changed: ReadonlyArray<string> }>
  readonly unchanged: number
}

/** Compares two plans node by node. */
export const diffPlans = (before: Plan, after: Plan): PlanDiff => {
  const oldByName = new Map(before.nodes.map((n) => [n.name, n]))
  const newByName = new Map(after.nodes.map((n) => [n.name, n]))
  const oldIdToName = new Map(before.nodes.map((n) => [n.id, n.name]))
  const newIdToName = new Map(after.nodes.map((n) => [n.id, n.name]))
  const invalidated: Array<PlanDiff["invalidated"][number]> = []
  let unchanged = 0
  for (const node of after.nodes) {
    const old = oldByName.get(node.name)
    if (old === undefined) continue
    if (old.id === node.id) {
      unchanged++
      continue
    }
    const changed: Array<string> = []
    const keys = new Set([...Object.keys(old.params), ...Object.keys(node.params)])
    for (const key of keys) {
      if (JSON.stringify(old.params[key]) !== JSON.stringify(node.params[key])) changed.push(`params.${key}`)
    }
    const oldInputs = old.inputs.map((id) => oldIdToName.get(id))
    const newInputs = node.inputs.map((id) => newIdToName.get(id))
    if (JSON.stringify(oldInputs) !== JSON.stringify(newInputs)) changed.push("inputs")
    else if (JSON.stringify(old.inputs) !== JSON.stringify(node.inputs)) changed.push("upstream")
    if (old.version !== node.version) changed.push("version")
    invalidated.push({ name: node.name, kind: node.kind, oldId: old.id, newId: node.id, changed })
  }
  return {
    added: after.nodes.filter((n) => !oldByName.has(n.name)),
    removed: before.nodes.filter((n) => !newByName.has(n.name)),
    invalidated,
    unchanged
  }
}
