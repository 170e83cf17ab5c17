/**
 * Typed recipe builders for TypeScript recipe files.
 *
 * `defineRecipe` checks references at compile time: a mix component, a stage's data,
 * a stage's `from` and a profile's source overrides must name something the recipe
 * defines, so a typo is a type error in the editor. The value is still decoded by the
 * same Schema as JSON and YAML recipes when it is loaded.
 *
 * @example
 * export default defineRecipe({
 *   name: "tiny",
 *   sources: { web: { uri: "data/web/*.parquet", fields: { text: "content" } } },
 *   mixes: { main: { components: [{ source: "web", weight: 1 }], totalTokens: "1M" } }
 * })
 */
import type { Generator, Mix, MixComponent, Pipeline, Profile, Recipe, Source, Stage } from "./schema.ts"

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

export type SourceInput<P extends string> = Omit<Mutable<Source>, "transforms"> & {
  readonly transforms?: NoInfer<P> | typeof Pipeline.Type
}

export type GeneratorInput<P extends string, D extends string> = Generator extends infer G
  ? G extends { readonly type: "llm" }
    ? Omit<G, "transforms" | "input"> & { readonly transforms?: NoInfer<P> | typeof Pipeline.Type; readonly input?: NoInfer<D> }
    : Omit<G, "transforms" | "problems"> & { readonly transforms?: NoInfer<P> | typeof Pipeline.Type; readonly problems?: NoInfer<D> }
  : never

export type MixInput<D extends string> = Omit<Mix, "components"> & {
  readonly components: ReadonlyArray<Omit<MixComponent, "source"> & { readonly source: NoInfer<D> }>
}

export type StageInput<D extends string, St extends string> = Omit<Stage, "data" | "from"> & {
  readonly data?: NoInfer<D> | ReadonlyArray<NoInfer<D>>
  readonly from?: NoInfer<St>
}

export type ProfileInput<S extends string> = Omit<Profile, "sources"> & {
  readonly sources?: { readonly [K in NoInfer<S>]?: NonNullable<Profile["sources"]>[string] }
}

export interface RecipeInput<
  S extends string,
  G extends string,
  P extends string,
  M extends string,
  St extends string
> {
  readonly name: string
  readonly description?: string
  readonly sources: { readonly [K in S]: SourceInput<P> }
  readonly generators?: { readonly [K in G]: GeneratorInput<P, S | G> }
  readonly transforms?: { readonly [K in P]: typeof Pipeline.Type }
  readonly mixes?: { readonly [K in M]: MixInput<S | G> }
  readonly stages?: { readonly [K in St]: StageInput<S | G | M, St> }
  readonly profiles?: { readonly [name: string]: ProfileInput<S> }
}

/** Declares a recipe with compile-time checks on every cross-reference. */
export const defineRecipe = <
  const S extends string,
  const M extends string = never,
  const G extends string = never,
  const P extends string = never,
  const St extends string = never
>(
  recipe: RecipeInput<S, G, P, M, St>
): Recipe => recipe as unknown as Recipe

export type { Recipe }
