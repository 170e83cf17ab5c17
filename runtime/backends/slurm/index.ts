/**
 * The Slurm backend: renders sbatch scripts, submits one job array per plan node and
 * drives them to completion. See `driver.ts` for the run loop and `docs/slurm.md`.
 */
export { cancel, classifyState, queryTasks, release, renderDependency, submit, updateDependency } from "./cli.ts"
export type { JobId, TaskRecord } from "./cli.ts"
export { makeSlurmBackend } from "./backend.ts"
export type { SlurmBackendOptions } from "./backend.ts"
export { runNodesOnSlurm } from "./driver.ts"
export type { RunNodesOnSlurmOptions, SlurmEvent, SlurmNode, SlurmNodeSummary, SlurmResources, SlurmRunSummary } from "./driver.ts"
export { SlurmError, SlurmErrorReason } from "./errors.ts"
export { formatArrayIndices, renderSbatchScript, shellQuote } from "./script.ts"
export type { SbatchScriptOptions } from "./script.ts"
export { readState, writeState } from "./state.ts"
export type { DriverState, NodeState, SubmittedJob } from "./state.ts"
