/** The runtime's public entry points: run a plan, or run and commit single shards. */
export { type Backend, makeLocalBackend, type ShardBatch } from "./backend.ts"
export { RunError, RunErrorReason } from "./errors.ts"
export { runPlan, validatePlan } from "./run.ts"
export { commitNode, findNode, planShards, runShard, type ShardPlan, type StoreOptions } from "./shard.ts"
export * from "./types.ts"
export { formatCount, formatSeconds, formatSummary, makeTtyRenderer, renderEventJson, type TtyRenderer } from "./progress.ts"
