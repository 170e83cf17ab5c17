/**
 * Helpers shared by the CLI commands: compiling a recipe and printing failures.
 */
import { Console, Effect } from "effect"
import { buildPlan, type Plan } from "../compiler/plan.ts"
import { loadRecipe } from "../compiler/recipe/load.ts"
import type { RecipeError } from "../compiler/recipe/errors.ts"
import { resolveStoreRoot } from "../compiler/paths.ts"
import { makeStorage } from "../connectors/storage/layer.ts"
import { joinUri } from "../connectors/storage/Storage.ts"

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

/**
 * Token counts of the plan's committed `tokenize` artifacts, read from their manifests
 * in the store. Missing stores and uncommitted nodes are skipped.
 */
export const measuredTokenCounts = (plan: Plan): Effect.Effect<Map<string, number>> =>
  Effect.gen(function* () {
    const storage = makeStorage()
    const root = resolveStoreRoot(plan.store)
    const counts = new Map<string, number>()
    for (const node of plan.nodes) {
      if (node.kind !== "tokenize") continue
      const bytes = yield* storage.read(joinUri(root, "artifacts", node.id, "_manifest.json")).pipe(Effect.option)
      if (bytes._tag === "None") continue
      const manifest = JSON.parse(new TextDecoder().decode(bytes.value)) as { tokens?: number }
      if (typeof manifest.tokens === "number") counts.set(node.id, manifest.tokens)
    }
    return counts
  })

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
