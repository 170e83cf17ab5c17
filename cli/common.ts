/**
 * Helpers shared by the CLI commands: compiling a recipe and printing failures.
 */
import { Console, Effect } from "effect"
import { buildPlan, type Plan } from "../compiler/plan.ts"
import { loadRecipe } from "../compiler/recipe/load.ts"
import type { RecipeError } from "../compiler/recipe/errors.ts"

export interface CompileOptions {
  readonly profile?: string | undefined
  readonly set?: ReadonlyArray<string> | undefined
  readonly store?: string | undefined
}

/** Loads, validates and plans a recipe file. */
export const compileRecipe = (file: string, options: CompileOptions = {}): Effect.Effect<Plan, RecipeError> =>
  loadRecipe(file, { profile: options.profile, set: options.set }).pipe(
    Effect.flatMap((loaded) => buildPlan(loaded, { store: options.store }))
  )

const messageOf = (error: unknown): string => {
  if (error instanceof Error) return error.message
  if (typeof error === "object" && error !== null && "message" in error) return String((error as { message: unknown }).message)
  return String(error)
}

/**
 * Prints a failure as one `error: ...` message on stderr and sets exit code 1.
 * Recipe and data errors are expected outcomes, so no stack trace is shown.
 */
export const reportFailure = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<void, never, R> =>
  effect.pipe(
    Effect.asVoid,
    Effect.catch((error) =>
      Console.error(`error: ${messageOf(error)}`).pipe(
        Effect.andThen(
          Effect.sync(() => {
            process.exitCode = 1
          })
        )
      )
    )
  )
