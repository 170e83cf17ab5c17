/**
 * The `mixwright` command line.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Console, Effect, Logger, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { renderDiff, renderPlan } from "../compiler/render.ts"
import { diffPlans, withMeasuredSizes } from "../compiler/plan.ts"
import { emitGptNeox } from "../compiler/emit/gpt-neox.ts"
import { compileRecipe, measuredTokenCounts, reportFailure } from "./common.ts"
import { runCommands } from "./run.ts"
import { storeCommands } from "./store-commands.ts"

const profileFlag = Flag.String("profile").pipe(
  Flag.withAlias("p"),
  Flag.withDescription("Profile from the recipe's `profiles` (storage root, executor, sample budget)"),
  Flag.optional
)
const setFlag = Flag.String("set").pipe(
  Flag.withDescription("Override a recipe field by its path, for example --set mixes.pretrain.seed=7 (repeatable)"),
  Flag.atLeast(0)
)
const storeFlag = Flag.String("store").pipe(
  Flag.withDescription("Artifact store root: a path or s3://bucket/prefix (overrides the profile)"),
  Flag.optional
)
const jsonFlag = Flag.Boolean("json").pipe(Flag.withDescription("Print machine-readable JSON"), Flag.withDefault(false))

const plan = Command.make(
  "plan",
  {
    recipe: Argument.String("recipe").pipe(Argument.withDescription("Recipe file (.ts, .json, .yaml)"), Argument.optional),
    diff: Flag.String("diff").pipe(
      Flag.withDescription("Compare two recipes: --diff OLD NEW lists added, removed and invalidated nodes; --set applies to NEW only"),
      Flag.optional
    ),
    profile: profileFlag,
    set: setFlag,
    store: storeFlag,
    json: jsonFlag
  },
  (input) =>
    Effect.gen(function* () {
      const options = { profile: Option.getOrUndefined(input.profile), set: input.set, store: Option.getOrUndefined(input.store) }
      if (Option.isSome(input.diff)) {
        if (Option.isNone(input.recipe)) {
          return yield* Effect.fail(new Error("plan --diff needs two recipes: mixwright plan --diff OLD.ts NEW.ts"))
        }
        // Overrides apply to the new recipe only, so `--diff R R --set ...` shows what they change.
        const before = yield* compileRecipe(input.diff.value, { ...options, set: [] })
        const after = yield* compileRecipe(input.recipe.value, options)
        const diff = diffPlans(before, after)
        yield* Console.log(input.json ? JSON.stringify(diff, null, 2) : renderDiff(diff))
        return
      }
      if (Option.isNone(input.recipe)) return yield* Effect.fail(new Error("missing recipe: mixwright plan RECIPE"))
      const compiled = yield* compileRecipe(input.recipe.value, options)
      // Only local stores are checked: reading an S3 store needs credentials a plan should not.
      const measured = /^s3:\/\//.test(compiled.store) ? new Map<string, number>() : yield* measuredTokenCounts(compiled)
      const shown = withMeasuredSizes(compiled, measured)
      yield* Console.log(input.json ? JSON.stringify(shown, null, 2) : renderPlan(shown))
    }).pipe(reportFailure)
).pipe(
  Command.withDescription("Compile a recipe and print its plan (DAG, mixes, stages, estimate) without reading data"),
  Command.withExamples([
    { command: "mixwright plan recipes/stablelm-2-1_6b.ts", description: "Print the full plan" },
    { command: "mixwright plan recipes/stablelm-2-1_6b.ts --profile sample --json", description: "Plan JSON of the sample run" },
    { command: "mixwright plan --diff old.ts new.ts", description: "Nodes a change invalidates" }
  ])
)

const emit = Command.make(
  "emit",
  {
    target: Argument.Literals("target", ["gpt-neox"]).pipe(Argument.withDescription("Trainer config to write")),
    recipe: Argument.String("recipe").pipe(Argument.withDescription("Recipe file")),
    stage: Flag.String("stage").pipe(Flag.withDescription("Pretraining stage to emit")),
    out: Flag.String("out").pipe(Flag.withDescription("Write the config to this file instead of stdout"), Flag.optional),
    profile: profileFlag,
    set: setFlag,
    store: storeFlag
  },
  (input) =>
    Effect.gen(function* () {
      const compiled = yield* compileRecipe(input.recipe, {
        profile: Option.getOrUndefined(input.profile),
        set: input.set,
        store: Option.getOrUndefined(input.store)
      })
      const config = yield* emitGptNeox(compiled, input.stage)
      const text = JSON.stringify(config, null, 2) + "\n"
      if (Option.isSome(input.out)) {
        const { writeFileSync } = yield* Effect.promise(() => import("node:fs"))
        writeFileSync(input.out.value, text)
        yield* Console.error(`wrote ${input.out.value}`)
      } else yield* Console.log(text.trimEnd())
    }).pipe(reportFailure)
).pipe(Command.withDescription("Write a trainer config for a stage (gpt-neox: model, optimizer, schedule, data paths and weights)"))

const root = Command.make("mixwright").pipe(
  Command.withDescription("Compile and run declarative LLM dataset-and-training recipes"),
  Command.withSubcommands([plan, emit, ...runCommands, ...storeCommands])
)

// Logs go to stderr as logfmt lines, so stdout carries only command output (`--json`).
const stderrLogger = Logger.layer([Logger.withConsoleError(Logger.formatLogFmt)])

root.pipe(Command.run({ version: "0.1.0" }), Effect.provide(stderrLogger), Effect.provide(NodeServices.layer), NodeRuntime.runMain)
