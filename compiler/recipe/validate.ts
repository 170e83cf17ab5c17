/**
 * Checks a decoded recipe for what the Schema cannot see: references between
 * sections, cycles, and stages whose data lacks the fields the stage trains on.
 */
import { Effect } from "effect"
import { RecipeError, unknownReference, type RecipeIssue } from "./errors.ts"
import type { Generator, Recipe, Source, StageType } from "./schema.ts"

/** Returns the row fields a dataset provides, for checking stage compatibility. */
export const datasetFields = (dataset: Source | Generator): ReadonlySet<string> => {
  if ("type" in dataset) {
    // Search-trace rows carry problem, trace and answer; both generators expose prompt/response.
    return new Set(["text", "prompt", "response", "trace", "answer", "verified"])
  }
  const mapping = dataset.fields
  if (mapping === undefined) return new Set(["text"])
  return new Set(Object.keys(mapping).filter((key) => mapping[key as keyof typeof mapping] !== undefined))
}

/** Field groups each stage type needs from its data; any one group is enough. */
const STAGE_NEEDS: Record<StageType, ReadonlyArray<ReadonlyArray<string>> | undefined> = {
  pretrain: [["text"], ["tokens"]],
  sft: [["messages"], ["prompt", "response"]],
  dpo: [["prompt", "chosen", "rejected"]],
  rl: [["prompt"]],
  quantize: undefined
}

const describeNeeds = (needs: ReadonlyArray<ReadonlyArray<string>>): string =>
  needs.map((group) => group.join("/")).join(" or ")

/** Validates references, cycles and stage data. Fails with every problem found; returns warnings. */
export const validateRecipe = (file: string, recipe: Recipe): Effect.Effect<ReadonlyArray<string>, RecipeError> =>
  Effect.gen(function* () {
    const issues: Array<RecipeIssue> = []
    const referenceIssues: Array<RecipeIssue> = []
    const warnings: Array<string> = []
    const sources = recipe.sources
    const generators = recipe.generators ?? {}
    const mixes = recipe.mixes
    const stages = recipe.stages ?? {}
    const pipelines = recipe.transforms ?? {}
    const datasetNames = [...Object.keys(sources), ...Object.keys(generators)]
    const isDataset = (name: string): boolean => Object.hasOwn(sources, name) || Object.hasOwn(generators, name)

    for (const name of Object.keys(mixes)) {
      if (isDataset(name)) issues.push({ path: `mixes.${name}`, message: `a source or generator is also named ${JSON.stringify(name)}; rename the mix so stages can tell them apart` })
    }
    for (const name of Object.keys(generators)) {
      if (Object.hasOwn(sources, name)) issues.push({ path: `generators.${name}`, message: `a source is also named ${JSON.stringify(name)}; rename one of them` })
    }

    const checkPipeline = (at: string, transforms: Source["transforms"]) => {
      if (typeof transforms === "string" && !Object.hasOwn(pipelines, transforms)) {
        referenceIssues.push({ path: `${at}.transforms`, message: unknownReference("transform pipeline", transforms, Object.keys(pipelines)) })
      }
      const steps = typeof transforms === "string" ? pipelines[transforms] ?? [] : transforms ?? []
      steps.forEach((step, i) => {
        if ("dedup" in step) {
          for (const other of step.dedup.across ?? []) {
            if (!Object.hasOwn(sources, other)) {
              referenceIssues.push({ path: `${at}.transforms[${i}].dedup.across`, message: unknownReference("source", other, Object.keys(sources)) })
            }
          }
        }
      })
    }
    for (const [name, source] of Object.entries(sources)) checkPipeline(`sources.${name}`, source.transforms)

    for (const [name, generator] of Object.entries(generators)) {
      checkPipeline(`generators.${name}`, generator.transforms)
      if (generator.type === "llm" && generator.input !== undefined && !isDataset(generator.input)) {
        referenceIssues.push({ path: `generators.${name}.input`, message: unknownReference("source or generator", generator.input, datasetNames) })
      }
      if (generator.type === "search-trace" && generator.problems !== undefined && !Object.hasOwn(sources, generator.problems)) {
        referenceIssues.push({ path: `generators.${name}.problems`, message: unknownReference("source", generator.problems, Object.keys(sources)) })
      }
    }

    // Generators that read other generators must not form a loop.
    const generatorInput = (name: string): string | undefined => {
      const generator = generators[name]
      return generator?.type === "llm" ? generator.input : undefined
    }
    for (const start of Object.keys(generators)) {
      const chain = [start]
      let next = generatorInput(start)
      while (next !== undefined && Object.hasOwn(generators, next)) {
        if (chain.includes(next)) {
          if (next === start) issues.push({ path: `generators.${start}.input`, message: `cycle: ${[...chain, next].join(" -> ")}` })
          break
        }
        chain.push(next)
        next = generatorInput(next)
      }
    }

    const used = new Set<string>()
    for (const [mixName, mix] of Object.entries(mixes)) {
      const seen = new Set<string>()
      if (mix.components.length === 0) issues.push({ path: `mixes.${mixName}.components`, message: "a mix needs at least one component" })
      mix.components.forEach((component, i) => {
        const at = `mixes.${mixName}.components[${i}]`
        if (!isDataset(component.source)) {
          referenceIssues.push({ path: `${at}.source`, message: unknownReference("source or generator", component.source, datasetNames) })
        } else {
          used.add(component.source)
          const dataset = sources[component.source] ?? generators[component.source]!
          const fields = datasetFields(dataset)
          if (!fields.has("text") && !fields.has("tokens")) {
            issues.push({
              path: `${at}.source`,
              message: `a pretraining mix needs a text or tokens field, but ${JSON.stringify(component.source)} maps only ${[...fields].join(", ")}; map its text column under fields.text`
            })
          }
        }
        const given = (["weight", "epochs", "tokens"] as const).filter((key) => component[key] !== undefined)
        if (given.length !== 1) {
          issues.push({
            path: at,
            message: given.length === 0 ? "give one of weight, epochs or tokens" : `give only one of weight, epochs or tokens, got ${given.join(" and ")}`
          })
        }
        const label = component.name ?? component.source
        if (seen.has(label)) issues.push({ path: `${at}.name`, message: `duplicate component ${JSON.stringify(label)}; give each one a distinct name` })
        seen.add(label)
      })
    }

    const dataNames = [...Object.keys(mixes), ...datasetNames]
    for (const [name, stage] of Object.entries(stages)) {
      const at = `stages.${name}`
      if (stage.from !== undefined && !Object.hasOwn(stages, stage.from)) {
        referenceIssues.push({ path: `${at}.from`, message: unknownReference("stage", stage.from, Object.keys(stages)) })
      }
      const needs = STAGE_NEEDS[stage.type]
      if (needs === undefined) {
        if (stage.from === undefined) issues.push({ path: `${at}.from`, message: "a quantize stage needs `from`: the stage whose checkpoint it quantizes" })
        if (stage.quantize === undefined) issues.push({ path: `${at}.quantize`, message: "missing required field: the quantization format and types" })
        continue
      }
      if (stage.data === undefined) {
        issues.push({ path: `${at}.data`, message: `a ${stage.type} stage needs data with ${describeNeeds(needs)} fields` })
        continue
      }
      const names = typeof stage.data === "string" ? [stage.data] : stage.data
      names.forEach((dataName, i) => {
        const dataAt = typeof stage.data === "string" ? `${at}.data` : `${at}.data[${i}]`
        if (!Object.hasOwn(mixes, dataName) && !isDataset(dataName)) {
          referenceIssues.push({ path: dataAt, message: unknownReference("mix, source or generator", dataName, dataNames) })
          return
        }
        used.add(dataName)
        if (Object.hasOwn(mixes, dataName)) {
          // Mixes are tokenized text, which only pretraining consumes.
          if (stage.type !== "pretrain") {
            issues.push({
              path: dataAt,
              message: `${JSON.stringify(dataName)} is a pretraining mix of tokenized text, but a ${stage.type} stage needs ${describeNeeds(needs)} fields; point it at a source or generator`
            })
          }
          return
        }
        if (stage.type === "pretrain") {
          issues.push({ path: dataAt, message: `a pretrain stage trains on a mix; ${JSON.stringify(dataName)} is a dataset, so add it to a mix and name the mix here` })
          return
        }
        const dataset = sources[dataName] ?? generators[dataName]!
        const fields = datasetFields(dataset)
        if (!needs.some((group) => group.every((field) => fields.has(field)))) {
          issues.push({
            path: dataAt,
            message: `a ${stage.type} stage needs ${describeNeeds(needs)} fields, but ${JSON.stringify(dataName)} has ${[...fields].join(", ")}; map them under fields`
          })
        }
      })
      if (stage.type === "rl" && stage.reward === undefined) {
        issues.push({ path: `${at}.reward`, message: "an rl stage needs reward.verifier, the verifier that scores completions" })
      }
    }

    // Stage `from` chains must end.
    for (const start of Object.keys(stages)) {
      const chain = [start]
      let next = stages[start]!.from
      while (next !== undefined && Object.hasOwn(stages, next)) {
        if (chain.includes(next)) {
          if (next === start) issues.push({ path: `stages.${start}.from`, message: `cycle: ${[...chain, next].join(" -> ")}` })
          break
        }
        chain.push(next)
        next = stages[next]!.from
      }
    }

    for (const [profileName, profile] of Object.entries(recipe.profiles ?? {})) {
      for (const name of Object.keys(profile.sources ?? {})) {
        if (!Object.hasOwn(sources, name)) {
          referenceIssues.push({ path: `profiles.${profileName}.sources.${name}`, message: unknownReference("source", name, Object.keys(sources)) })
        }
      }
    }

    for (const generator of Object.values(generators)) {
      if (generator.type === "llm" && generator.input !== undefined) used.add(generator.input)
      if (generator.type === "search-trace" && generator.problems !== undefined) used.add(generator.problems)
    }
    for (const name of datasetNames) {
      if (!used.has(name)) warnings.push(`${name} is not used by any mix or stage, so the plan skips it`)
    }

    if (referenceIssues.length > 0) {
      return yield* Effect.fail(new RecipeError({ reason: "UnknownReference", file, issues: [...referenceIssues, ...issues] }))
    }
    if (issues.length > 0) {
      const reason = issues.some((issue) => issue.message.startsWith("cycle:")) ? "Cycle" : "Incompatible"
      return yield* Effect.fail(new RecipeError({ reason, file, issues }))
    }
    return warnings
  })
