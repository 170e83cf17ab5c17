/**
 * Meta chain-of-thought on Countdown: linearized search traces as SFT data, then RL
 * with the Countdown verifier as reward.
 *
 * Background: Xiang et al. 2025, "Towards System 2 Reasoning in LLMs: Learning How to
 * Think With Meta Chain-of-Thought" (search traces with dead ends and backtracking as
 * training data), and Gandhi et al. 2024, "Stream of Search" (Countdown as the task).
 *
 * The generator is named `traces` and its algorithm field is `search`, so a swap needs
 * no edited copy of this file:
 *
 *   mixwright plan --diff recipes/meta-cot-countdown.ts recipes/meta-cot-countdown.ts --set generators.traces.search=bfs
 *   mixwright run recipes/meta-cot-countdown.ts --set generators.traces.search=bfs
 *
 * Only `generate:traces` and the nodes below it recompute; the RL prompt source and the
 * real 24-game evaluation set stay cached.
 */
import { defineRecipe } from "../compiler/recipe/define.ts"

export default defineRecipe({
  name: "meta-cot-countdown",
  description: "Search-trace SFT data and verifier-rewarded RL prompts for Countdown",

  sources: {
    // Real Countdown problems (three numbers) as RL prompts; the generator samples its own.
    rl_prompts: {
      uri: "../samples/countdown-cd3/countdown-cd3-test.jsonl",
      fields: { prompt: "numbers" },
      category: "Math",
      license: "see samples/countdown-cd3/SOURCE.md"
    },
    // The Game of 24, solved by the same search for a real-problem comparison.
    game24: {
      uri: "../samples/countdown-24/game24.jsonl",
      category: "Math",
      license: "see samples/countdown-24/SOURCE.md"
    }
  },

  generators: {
    traces: {
      type: "search-trace",
      task: "countdown",
      search: "dfs",
      heuristic: "distance",
      count: 600,
      seed: 17,
      difficulty: { numbers: 4, maxNumber: 25, minTarget: 10, maxTarget: 100 },
      maxNodes: 2000,
      // Rejection sampling: keep only traces whose final expression verifies.
      verify: "verified",
      category: "Synthetic",
      transforms: "qdc"
    },
    game24_traces: {
      type: "search-trace",
      task: "game24",
      search: "best-first",
      heuristic: "distance",
      count: 200,
      seed: 3,
      maxNodes: 2000,
      problems: "game24",
      verify: "verified",
      category: "Synthetic"
    }
  },

  transforms: {
    // Quality: drop degenerate traces by length. Diversity: at most two traces per
    // near-duplicate cluster. Complexity: equal quotas per backtrack bucket.
    qdc: [
      { filter: { rules: [{ rule: "qdc", metric: "tokens", min: 20, max: 6000 }] } },
      { select: { maxPerCluster: 2, stratifyBy: "backtracks", allocation: "equal", seed: 5 } }
    ]
  },

  mixes: {
    // Traces packed for continued pretraining on search behaviour (Stream of Search style).
    search_pretrain: {
      tokenizer: "cl100k_base",
      sequenceLength: 4096,
      seed: 1,
      components: [{ source: "traces", epochs: 1 }]
    }
  },

  stages: {
    sft: {
      type: "sft",
      data: ["traces", "game24_traces"],
      backend: "trl",
      model: { base: "hf://meta-llama/Llama-3.2-1B", sequenceLength: 4096 },
      optimizer: { type: "adamw", lr: 1e-5, weightDecay: 0.0 },
      schedule: { style: "cosine", warmup: 0.03 },
      epochs: 2
    },
    rl: {
      type: "rl",
      from: "sft",
      data: "rl_prompts",
      backend: "reference",
      reward: { verifier: "countdown" },
      optimizer: { type: "adamw", lr: 1e-6 },
      steps: 200
    }
  },

  profiles: {
    sample: { store: ".mixwright", description: "Runs entirely on the shipped samples" }
  }
})
