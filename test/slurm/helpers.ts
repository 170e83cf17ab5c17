/**
 * Shared setup for the Slurm tests: detects a usable cluster and writes the small
 * shell task the tests submit as array tasks.
 */
import { execFileSync } from "node:child_process"
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** Why the cluster tests cannot run here, or `undefined` when a node is up. */
export const clusterUnavailableReason = (): string | undefined => {
  const hint = "start a single-node cluster with `bash scripts/slurm/start-cluster.sh` (as root)"
  let states: string
  try {
    states = execFileSync("sinfo", ["--noheader", "--format=%t"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
  } catch (error) {
    return `sinfo failed (${(error as Error).message.split("\n")[0]}); ${hint}`
  }
  const usable = states.split("\n").map((state) => state.trim().replace(/[*~#!%$@^-]+$/, ""))
  // A node busy with other jobs (mix, alloc) still runs ours once a CPU is free.
  if (!usable.some((state) => state === "idle" || state === "mix" || state === "alloc")) {
    return `no Slurm node is up (sinfo states: ${states.trim() || "none"}); ${hint}`
  }
  return undefined
}

/**
 * A task script: `task.sh <work dir> <node name> <shards> <shard>`.
 *
 * It appends the attempt to `runs/<node>-<shard>` and records its start and end time
 * (seconds since the epoch). It fails with exit 3 when `fail-<node>-<shard>` exists,
 * and once (removing the file) when `failonce-<node>-<shard>` exists.
 * It sleeps 60 s once when `slow-<node>-<shard>` exists, removing the file first.
 * It writes `artifacts/<node>/<shard>.txt`, and the last shard of the node to finish
 * also writes `artifacts/<node>/_manifest.json`.
 */
const TASK_SCRIPT = `#!/bin/bash
set -euo pipefail
dir="$1"; node="$2"; shards="$3"; shard="$4"
mkdir -p "$dir/runs" "$dir/times" "$dir/artifacts/$node"
echo "\${SLURM_ARRAY_JOB_ID:-local}_\${SLURM_ARRAY_TASK_ID:-x}" >> "$dir/runs/$node-$shard"
date +%s.%N > "$dir/times/$node-$shard.start"
if [ -e "$dir/fail-$node-$shard" ]; then echo "task $node shard $shard: deliberate failure" >&2; exit 3; fi
if [ -e "$dir/failonce-$node-$shard" ]; then rm -f "$dir/failonce-$node-$shard"; echo "task $node shard $shard: one failure" >&2; exit 3; fi
if [ -e "$dir/slow-$node-$shard" ]; then rm -f "$dir/slow-$node-$shard"; touch "$dir/started-$node-$shard"; sleep 60; fi
if [ -e "$dir/sleep-$node" ]; then sleep "$(cat "$dir/sleep-$node")"; fi
echo "$node shard $shard of $shards" > "$dir/artifacts/$node/.$shard.tmp"
mv "$dir/artifacts/$node/.$shard.tmp" "$dir/artifacts/$node/$shard.txt"
date +%s.%N > "$dir/times/$node-$shard.end"
count=$(find "$dir/artifacts/$node" -maxdepth 1 -name '*.txt' | wc -l)
if [ "$count" -eq "$shards" ]; then
  echo "{\\"shards\\": $shards}" > "$dir/artifacts/$node/._manifest.tmp.$shard"
  mv "$dir/artifacts/$node/._manifest.tmp.$shard" "$dir/artifacts/$node/_manifest.json"
fi
`

export interface Workspace {
  /** Root of the test's files; also used as the driver's store directory. */
  readonly dir: string
  readonly taskScript: string
  /** The command for a node, as `runNodesOnSlurm` wants it. */
  readonly taskCommand: (nodeName: string, shards: number) => ReadonlyArray<string>
  /** Node names are used as ids in these tests, so outputs double as commit markers. */
  readonly output: (nodeName: string, shard: number) => string
  readonly runs: (nodeName: string, shard: number) => ReadonlyArray<string>
  readonly time: (nodeName: string, shard: number, edge: "start" | "end") => number
  readonly mark: (file: string, content?: string) => void
}

export const makeWorkspace = (): Workspace => {
  const dir = mkdtempSync(join(tmpdir(), "mixwright-slurm-"))
  const taskScript = join(dir, "task.sh")
  writeFileSync(taskScript, TASK_SCRIPT)
  chmodSync(taskScript, 0o755)
  return {
    dir,
    taskScript,
    taskCommand: (nodeName, shards) => ["bash", taskScript, dir, nodeName, String(shards)],
    output: (nodeName, shard) => readFileSync(join(dir, "artifacts", nodeName, `${shard}.txt`), "utf8"),
    runs: (nodeName, shard) => {
      try {
        return readFileSync(join(dir, "runs", `${nodeName}-${shard}`), "utf8").trim().split("\n")
      } catch {
        return []
      }
    },
    time: (nodeName, shard, edge) => Number(readFileSync(join(dir, "times", `${nodeName}-${shard}.${edge}`), "utf8")),
    mark: (file, content = "") => writeFileSync(join(dir, file), content)
  }
}

/** Whether `file` exists in the workspace root. */
export const exists = (dir: string, file: string): boolean => readdirSync(dir).includes(file)

/** Runs squeue for one array task and returns its state, or `undefined` when unknown. */
export const taskState = (jobId: string, shard: number): string | undefined => {
  const out = execFileSync("squeue", ["--me", "--array", "--states=all", "--noheader", "--format=%F_%K|%T"], { encoding: "utf8" })
  for (const line of out.split("\n")) {
    const [id, state] = line.trim().split("|")
    if (id === `${jobId}_${shard}`) return state
  }
  return undefined
}
