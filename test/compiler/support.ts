import { Effect, Exit } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { buildPlan, type Plan } from "../../compiler/plan.ts"
import type { RecipeError } from "../../compiler/recipe/errors.ts"
import { loadRecipe, type LoadOptions } from "../../compiler/recipe/load.ts"

export const FIXTURES = path.join(import.meta.dirname, "..", "fixtures", "recipes")
export const ROOT = path.join(import.meta.dirname, "..", "..")

/** Writes a recipe value to a temporary file with the given extension. */
const RECIPE_DIR = mkdtempSync(path.join(tmpdir(), "mixwright-recipe-"))
let written = 0

/**
 * Writes a recipe value to a new file in one shared temporary folder. Relative source
 * URIs resolve against the recipe's folder, so sharing it keeps node ids comparable.
 */
export const writeRecipe = (value: unknown, extension = ".json", text?: string): string => {
  const file = path.join(RECIPE_DIR, `recipe-${written++}${extension}`)
  writeFileSync(file, text ?? JSON.stringify(value, null, 2))
  return file
}

export const planOf = (file: string, options: LoadOptions = {}): Promise<Plan> =>
  Effect.runPromise(loadRecipe(file, options).pipe(Effect.flatMap((loaded) => buildPlan(loaded))))

/** Runs the compiler expecting failure and returns the RecipeError. */
export const recipeErrorOf = async (file: string, options: LoadOptions = {}): Promise<RecipeError> => {
  const exit = await Effect.runPromiseExit(loadRecipe(file, options).pipe(Effect.flatMap((loaded) => buildPlan(loaded))))
  if (Exit.isSuccess(exit)) throw new Error(`expected ${file} to fail`)
  const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
  if (reason === undefined || !("error" in reason)) throw new Error(`unexpected failure: ${String(exit.cause)}`)
  return reason.error as RecipeError
}

export const baseRecipe = (): any => structuredClone(require_(path.join(FIXTURES, "base.json")))

import { readFileSync } from "node:fs"
const require_ = (file: string): unknown => JSON.parse(readFileSync(file, "utf8"))
