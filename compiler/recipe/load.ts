/**
 * Loading a recipe file: read, parse, apply `--set` overrides, decode with the Schema,
 * validate references, then apply the chosen profile.
 */
import { Effect, Exit, Schema } from "effect"
import { existsSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { parseDocument } from "yaml"
import { issuesFromSchema, RecipeError, unknownReference, type RecipeIssue } from "./errors.ts"
import { type Profile, type Recipe, RecipeSchema } from "./schema.ts"
import { validateRecipe } from "./validate.ts"

export interface LoadOptions {
  /** Profile name from the recipe's `profiles`. */
  readonly profile?: string | undefined
  /** `path=value` overrides, applied before validation. */
  readonly set?: ReadonlyArray<string> | undefined
}

export interface LoadedRecipe {
  /** Absolute path of the recipe file. */
  readonly file: string
  /** The recipe after overrides and the profile's source replacements. */
  readonly recipe: Recipe
  readonly profileName: string | undefined
  readonly profile: Profile | undefined
  /** Non-fatal findings, such as unused sources. */
  readonly warnings: ReadonlyArray<string>
}

const decodeRecipe = Schema.decodeUnknownExit(RecipeSchema)

/** Reads the raw recipe value from a `.ts`, `.js`, `.json`, `.yaml` or `.yml` file. */
export const readRecipeValue = (file: string): Effect.Effect<unknown, RecipeError> =>
  Effect.gen(function* () {
    const fail = (reason: "NotFound" | "Syntax", message: string, at = "") =>
      Effect.fail(new RecipeError({ reason, file, issues: [{ path: at, message }] }))

    if (!existsSync(file)) return yield* fail("NotFound", "file not found; pass the path of a .ts, .json or .yaml recipe")
    const extension = path.extname(file).toLowerCase()

    if (extension === ".ts" || extension === ".mts" || extension === ".js" || extension === ".mjs") {
      const loaded = yield* Effect.tryPromise({
        try: () => import(pathToFileURL(path.resolve(file)).href) as Promise<Record<string, unknown>>,
        catch: (cause) => cause
      }).pipe(
        Effect.catch((cause) =>
          fail("Syntax", `cannot load the module: ${cause instanceof Error ? cause.message.split("\n")[0] : String(cause)}`)
        )
      )
      const value = loaded.default ?? loaded.recipe
      if (value === undefined) return yield* fail("Syntax", "the module exports no recipe; add `export default defineRecipe({ ... })`")
      return value
    }

    const text = readFileSync(file, "utf8")
    if (extension === ".json") {
      try {
        return JSON.parse(text) as unknown
      } catch (cause) {
        return yield* fail("Syntax", `invalid JSON: ${(cause as Error).message}`)
      }
    }
    if (extension === ".yaml" || extension === ".yml") {
      const document = parseDocument(text, { prettyErrors: true })
      if (document.errors.length > 0) {
        const first = document.errors[0]!
        const where = first.linePos?.[0] === undefined ? "" : ` at line ${first.linePos[0].line}, column ${first.linePos[0].col}`
        return yield* fail("Syntax", `invalid YAML${where}: ${first.message.split("\n")[0]}`)
      }
      return document.toJS() as unknown
    }
    return yield* fail("NotFound", `unsupported recipe extension ${JSON.stringify(extension)}; use .ts, .json, .yaml or .yml`)
  })

/** Record sections of a recipe, with the singular noun for their entries. */
const RECORD_SECTIONS = new Map([
  ["sources", "source"],
  ["generators", "generator"],
  ["transforms", "transform pipeline"],
  ["mixes", "mix"],
  ["stages", "stage"],
  ["profiles", "profile"]
])

/** Splits `mixes.pretrain.components[3].weight` into keys and indexes. */
export const parseOverridePath = (text: string): Array<string | number> | undefined => {
  const parts: Array<string | number> = []
  const pattern = /([^.[\]]+)|\[(\d+)\]/g
  let consumed = 0
  for (const match of text.matchAll(pattern)) {
    if (match[1] !== undefined) parts.push(match[1])
    else parts.push(Number(match[2]))
    consumed += match[0].length
  }
  const separators = (text.match(/\./g) ?? []).length
  // Empty segments (`a..b`, a leading or trailing dot) name nothing.
  if (/(^\.|\.\.|\.$|\.\[)/.test(text)) return undefined
  return parts.length === 0 || consumed + separators !== text.length ? undefined : parts
}

/** Parses an override value as JSON when it is JSON (numbers, booleans, arrays), else as a string. */
const parseOverrideValue = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** Applies `path=value` overrides to a raw recipe value, returning a new value. */
export const applyOverrides = (
  file: string,
  value: unknown,
  overrides: ReadonlyArray<string>
): Effect.Effect<unknown, RecipeError> =>
  Effect.gen(function* () {
    const root = structuredClone(value) as Record<string, unknown>
    const issues: Array<RecipeIssue> = []

    for (const override of overrides) {
      const eq = override.indexOf("=")
      const keys = eq <= 0 ? undefined : parseOverridePath(override.slice(0, eq))
      if (keys === undefined) {
        issues.push({ path: "", message: `invalid --set ${JSON.stringify(override)}; write path=value, for example mixes.pretrain.seed=7` })
        continue
      }
      const display = override.slice(0, eq)
      let target: unknown = root
      let problem: string | undefined
      for (let i = 0; i < keys.length - 1 && problem === undefined; i++) {
        const key = keys[i]!
        const container = target as Record<string | number, unknown>
        if (i === 1 && typeof keys[0] === "string" && RECORD_SECTIONS.has(keys[0]) && container[key] === undefined) {
          problem = unknownReference(RECORD_SECTIONS.get(keys[0])!, String(key), Object.keys(container))
          break
        }
        if (typeof key === "number" && Array.isArray(container) && key > container.length) {
          problem = `index ${key} is out of range; ${keys.slice(0, i).join(".")} has ${container.length} entries (append with index ${container.length})`
          break
        }
        if (container[key] === undefined) container[key] = typeof keys[i + 1] === "number" ? [] : {}
        target = container[key]
        if (typeof target !== "object" || target === null) {
          problem = `cannot set a field inside ${JSON.stringify(keys.slice(0, i + 1).join("."))}, which is not an object`
        }
      }
      if (problem !== undefined) {
        issues.push({ path: display, message: problem })
        continue
      }
      const last = keys[keys.length - 1]!
      if (typeof last === "number" && Array.isArray(target) && last > target.length) {
        issues.push({ path: display, message: `index ${last} is out of range; the list has ${target.length} entries (append with index ${target.length})` })
        continue
      }
      ;(target as Record<string | number, unknown>)[last] = parseOverrideValue(override.slice(eq + 1))
    }

    if (issues.length > 0) return yield* Effect.fail(new RecipeError({ reason: "BadOverride", file, issues }))
    return root
  })

/** Replaces each source's fields with the profile's overrides for it. */
const applyProfile = (recipe: Recipe, profile: Profile | undefined): Recipe => {
  if (profile?.sources === undefined) return recipe
  const sources = { ...recipe.sources }
  for (const [name, override] of Object.entries(profile.sources)) {
    const base = sources[name]!
    sources[name] = { ...base, ...Object.fromEntries(Object.entries(override).filter(([, v]) => v !== undefined)) }
  }
  return { ...recipe, sources }
}

/** Loads, overrides, decodes and validates a recipe file. */
export const loadRecipe = (file: string, options: LoadOptions = {}): Effect.Effect<LoadedRecipe, RecipeError> =>
  Effect.gen(function* () {
    const absolute = path.resolve(file)
    const raw = yield* readRecipeValue(absolute)
    const overridden = options.set === undefined || options.set.length === 0 ? raw : yield* applyOverrides(file, raw, options.set)

    const decoded = decodeRecipe(overridden, { errors: "all", onExcessProperty: "error" })
    if (Exit.isFailure(decoded)) {
      const error = decoded.cause.reasons.find((reason) => reason._tag === "Fail")
      const issue = error !== undefined && "error" in error ? (error.error as Schema.SchemaError).issue : undefined
      return yield* Effect.fail(
        new RecipeError({
          reason: "Invalid",
          file,
          issues: issue === undefined ? [{ path: "", message: "the recipe does not match the recipe schema" }] : issuesFromSchema(issue, overridden)
        })
      )
    }
    const recipe = resolveRelativeUris(decoded.value, path.dirname(absolute))

    let profile: Profile | undefined
    if (options.profile !== undefined) {
      profile = recipe.profiles?.[options.profile]
      if (profile === undefined) {
        return yield* Effect.fail(
          new RecipeError({
            reason: "UnknownReference",
            file,
            issues: [{ path: "--profile", message: unknownReference("profile", options.profile, Object.keys(recipe.profiles ?? {})) }]
          })
        )
      }
    }

    const warnings = yield* validateRecipe(file, recipe)
    return { file: absolute, recipe: applyProfile(recipe, profile), profileName: options.profile, profile, warnings }
  })

const isRelativePath = (uri: string): boolean => !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !path.isAbsolute(uri)

const resolveUri = (uri: string, dir: string): string => (isRelativePath(uri) ? path.resolve(dir, uri) : uri)

const resolveUris = <T extends string | ReadonlyArray<string>>(value: T, dir: string): T =>
  (typeof value === "string" ? resolveUri(value, dir) : value.map((uri) => resolveUri(uri, dir))) as T

/** Makes source URIs and profile stores absolute, relative to the recipe file's folder. */
const resolveRelativeUris = (recipe: Recipe, dir: string): Recipe => ({
  ...recipe,
  sources: Object.fromEntries(Object.entries(recipe.sources).map(([name, source]) => [name, { ...source, uri: resolveUris(source.uri, dir) }])),
  profiles:
    recipe.profiles === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(recipe.profiles).map(([name, profile]) => [
            name,
            {
              ...profile,
              sources:
                profile.sources === undefined
                  ? undefined
                  : Object.fromEntries(
                      Object.entries(profile.sources).map(([source, override]) => [
                        source,
                        override.uri === undefined ? override : { ...override, uri: resolveUris(override.uri, dir) }
                      ])
                    )
            }
          ])
        )
})
