/**
 * Renders the sbatch script for one plan node: a job array with one task per shard.
 *
 * Each array task runs the node's command with `$SLURM_ARRAY_TASK_ID` (plus
 * `shardOffset`) appended as the shard index and writes its log to
 * `<logDir>/<array job id>_<array index>.log`. When the
 * command exits 0, the task also writes a done marker `<doneDir>/<shard>`, so a
 * restarted driver can tell the shard succeeded after squeue no longer lists it.
 */
import { SlurmError } from "./errors.ts"

/** Everything one sbatch script needs. Memory is in MB; `timeLimit` uses Slurm's `--time` syntax. */
export interface SbatchScriptOptions {
  /** Slurm job name (`--job-name`). Characters outside `[A-Za-z0-9._-]` become `_`. */
  readonly jobName: string
  /** Number of shards: the array covers `0..arraySize-1` unless `arrayIndices` is given. */
  readonly arraySize: number
  /** Explicit shard indices to run, for retries of some shards (`--array=3,7`). */
  readonly arrayIndices?: ReadonlyArray<number>
  /**
   * Added to the array index to get the shard index. Slurm rejects array indices of
   * `MaxArraySize` (1001 by default) or more, so larger nodes are submitted as
   * several arrays, each with its own offset.
   */
  readonly shardOffset?: number
  /** Maximum number of array tasks running at once (`--array=...%N`). */
  readonly arrayParallelism?: number
  /** Program and arguments; the shard index is appended as the last argument. */
  readonly command: ReadonlyArray<string>
  readonly cpus?: number
  readonly memMB?: number
  readonly gpus?: number
  readonly partition?: string
  readonly timeLimit?: string
  /** Further sbatch options, one per `#SBATCH` line, such as `--account=proj`. */
  readonly extraFlags?: ReadonlyArray<string>
  /** Directory for the per-task logs; it must exist before the job starts. */
  readonly logDir: string
  /** Directory for the per-shard done markers; omitted means no markers. */
  readonly doneDir?: string
  /** Environment variables exported before the command runs. */
  readonly env?: Readonly<Record<string, string>>
}

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/

/** Quotes one word for bash so that it reaches the program unchanged. */
export const shellQuote = (word: string): string =>
  word !== "" && SAFE_WORD.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Formats shard indices as a Slurm `--array` value: consecutive runs collapse to
 * ranges, so `[0, 1, 2, 5, 7, 8]` becomes `0-2,5,7-8`.
 */
export const formatArrayIndices = (indices: ReadonlyArray<number>): string => {
  const sorted = [...new Set(indices)].sort((a, b) => a - b)
  const parts: Array<string> = []
  let start = 0
  while (start < sorted.length) {
    let end = start
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end] + 1) end++
    parts.push(end === start ? `${sorted[start]}` : `${sorted[start]}-${sorted[end]}`)
    start = end + 1
  }
  return parts.join(",")
}

const checkOptions = (options: SbatchScriptOptions): void => {
  const fail = (field: string, problem: string): never => {
    throw new SlurmError({ reason: "InvalidArgument", description: `renderSbatchScript: ${field} ${problem}` })
  }
  if (!Number.isInteger(options.arraySize) || options.arraySize < 1) {
    fail("arraySize", `must be a positive integer, got ${options.arraySize}`)
  }
  for (const index of options.arrayIndices ?? []) {
    if (!Number.isInteger(index) || index < 0 || index >= options.arraySize) {
      fail("arrayIndices", `must contain integers in [0, ${options.arraySize - 1}], got ${index}`)
    }
  }
  if (options.arrayIndices !== undefined && options.arrayIndices.length === 0) fail("arrayIndices", "must not be empty")
  if (options.command.length === 0) fail("command", "must name a program")
  if (options.shardOffset !== undefined && (!Number.isInteger(options.shardOffset) || options.shardOffset < 0)) {
    fail("shardOffset", `must be a non-negative integer, got ${options.shardOffset}`)
  }
  for (const [field, value] of [["cpus", options.cpus], ["memMB", options.memMB], ["arrayParallelism", options.arrayParallelism]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) fail(field, `must be a positive integer, got ${value}`)
  }
  if (options.gpus !== undefined && (!Number.isInteger(options.gpus) || options.gpus < 0)) {
    fail("gpus", `must be a non-negative integer, got ${options.gpus}`)
  }
  for (const flag of options.extraFlags ?? []) {
    if (!flag.startsWith("-") || flag.includes("\n")) fail("extraFlags", `entries must be single-line sbatch options starting with '-', got ${JSON.stringify(flag)}`)
  }
  for (const name of Object.keys(options.env ?? {})) {
    if (!ENV_NAME.test(name)) fail("env", `has an invalid variable name ${JSON.stringify(name)}`)
  }
  for (const [field, value] of [["logDir", options.logDir], ["partition", options.partition], ["timeLimit", options.timeLimit], ["doneDir", options.doneDir]] as const) {
    if (value !== undefined && /[\s"'\\]/.test(value)) fail(field, `must not contain spaces, quotes or backslashes, got ${JSON.stringify(value)}`)
  }
}

/**
 * Renders an sbatch script. Pure: the same options give the same text.
 *
 * Throws a `SlurmError` with reason `InvalidArgument` that names the field when an
 * option is invalid (a zero array size, an index outside the array, a multi-line
 * flag). A bad script would otherwise fail later inside Slurm, with a less helpful
 * message.
 */
export const renderSbatchScript = (options: SbatchScriptOptions): string => {
  checkOptions(options)
  const indices = options.arrayIndices ?? Array.from({ length: options.arraySize }, (_, i) => i)
  const array = formatArrayIndices(indices) + (options.arrayParallelism === undefined ? "" : `%${options.arrayParallelism}`)
  const log = `${options.logDir.replace(/\/+$/, "")}/%A_%a.log`

  const directives = [`--job-name=${options.jobName.replace(/[^A-Za-z0-9._-]/g, "_")}`, `--array=${array}`, `--output=${log}`, `--error=${log}`, "--ntasks=1"]
  if (options.cpus !== undefined) directives.push(`--cpus-per-task=${options.cpus}`)
  if (options.memMB !== undefined) directives.push(`--mem=${options.memMB}M`)
  if (options.gpus !== undefined && options.gpus > 0) directives.push(`--gres=gpu:${options.gpus}`)
  if (options.partition !== undefined) directives.push(`--partition=${options.partition}`)
  if (options.timeLimit !== undefined) directives.push(`--time=${options.timeLimit}`)
  directives.push(...(options.extraFlags ?? []))

  const lines = ["#!/bin/bash", ...directives.map((directive) => `#SBATCH ${directive}`), "", "set -uo pipefail"]
  const names = Object.keys(options.env ?? {}).sort()
  for (const name of names) lines.push(`export ${name}=${shellQuote(options.env![name])}`)
  lines.push(
    options.shardOffset === undefined || options.shardOffset === 0
      ? 'shard="$SLURM_ARRAY_TASK_ID"'
      : `shard="$((SLURM_ARRAY_TASK_ID + ${options.shardOffset}))"`,
    'echo "mixwright: task ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} (shard ${shard}) on $(hostname) started at $(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)"',
    `${options.command.map(shellQuote).join(" ")} "$shard"`,
    "status=$?",
    'echo "mixwright: shard ${shard} exited with status ${status} at $(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)"'
  )
  if (options.doneDir !== undefined) {
    const doneDir = shellQuote(options.doneDir.replace(/\/+$/, ""))
    lines.push(
      'if [ "$status" -eq 0 ]; then',
      `  mkdir -p ${doneDir}`,
      `  echo "\${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID}" > ${doneDir}/.\${shard}.tmp.$$ && mv ${doneDir}/.\${shard}.tmp.$$ ${doneDir}/\${shard}`,
      "fi"
    )
  }
  lines.push('exit "$status"', "")
  return lines.join("\n")
}
