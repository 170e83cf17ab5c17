/**
 * Runs a plan in a child process for the interruption test:
 * `npx node test/runtime/run-plan-child.ts <plan.json> <root>`. Prints every run
 * event as one JSON line, so the parent can kill the process at a known point.
 */
import * as fs from "node:fs"
import { Effect } from "effect"
import { StorageLive } from "../../connectors/storage/layer.ts"
import { runPlan } from "../../runtime/executor/run.ts"
import type { ExecutablePlan } from "../../runtime/executor/types.ts"

const [planPath, root] = process.argv.slice(2)
const plan = JSON.parse(fs.readFileSync(planPath, "utf8")) as ExecutablePlan
const summary = await Effect.runPromise(
  runPlan(plan, { root, runId: "child", concurrency: 1, onEvent: (event) => process.stdout.write(JSON.stringify(event) + "\n") }).pipe(
    Effect.provide(StorageLive)
  )
)
process.stdout.write(JSON.stringify({ type: "summary", status: summary.status }) + "\n")
