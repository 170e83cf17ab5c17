/**
 * The `export` operator: a Megatron indexed dataset (`<component>.bin` and
 * `<component>.idx`) per component, one document per tokenized row, plus blend
 * files with normalized weights: `blend.txt` in Megatron's `--data-path` form
 * (`weight prefix` pairs) and `blend.json` with gpt-neox's `train-data-*` keys. The
 * formats connector stores `uint32` ids as Megatron's int32 dtype. Prefixes are relative to the artifact
 * folder, so the files do not depend on where the store lives. One shard.
 *
 * Weights are normalized to sum to 1. When any weight is `null` (a mix the compiler
 * could not size), every component is weighted by its token count instead, which is
 * one epoch of each.
 */
import { Effect, Stream } from "effect"
import { RunError } from "../executor/errors.ts"
import { makeIndexedDatasetWriter, writeBlendFile } from "../../connectors/formats/megatron.ts"
import { decodeParams, ExportParams } from "./params.ts"
import { singleShard } from "./shards.ts"
import type { Operator } from "./types.ts"
import { concatBytes } from "../../connectors/formats/bytes.ts"
import { fileSafeName } from "../../compiler/paths.ts"

/** A file-name-safe form of a component name; gpt-neox configs from `emit` use the same one. */
export const exportPrefix = fileSafeName

export const exportOperator: Operator = {
  shardCount: singleShard,
  runShard: (context) =>
    Effect.gen(function*() {
      const params = yield* decodeParams(ExportParams, context.node)
      const node = context.node.name
      if (params.components.length !== context.inputs.length) {
        return yield* new RunError({
          reason: "InvalidPlan",
          node,
          description: `the export has ${params.components.length} components but ${context.inputs.length} inputs; inputs must be the components' tokenize nodes in the same order`
        })
      }
      const prefixes = params.components.map((component) => exportPrefix(component.name))
      if (new Set(prefixes).size !== prefixes.length) {
        return yield* new RunError({ reason: "InvalidPlan", node, description: `component names map to duplicate file names: ${prefixes.join(", ")}` })
      }
      const tokenCounts: Array<number> = []
      for (const [index, component] of params.components.entries()) {
        const writer = makeIndexedDatasetWriter({ dtype: params.dtype, name: prefixes[index] })
        const chunks: Array<Uint8Array> = []
        yield* Stream.runForEach(context.readInput(index), (batch) =>
          Effect.gen(function*() {
            for (const row of batch) {
              if (!(row.tokens instanceof Uint32Array)) {
                return yield* new RunError({ reason: "InvalidInput", node, description: `component ${component.name}: an input row has no tokens column; the inputs must be tokenize nodes` })
              }
              const tokens = row.tokens
              chunks.push(yield* Effect.try({
                try: () => writer.addDocument(tokens),
                catch: (cause) => new RunError({ reason: "InvalidInput", node, description: `component ${component.name}: ${cause instanceof Error ? cause.message : String(cause)}`, cause })
              }))
              context.stats.rowsIn++
              context.stats.tokensIn += tokens.length
            }
          }))
        const summary = writer.summary()
        yield* context.writeFile(`${prefixes[index]}.bin`, concatBytes(chunks), { rows: summary.documents, tokens: summary.tokens })
        yield* context.writeFile(`${prefixes[index]}.idx`, concatBytes([...writer.finishIndex()]))
        tokenCounts.push(summary.tokens)
      }

      const raw = params.components.every((component) => component.weight !== null)
        ? params.components.map((component) => component.weight ?? 0)
        : tokenCounts
      const totalWeight = raw.reduce((sum, weight) => sum + weight, 0)
      if (!(totalWeight > 0)) {
        return yield* new RunError({ reason: "InvalidPlan", node, description: "component weights (or token counts) must sum to a positive number" })
      }
      const weights = raw.map((weight) => weight / totalWeight)
      const blend = yield* Effect.try({
        try: () => writeBlendFile(params.components.map((_, index) => ({ weight: weights[index], prefix: prefixes[index] })), "blend"),
        catch: (cause) => new RunError({ reason: "InvalidPlan", node, description: cause instanceof Error ? cause.message : String(cause), cause })
      })
      yield* context.writeFile("blend.txt", new TextEncoder().encode(blend.text))
      yield* context.writeFile("blend.json", new TextEncoder().encode(blend.json))
    })
}
