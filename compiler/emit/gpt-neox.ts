/**
 * gpt-neox configuration for a pretraining stage.
 *
 * Field names follow EleutherAI gpt-neox's YAML/JSON config (`neox_args`). The data
 * fields point at the Megatron indexed datasets that the stage mix's `export` node
 * writes, with the mix's weights as `train_data_weights`, so gpt-neox does the
 * blending with the numbers the plan shows.
 */
import { Effect } from "effect"
import { RecipeError, unknownReference } from "../recipe/errors.ts"
import type { Plan } from "../plan.ts"
import { indexedDatasetPrefix } from "../paths.ts"

type Config = Record<string, unknown>

const stageParams = (plan: Plan, stageName: string) => {
  const node = plan.nodes.find((n) => n.name === `stage:${stageName}`)
  return node?.params as Record<string, any> | undefined
}

const OPTIMIZER_TYPE: Record<string, string> = { adamw: "Adam", adam: "Adam", sgd: "SGD", lion: "Lion" }

/** Builds the gpt-neox config of a pretraining stage. */
export const emitGptNeox = (plan: Plan, stageName: string): Effect.Effect<Config, RecipeError> =>
  Effect.gen(function* () {
    const fail = (message: string, at = `stages.${stageName}`) =>
      Effect.fail(new RecipeError({ reason: "Incompatible", file: plan.recipe.file, issues: [{ path: at, message }] }))

    const stage = plan.stages.find((s) => s.name === stageName)
    if (stage === undefined) {
      return yield* Effect.fail(
        new RecipeError({
          reason: "UnknownReference",
          file: plan.recipe.file,
          issues: [{ path: "--stage", message: unknownReference("stage", stageName, plan.stages.map((s) => s.name)) }]
        })
      )
    }
    if (stage.type !== "pretrain") return yield* fail(`gpt-neox configs are for pretrain stages; ${stageName} is a ${stage.type} stage`)
    const mix = plan.mixes.find((m) => stage.data.length === 1 && m.name === stage.data[0])
    if (mix === undefined || mix.exportNodeId === null) {
      return yield* fail(`the stage's data must be a mix with a Megatron export; ${stage.data.join(", ") || "nothing"} is not`, `stages.${stageName}.data`)
    }
    const params = stageParams(plan, stageName)!
    const model = params.model ?? {}
    const optimizer = params.optimizer
    const schedule = params.schedule ?? {}
    const batch = params.batch ?? {}

    const weights = mix.components.map((c) => c.weight)
    const paths = mix.components.map((c) => indexedDatasetPrefix(plan.store, mix.exportNodeId!, c.name))

    const config: Config = {
      // Model
      num_layers: model.layers,
      hidden_size: model.hiddenSize,
      num_attention_heads: model.heads,
      num_kv_heads: model.kvHeads,
      intermediate_size: model.intermediateSize,
      seq_length: model.sequenceLength ?? mix.sequenceLength,
      max_position_embeddings: model.sequenceLength ?? mix.sequenceLength,
      pos_emb: "rotary",
      rotary_pct: model.rotaryPercent,
      rotary_emb_base: model.rotaryBase,
      norm: model.norm,
      activation: model.activation,
      no_weight_tying: model.tiedEmbeddings === undefined ? undefined : !model.tiedEmbeddings,
      bf16: model.precision === "bf16" ? { enabled: true } : undefined,
      fp16: model.precision === "fp16" ? { enabled: true } : undefined,
      make_vocab_size_divisible_by: model.vocabSize === undefined ? undefined : 64,
      // Optimizer
      optimizer:
        optimizer === undefined
          ? undefined
          : {
              type: OPTIMIZER_TYPE[optimizer.type] ?? optimizer.type,
              params: { lr: optimizer.lr, betas: optimizer.betas, eps: optimizer.eps }
            },
      min_lr: optimizer?.minLr,
      weight_decay: optimizer?.weightDecay,
      gradient_clipping: optimizer?.gradClip,
      zero_optimization: { stage: 1 },
      // Schedule
      train_iters: stage.steps ?? undefined,
      lr_decay_iters: schedule.decaySteps ?? stage.steps ?? undefined,
      lr_decay_style: schedule.style,
      warmup: schedule.warmup,
      train_micro_batch_size_per_gpu: batch.microBatchPerGpu,
      gradient_accumulation_steps: batch.gradientAccumulation,
      // Data
      data_impl: "mmap",
      train_data_paths: paths,
      train_data_weights: weights,
      reset_attention_mask: true,
      reset_position_ids: true,
      tokenizer_type: mix.tokenizer === "arcade100k" ? "TiktokenTokenizer" : "TiktokenTokenizer",
      // Provenance: which plan nodes these paths come from.
      mixwright: {
        recipe: plan.recipe.name,
        profile: plan.recipe.profile,
        stage: stageName,
        mix: mix.name,
        export_node: mix.exportNodeId,
        tokenizer: mix.tokenizer,
        components: mix.components.map((c, i) => ({ name: c.name, weight: c.weight, path: paths[i] })),
        cooldown: schedule.cooldown
      }
    }
    if (weights.some((w) => w === null)) {
      return yield* fail(
        `mix ${mix.name} has components without a weight (${mix.components.filter((c) => c.weight === null).map((c) => c.name).join(", ")}); declare their sizes or use a profile whose sizes are known`,
        `mixes.${mix.name}`
      )
    }
    return JSON.parse(JSON.stringify(config)) as Config
  })
