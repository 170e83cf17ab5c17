/**
 * The `search-trace` generator: Countdown problems solved by a search algorithm, with the
 * whole exploration written out as a trace (Stream of Search / meta chain-of-thought data).
 */
import { Effect, Schema } from "effect"
import type { Row } from "../../../runtime/batch.ts"
import { GeneratorError } from "../errors.ts"
import { checkDifficulty, CountdownDifficulty, type Difficulty, Game24Difficulty, sampleCountdownProblem } from "./problems.ts"
import { HeuristicNames, SearchAlgorithms, searchCountdown } from "./search.ts"
import { type CountdownProblem, verifyCountdown } from "./verify.ts"

const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

/**
 * Problem difficulty. Missing fields take the task's preset. `maxNumber`, `minTarget` and
 * `maxTarget` are accepted as other names for `max`, `targetMin` and `targetMax`.
 */
export const DifficultySchema = Schema.Struct({
  /** How many numbers each problem has (1 to 8). */
  numbers: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 8 }))),
  min: Schema.optionalKey(PositiveInt),
  max: Schema.optionalKey(PositiveInt),
  targetMin: Schema.optionalKey(PositiveInt),
  targetMax: Schema.optionalKey(PositiveInt),
  maxNumber: Schema.optionalKey(PositiveInt),
  minTarget: Schema.optionalKey(PositiveInt),
  maxTarget: Schema.optionalKey(PositiveInt)
})

export const ProblemSchema = Schema.Struct({
  numbers: Schema.Array(PositiveInt),
  target: PositiveInt
})

/**
 * Configuration of the `search-trace` generator.
 *
 * `task: "game24"` defaults the difficulty to four numbers from 1 to 13 and target 24;
 * `task: "countdown"` to four numbers from 1 to 25 and targets from 10 to 100. With
 * `problems` (here or passed to `generateSearchTraces`), the given problems are solved
 * instead of sampled and `count`, when set, caps how many are used.
 */
export const SearchTraceConfigSchema = Schema.Struct({
  type: Schema.Literal("search-trace"),
  task: Schema.Literals(["countdown", "game24"]),
  search: Schema.Literals(SearchAlgorithms),
  /** Best-first priority; ignored by BFS and DFS. */
  heuristic: Schema.Literals(HeuristicNames).pipe(Schema.withDecodingDefaultKey(Effect.succeed("distance" as const))),
  count: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  seed: Schema.Int.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0))),
  difficulty: Schema.optionalKey(DifficultySchema),
  /** Expanded states per problem before the search gives up. */
  maxNodes: PositiveInt.pipe(Schema.withDecodingDefaultKey(Effect.succeed(2000))),
  /**
   * Problems to solve instead of sampling. A string names a recipe source, so the caller
   * must read that source and pass its rows to `generateSearchTraces`.
   */
  problems: Schema.optionalKey(Schema.Union([Schema.Array(ProblemSchema), Schema.String]))
})
export type SearchTraceConfig = typeof SearchTraceConfigSchema.Type
export type SearchTraceConfigInput = typeof SearchTraceConfigSchema.Encoded

/** Decodes an unknown value (a recipe's generator block) into a config; throws a SchemaError naming the path. */
export const decodeSearchTraceConfig = Schema.decodeUnknownSync(SearchTraceConfigSchema)

/** The prompt text for a problem: the instruction a model is trained to follow. */
export const countdownPrompt = (problem: CountdownProblem): string =>
  `Use the numbers [${problem.numbers.join(", ")}] and the operations + - * / to reach ${problem.target}. ` +
  "Use each number exactly once; every intermediate result must be a positive integer."

/** One output row of the generator. */
export interface SearchTraceRow extends Row {
  readonly problem: { readonly numbers: ReadonlyArray<number>; readonly target: number }
  readonly prompt: string
  readonly trace: string
  readonly answer: string
  readonly verified: boolean
  readonly nodesExpanded: number
  readonly depth: number
  readonly backtracks: number
  readonly search: string
  /** The heuristic name for best-first, `null` for BFS and DFS. */
  readonly heuristic: string | null
  readonly seed: number
  readonly problemIndex: number
  /** `solved`, `budget` (node budget exhausted) or `exhausted` (no solution exists). */
  readonly outcome: string
}

/** Resolves the configured difficulty against the task's preset. */
export const resolveDifficulty = (config: SearchTraceConfig): Difficulty => {
  const preset = config.task === "game24" ? Game24Difficulty : CountdownDifficulty
  const d = config.difficulty ?? {}
  return {
    numbers: d.numbers ?? preset.numbers,
    min: d.min ?? preset.min,
    max: d.max ?? d.maxNumber ?? preset.max,
    targetMin: d.targetMin ?? d.minTarget ?? preset.targetMin,
    targetMax: d.targetMax ?? d.maxTarget ?? preset.targetMax
  }
}

/** Solves one problem and builds its row. */
export const traceProblem = (config: SearchTraceConfig, problem: CountdownProblem, problemIndex: number): SearchTraceRow => {
  const result = searchCountdown(problem, { search: config.search, heuristic: config.heuristic, maxNodes: config.maxNodes })
  const verified = result.solved && verifyCountdown(problem, result.answer).ok
  return {
    problem: { numbers: [...problem.numbers], target: problem.target },
    prompt: countdownPrompt(problem),
    trace: result.trace,
    answer: result.answer,
    verified,
    nodesExpanded: result.nodesExpanded,
    depth: result.depth,
    backtracks: result.backtracks,
    search: config.search,
    heuristic: config.search === "best-first" ? config.heuristic : null,
    seed: config.seed,
    problemIndex,
    outcome: result.outcome
  }
}

/**
 * Generates search-trace rows lazily, one per problem.
 *
 * Problems come from `problems` (the argument wins over `config.problems`) or are sampled
 * from `config.seed` and the difficulty, in which case `count` is required. Throws
 * `GeneratorError` for a config that cannot produce rows.
 */
export function* generateSearchTraces(
  config: SearchTraceConfig,
  problems?: Iterable<CountdownProblem>
): Generator<SearchTraceRow> {
  if (problems === undefined && typeof config.problems === "string") {
    throw new GeneratorError({
      reason: "InvalidConfig",
      generator: "search-trace",
      subject: "problems",
      description: `'problems' names the source '${config.problems}', so its rows must be passed to generateSearchTraces`
    })
  }
  const given = problems ?? (typeof config.problems === "string" ? undefined : config.problems)
  if (given !== undefined) {
    let index = 0
    for (const problem of given) {
      if (config.count !== undefined && index >= config.count) return
      yield traceProblem(config, problem, index)
      index++
    }
    return
  }
  if (config.count === undefined) {
    throw new GeneratorError({
      reason: "InvalidConfig",
      generator: "search-trace",
      subject: "count",
      description: "set 'count' (how many problems to sample) or give 'problems'"
    })
  }
  const difficulty = resolveDifficulty(config)
  checkDifficulty(difficulty)
  for (let index = 0; index < config.count; index++) {
    yield traceProblem(config, sampleCountdownProblem(difficulty, config.seed, index), index)
  }
}

/** Collects rows into batches of at most `batchSize` rows. */
export function* batchRows<A>(rows: Iterable<A>, batchSize: number): Generator<ReadonlyArray<A>> {
  let batch: Array<A> = []
  for (const row of rows) {
    batch.push(row)
    if (batch.length >= batchSize) {
      yield batch
      batch = []
    }
  }
  if (batch.length > 0) yield batch
}
