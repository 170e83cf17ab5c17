/**
 * Golden tests for the sbatch scripts the Slurm backend renders, plus one run of a
 * rendered script under bash with the variables Slurm would set (no cluster needed).
 */
import { execFileSync } from "node:child_process"
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { formatArrayIndices, renderSbatchScript, SlurmError, shellQuote } from "../../runtime/backends/slurm/index.ts"

const golden = (name: string) => readFileSync(join(import.meta.dirname, "golden", name), "utf8")

describe("renderSbatchScript", () => {
  it("renders every option (golden)", () => {
    const script = renderSbatchScript({
      jobName: "mw-tokenize:web",
      arraySize: 8,
      command: ["mixwright", "task", "/store/runs/r1/plan.json", "abc123"],
      cpus: 4,
      memMB: 8000,
      gpus: 1,
      partition: "cpu",
      timeLimit: "2:00:00",
      extraFlags: ["--account=proj"],
      logDir: "/store/slurm/logs/abc123/",
      doneDir: "/store/slurm/done/abc123",
      env: { MIXWRIGHT_ROOT: "/store", QUOTE: "it's a test" }
    })
    expect(script).toBe(golden("full.sbatch"))
  })

  it("renders a retry of offset shards (golden)", () => {
    const script = renderSbatchScript({
      jobName: "mw-dedup",
      arraySize: 16,
      arrayIndices: [7, 3, 4, 5, 12],
      shardOffset: 1001,
      arrayParallelism: 2,
      command: ["node", "/opt/mixwright/cli/main.ts", "task"],
      logDir: "/store/slurm/logs/def456"
    })
    expect(script).toBe(golden("retry.sbatch"))
    expect(script).toContain("#SBATCH --array=3-5,7,12%2")
    expect(script).toContain('shard="$((SLURM_ARRAY_TASK_ID + 1001))"')
    expect(script).not.toContain("--mem")
    expect(script).not.toContain("--gres")
  })

  it("rejects invalid options naming the field", () => {
    const base = { jobName: "x", arraySize: 4, command: ["true"], logDir: "/logs" }
    const cases: ReadonlyArray<[Partial<Parameters<typeof renderSbatchScript>[0]>, string]> = [
      [{ arraySize: 0 }, "arraySize"],
      [{ arrayIndices: [4] }, "arrayIndices"],
      [{ arrayIndices: [] }, "arrayIndices"],
      [{ command: [] }, "command"],
      [{ cpus: 1.5 }, "cpus"],
      [{ gpus: -1 }, "gpus"],
      [{ extraFlags: ["--a\n#SBATCH --b"] }, "extraFlags"],
      [{ env: { "BAD-NAME": "1" } }, "env"],
      [{ logDir: "/my logs" }, "logDir"]
    ]
    for (const [override, field] of cases) {
      let caught: unknown
      try {
        renderSbatchScript({ ...base, ...override })
      } catch (error) {
        caught = error
      }
      expect(caught, field).toBeInstanceOf(SlurmError)
      expect((caught as SlurmError).reason).toBe("InvalidArgument")
      expect((caught as SlurmError).message).toContain(field)
    }
  })

  it("runs the command with the shard index and marks success", () => {
    const dir = mkdtempSync(join(tmpdir(), "mixwright-sbatch-"))
    const program = join(dir, "program.sh")
    writeFileSync(program, '#!/bin/bash\necho "args:$*" > "$(dirname "$0")/out-$2"\n[ "$2" != 2 ]\n')
    chmodSync(program, 0o755)
    const script = join(dir, "job.sbatch")
    writeFileSync(script, renderSbatchScript({
      jobName: "local",
      arraySize: 3,
      command: [program, "it's quoted"],
      logDir: dir,
      doneDir: join(dir, "done"),
      env: { EXTRA: "a b" }
    }))
    const runShard = (shard: number) =>
      execFileSync("bash", [script], { env: { ...process.env, SLURM_ARRAY_TASK_ID: String(shard), SLURM_ARRAY_JOB_ID: "77" }, encoding: "utf8" })

    expect(runShard(1)).toContain("shard 1 exited with status 0")
    expect(readFileSync(join(dir, "out-1"), "utf8")).toBe("args:it's quoted 1\n")
    expect(readFileSync(join(dir, "done", "1"), "utf8")).toBe("77_1\n")
    expect(() => runShard(2)).toThrow()
    expect(() => readFileSync(join(dir, "done", "2"))).toThrow()
  })
})

describe("formatArrayIndices", () => {
  it("collapses runs into ranges", () => {
    expect(formatArrayIndices([0, 1, 2, 5, 7, 8])).toBe("0-2,5,7-8")
    expect(formatArrayIndices([3])).toBe("3")
    expect(formatArrayIndices([9, 3, 3, 4])).toBe("3-4,9")
  })
})

describe("shellQuote", () => {
  it("leaves plain words and quotes the rest", () => {
    expect(shellQuote("/a/b-c.json")).toBe("/a/b-c.json")
    expect(shellQuote("")).toBe("''")
    expect(shellQuote("a b")).toBe("'a b'")
    expect(shellQuote("it's")).toBe("'it'\\''s'")
    expect(shellQuote("$HOME")).toBe("'$HOME'")
  })
})
