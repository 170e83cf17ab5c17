/**
 * Lowering: a validated recipe becomes IR nodes.
 *
 * Each dataset a mix or stage uses becomes a chain: `read` (or `generate`), then one
 * node per transform step, then `tokenize` for every tokenizer a mix asks for. A mix
 * becomes a `mix` node over its components' `tokenize` nodes and, when it feeds a
 * pretraining stage or asks for it, an `export` node that writes Megatron indexed
 * datasets. Stages become `stage` nodes over their data and previous stage.
 *
 * Only fields that change an operator's output go into `params`: descriptions,
 * licenses, categories and languages stay out, so editing them recomputes nothing.
 */
import { canonicalJson, nodeIdFromCanonical } from "./hash.ts"
import type { IrNode, JsonValue, NodeKind } from "./ir.ts"
import type { MixPlanNumbers } from "./mix.ts"
import { integerTargets } from "./mix.ts"
import type { Generator, Recipe, Source, SourceFormat, Stage, TransformStep } from "./recipe/schema.ts"
import { bytesOf } from "./recipe/units.ts"

/** Operator versions. Bumping one invalidates every cached node of that kind. */
export const OPERATOR_VERSIONS: Record<NodeKind, string> = {
  read: "1",
  generate: "1",
  filter: "1",
  dedup: "1",
  tokenize: "1",
  mix: "1",
  export: "1",
  qdc: "1",
  stage: "1"
}

export const DEFAULT_SEED = 1234
export const DEFAULT_SEQUENCE_LENGTH = 2048
export const DEFAULT_TOKENIZER = "cl100k_base"
/** Records above this size are an error or a counted skip, per the source's `onError`. */
export const DEFAULT_MAX_RECORD_BYTES = 16 * 2 ** 20

/** Infers a source format from a URI's extension. */
export const inferFormat = (uri: string): SourceFormat | undefined => {
  const lower = uri.toLowerCase()
  if (lower.endsWith(".parquet")) return "parquet"
  if (/\.(jsonl|ndjson|json)(\.gz|\.zst)?$/.test(lower)) return "jsonl"
  if (/\.(arrow|feather|ipc|arrows)$/.test(lower)) return "arrow"
  if (/\.txt(\.gz)?$/.test(lower)) return "text"
  return undefined
}

export class LoweringError extends Error {
  readonly path: string
  constructor(path: string, message: string) {
    super(`${path}: ${message}`)
    this.name = "LoweringError"
    this.path = path
  }
}

/** Params as canonical JSON text and as the plain value parsed back from it. */
const canonicalParams = (value: unknown): { readonly text: string; readonly params: { readonly [key: string]: JsonValue } } => {
  const text = canonicalJson(value)
  return { text, params: JSON.parse(text) }
}

const omit = <T extends object>(value: T, keys: ReadonlyArray<string>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(value).filter(([key, v]) => !keys.includes(key) && v !== undefined))

export interface LoweredGraph {
  /** Nodes in topological order. */
  readonly nodes: ReadonlyArray<IrNode>
  /** Dataset name -> id of the last node of its transform chain. */
  readonly datasets: ReadonlyMap<string, string>
  /** Mix name -> ids of the mix node and its export node, if any. */
  readonly mixes: ReadonlyMap<string, { readonly mix: string; readonly export: string | undefined; readonly tokenize: ReadonlyArray<string> }>
}

/** Lowers a recipe given the solved numbers of each mix (token targets). */
export const lowerRecipe = (recipe: Recipe, mixNumbers: ReadonlyMap<string, MixPlanNumbers>): LoweredGraph => {
  const nodes: Array<IrNode> = []
  const byName = new Map<string, IrNode>()
  const datasets = new Map<string, string>()
  const reads = new Map<string, string>()
  const generators = recipe.generators ?? {}
  const stages = recipe.stages ?? {}
  const mixSources = new Set(Object.values(recipe.mixes).flatMap((mix) => mix.components.map((c) => c.source)))

  const add = (kind: NodeKind, name: string, params: Record<string, unknown>, inputs: ReadonlyArray<string>): string => {
    const existing = byName.get(name)
    if (existing !== undefined) return existing.id
    const canonical = canonicalParams(params)
    const node: IrNode = {
      id: nodeIdFromCanonical(kind, canonical.text, inputs, OPERATOR_VERSIONS[kind]),
      kind,
      name,
      params: canonical.params,
      inputs: [...inputs],
      version: OPERATOR_VERSIONS[kind]
    }
    nodes.push(node)
    byName.set(name, node)
    return node.id
  }

  const stepsOf = (transforms: Source["transforms"]): ReadonlyArray<TransformStep> =>
    typeof transforms === "string" ? recipe.transforms?.[transforms] ?? [] : transforms ?? []

  const lowerRead = (name: string, source: Source): string => {
    const cached = reads.get(name)
    if (cached !== undefined) return cached
    const uris = typeof source.uri === "string" ? [source.uri] : [...source.uri]
    const format = source.format ?? inferFormat(uris[0] ?? "")
    if (format === undefined) {
      throw new LoweringError(`sources.${name}.format`, `cannot infer the format of ${uris[0]}; set format to parquet, jsonl, arrow or text`)
    }
    const id = add(
      "read",
      `read:${name}`,
      {
        source: name,
        uris,
        format,
        // Without a mapping, sources a mix tokenizes read `text`; others keep every column.
        fields: source.fields ?? (mixSources.has(name) ? { text: "text" } : {}),
        onError: source.onError ?? "fail",
        maxRecordBytes: source.maxRecordBytes === undefined ? DEFAULT_MAX_RECORD_BYTES : bytesOf(source.maxRecordBytes)
      },
      []
    )
    reads.set(name, id)
    return id
  }

  const lowerSteps = (name: string, steps: ReadonlyArray<TransformStep>, start: string, field: string): string => {
    let current = start
    const stepKind = (step: TransformStep): "filter" | "dedup" | "select" => {
      if ("filter" in step) return "filter"
      if ("dedup" in step) return "dedup"
      return "select"
    }
    const seen = new Map<string, number>()
    steps.forEach((step) => {
      // Names stay short: a suffix appears only when one kind of step repeats.
      const kind = stepKind(step)
      const count = (seen.get(kind) ?? 0) + 1
      seen.set(kind, count)
      const repeats = steps.filter((other) => stepKind(other) === kind).length > 1
      const suffix = repeats ? `#${count}` : ""
      if ("filter" in step) {
        current = add("filter", `filter:${name}${suffix}`, { field: step.filter.field ?? field, rules: step.filter.rules }, [current])
      } else if ("dedup" in step) {
        const d = step.dedup
        // Higher-priority sources come first: a duplicate survives only in the earliest input.
        const across = (d.across ?? []).map((other) => lowerRead(other, recipe.sources[other]!))
        current = add(
          "dedup",
          `dedup:${name}${suffix}`,
          {
            method: d.method,
            field: d.field ?? field,
            ngram: d.ngram ?? 5,
            bands: d.bands ?? 14,
            rows: d.rows ?? 8,
            threshold: d.threshold ?? 0.8,
            seed: d.seed ?? 0
          },
          [...across, current]
        )
      } else {
        current = add("filter", `select:${name}${suffix}`, { field: step.select.field ?? field, select: step.select, rules: [] }, [current])
      }
    })
    return current
  }

  const lowerGenerator = (name: string, generator: Generator): string => {
    const inputs: Array<string> = []
    if (generator.type === "llm" && generator.input !== undefined) inputs.push(lowerDataset(generator.input))
    if (generator.type === "search-trace" && generator.problems !== undefined) inputs.push(lowerDataset(generator.problems))
    const params = omit(generator, ["transforms", "size", "category", "description", "verify"])
    const generated = add("generate", `generate:${name}`, { generator: params, verify: generator.verify ?? "none" }, inputs)
    const field = generator.type === "search-trace" ? "trace" : "completion"
    const end = lowerSteps(name, stepsOf(generator.transforms), generated, field)
    add("qdc", `qdc:${name}`, { metrics: ["quality", "diversity", "complexity"], field }, [end])
    return end
  }

  function lowerDataset(name: string): string {
    const done = datasets.get(name)
    if (done !== undefined) return done
    const source = recipe.sources[name]
    const end =
      source !== undefined
        ? lowerSteps(name, stepsOf(source.transforms), lowerRead(name, source), "text")
        : lowerGenerator(name, generators[name]!)
    datasets.set(name, end)
    return end
  }

  const pretrainData = new Set(Object.values(stages).filter((s) => s.type === "pretrain").flatMap((s) => (s.data === undefined ? [] : [s.data].flat())))
  const mixes = new Map<string, { mix: string; export: string | undefined; tokenize: Array<string> }>()

  for (const [mixName, mix] of Object.entries(recipe.mixes)) {
    const tokenizer = mix.tokenizer ?? DEFAULT_TOKENIZER
    const numbers = mixNumbers.get(mixName)!
    const tokenizeIds = mix.components.map((component) => {
      const end = lowerDataset(component.source)
      return add("tokenize", `tokenize:${component.source}:${tokenizer}`, { tokenizer, field: "text", appendEos: true }, [end])
    })
    // When every size is known the targets are fixed integers. Otherwise the runtime
    // resolves them from measured sizes: `epochs` x tokens available, and weights
    // sharing what is left of `totalTokens`.
    const known = numbers.components.every((c) => c.tokens.value !== undefined) && numbers.totalTokens.value !== undefined
    const targets = known
      ? integerTargets(numbers.components.map((c) => c.tokens.value!), Math.round(numbers.totalTokens.value!))
      : numbers.components.map(() => null)
    const total = known ? targets.reduce<number>((a, b) => a + (b ?? 0), 0) : numbers.totalTokens.value ?? null
    const components = mix.components.map((component, i) => ({
      name: component.name ?? component.source,
      weight: known ? numbers.components[i]!.weight.value ?? null : component.weight ?? null,
      tokens: targets[i],
      epochs: known ? null : component.epochs ?? null
    }))
    const mixId = add(
      "mix",
      `mix:${mixName}`,
      {
        seed: mix.seed ?? DEFAULT_SEED,
        sequenceLength: mix.sequenceLength ?? DEFAULT_SEQUENCE_LENGTH,
        packing: mix.packing ?? "concat",
        totalTokens: total,
        components
      },
      tokenizeIds
    )
    const wantsExport = mix.export === "megatron" || (mix.export === undefined && pretrainData.has(mixName))
    const exportId = wantsExport
      ? add(
          "export",
          `export:${mixName}`,
          { format: "megatron", dtype: "uint32", components: components.map((c) => ({ name: c.name, weight: c.weight })) },
          tokenizeIds
        )
      : undefined
    mixes.set(mixName, { mix: mixId, export: exportId, tokenize: tokenizeIds })
  }

  // Datasets used only by stages or generators still need their chains.
  const stageData = (stage: Stage): ReadonlyArray<string> => {
    if (stage.data === undefined) return []
    if (typeof stage.data === "string") return [stage.data]
    return stage.data
  }
  for (const stage of Object.values(stages)) {
    for (const name of stageData(stage)) if (!Object.hasOwn(recipe.mixes, name)) lowerDataset(name)
  }

  const stageIds = new Map<string, string>()
  const lowerStage = (name: string, stage: Stage): string => {
    const done = stageIds.get(name)
    if (done !== undefined) return done
    const inputs: Array<string> = []
    for (const dataName of stageData(stage)) {
      const mixIds = mixes.get(dataName)
      inputs.push(mixIds !== undefined ? mixIds.export ?? mixIds.mix : datasets.get(dataName)!)
    }
    if (stage.from !== undefined) inputs.push(lowerStage(stage.from, stages[stage.from]!))
    const id = add("stage", `stage:${name}`, omit(stage, ["description"]), inputs)
    stageIds.set(name, id)
    return id
  }
  for (const [name, stage] of Object.entries(stages)) lowerStage(name, stage)

  return { nodes, datasets, mixes }
}
