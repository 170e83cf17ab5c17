/** Shard-count rules shared by operators. */
import { Effect } from "effect"
import { RunError } from "../executor/errors.ts"
import type { NodeContext } from "./types.ts"

/** Returns one output shard per shard of the single input (row-wise operators). */
export const inputShardCount = (context: NodeContext): Effect.Effect<number, RunError> => {
  const input = context.inputs[0]
  if (input === undefined || context.inputs.length !== 1) {
    return Effect.fail(new RunError({
      reason: "InvalidPlan",
      node: context.node.name,
      description: `a ${context.node.kind} node takes exactly one input, got ${context.inputs.length}`
    }))
  }
  return Effect.succeed(input.shards.length)
}

/** Returns a single shard, for operators that need every input row at once (dedup, mix). */
export const singleShard = (): Effect.Effect<number> => Effect.succeed(1)
