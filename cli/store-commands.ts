/**
 * Commands that work on an artifact store: `task` (one shard, for cluster workers),
 * `status`, `ls`, `gc` and `report`.
 */
import { Console, Effect, Option } from "effect"
import { existsSync, readdirSync, rmSync } from "node:fs"
import * as path from "node:path"
import { TEMP_PREFIX } from "../connectors/storage/local.ts"
import { Argument, Command, Flag } from "effect/cli"
import { resolveStoreRoot } from "../compiler/paths.ts"
import { formatBytes, formatTokens } from "../compiler/recipe/units.ts"
import { table } from "../compiler/render.ts"
import { Storage, joinUri } from "../connectors/storage/Storage.ts"
import { planShards, runShard } from "../runtime/executor/shard.ts"
import type { ExecutablePlan, Manifest, RunSummary } from "../runtime/executor/types.ts"
import { MANIFEST_FILE, SHARDS_DIR } from "../runtime/store/store.ts"
import type { QdcReport } from "../runtime/ops/qdc/metrics.ts"
import { renderComparisonReport } from "../runtime/report/compare.ts"
import { compileRecipe, reportFailure } from "./common.ts"
import { storageLayerFor } from "./run.ts"

const storeFlag = Flag.String("store").pipe(
  Flag.withDescription("Artifact store root: a path or s3://bucket/prefix (default .mixwright)"),
  Flag.withDefault(".mixwright")
)

const decoder = new TextDecoder()

const readJson = <T>(uri: string, missing?: string) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const bytes = yield* storage.read(uri).pipe(
      Effect.catchTag("StorageError", (error) =>
        error.reason === "NotFound" && missing !== undefined ? Effect.fail(new Error(missing)) : Effect.fail(error)
      )
    )
    return JSON.parse(decoder.decode(bytes)) as T
  })

const readJsonIfPresent = <T>(uri: string) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const info = yield* storage.stat(uri)
    if (info === undefined) return undefined
    return yield* readJson<T>(uri)
  })

/** Committed manifests under `<root>/artifacts/`, by node id. */
const listManifests = (root: string) =>
  Effect.gen(function* () {
    const storage = yield* Storage
    const objects = yield* storage.list(joinUri(root, "artifacts"))
    const sizes = new Map<string, number>()
    const manifests: Array<string> = []
    for (const object of objects) {
      const rest = object.uri.slice(joinUri(root, "artifacts").length + 1)
      const nodeId = rest.split("/")[0]!
      sizes.set(nodeId, (sizes.get(nodeId) ?? 0) + object.size)
      if (rest === `${nodeId}/${MANIFEST_FILE}`) manifests.push(object.uri)
    }
    const committed: Array<Manifest> = []
    for (const uri of manifests) committed.push(yield* readJson<Manifest>(uri))
    return { committed, sizes }
  })

/** Files under `dir` whose names mark an unfinished local write. */
const temporaryFiles = (dir: string): Array<string> => {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.startsWith(TEMP_PREFIX))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort()
}

const task = Command.make(
  "task",
  {
    plan: Argument.String("plan").pipe(Argument.withDescription("plan.json written by `mixwright run` (a path or s3:// URI)")),
    node: Argument.String("node").pipe(Argument.withDescription("Node id")),
    shard: Argument.Int("shard").pipe(Argument.withDescription("Shard index")),
    root: Flag.String("root").pipe(Flag.withDescription("Artifact store root the shard commits to"))
  },
  (input) =>
    Effect.gen(function* () {
      const plan = yield* readJson<ExecutablePlan>(input.plan, `plan ${input.plan} not found; pass the plan.json that mixwright run wrote under <store>/runs/<run-id>/`)
      const shards = yield* planShards(plan, input.node, { root: input.root })
      if (!Number.isInteger(input.shard) || input.shard < 0 || input.shard >= shards.shards) {
        return yield* Effect.fail(
          new Error(`shard ${input.shard} does not exist; node ${input.node} has shards 0 to ${shards.shards - 1}`)
        )
      }
      const record = yield* runShard(plan, input.node, input.shard, { root: input.root })
      yield* Console.log(JSON.stringify({ nodeId: record.nodeId, shard: record.shard, rows: record.stats.rowsOut, tokens: record.stats.tokensOut }))
    }).pipe(Effect.provide(storageLayerFor(null)), reportFailure)
).pipe(Command.withDescription("Run one shard of one node and commit it (what each Slurm array task runs)"))

const status = Command.make(
  "status",
  {
    runId: Argument.String("run-id").pipe(Argument.withDescription("Run folder name under <store>/runs/")),
    store: storeFlag,
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print JSON"), Flag.withDefault(false))
  },
  (input) =>
    Effect.gen(function* () {
      const root = resolveStoreRoot(input.store)
      const runUri = joinUri(root, "runs", input.runId)
      const summary = yield* readJsonIfPresent<RunSummary>(joinUri(runUri, "summary.json"))
      const plan = yield* readJsonIfPresent<ExecutablePlan>(joinUri(runUri, "plan.json"))
      if (plan === undefined) return yield* Effect.fail(new Error(`no run ${input.runId} under ${root}/runs; list runs with mixwright ls --runs`))
      const storage = yield* Storage
      const rows: Array<{ name: string; kind: string; state: string; shards: number }> = []
      for (const node of plan.nodes) {
        const fromSummary = summary?.nodes.find((n) => n.id === node.id)
        const committed = (yield* storage.stat(joinUri(root, "artifacts", node.id, MANIFEST_FILE))) !== undefined
        const shardRecords = (yield* storage.list(joinUri(root, "artifacts", node.id, SHARDS_DIR))).length
        let state: string
        if (committed) state = "committed"
        else if (fromSummary !== undefined) state = fromSummary.status
        else if (shardRecords > 0) state = "running"
        else if (node.kind === "stage") state = "external"
        else state = "pending"
        rows.push({ name: node.name, kind: node.kind, state, shards: shardRecords })
      }
      if (input.json) {
        yield* Console.log(JSON.stringify({ runId: input.runId, finished: summary !== undefined, status: summary?.status ?? "running", nodes: rows }, null, 2))
        return
      }
      const counts = rows.reduce<Record<string, number>>((acc, row) => ((acc[row.state] = (acc[row.state] ?? 0) + 1), acc), {})
      yield* Console.log(
        `Run ${input.runId}: ${summary === undefined ? "in progress or interrupted" : summary.status}; ` +
          Object.entries(counts).map(([state, n]) => `${n} ${state}`).join(", ")
      )
      yield* Console.log(table(["node", "kind", "state", "committed shards"], rows.map((r) => [r.name, r.kind, r.state, String(r.shards)]), new Set([3])))
    }).pipe(Effect.provide(storageLayerFor(null)), reportFailure)
).pipe(Command.withDescription("Show per-node progress of a run from the store, from any machine"))

const ls = Command.make(
  "ls",
  {
    store: storeFlag,
    runs: Flag.Boolean("runs").pipe(Flag.withDescription("List runs instead of artifacts"), Flag.withDefault(false)),
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print JSON"), Flag.withDefault(false))
  },
  (input) =>
    Effect.gen(function* () {
      const root = resolveStoreRoot(input.store)
      if (input.runs) {
        const storage = yield* Storage
        const objects = yield* storage.list(joinUri(root, "runs"))
        const runs = [...new Set(objects.map((o) => o.uri.slice(joinUri(root, "runs").length + 1).split("/")[0]!))]
        yield* Console.log(input.json ? JSON.stringify(runs) : runs.join("\n"))
        return
      }
      const { committed, sizes } = yield* listManifests(root)
      const entries = committed
        .map((m) => ({ id: m.nodeId, name: m.name, kind: m.kind, rows: m.rows, tokens: m.tokens, bytes: sizes.get(m.nodeId) ?? 0, committedAt: m.timings.committedAt }))
        .sort((a, b) => a.name.localeCompare(b.name))
      if (input.json) {
        yield* Console.log(JSON.stringify(entries, null, 2))
        return
      }
      yield* Console.log(
        table(
          ["id", "name", "kind", "rows", "tokens", "size", "committed"],
          entries.map((e) => [e.id.slice(0, 12), e.name, e.kind, String(e.rows), formatTokens(e.tokens), formatBytes(e.bytes), e.committedAt]),
          new Set([3, 4, 5])
        )
      )
      const total = [...sizes.values()].reduce((a, b) => a + b, 0)
      yield* Console.log(`${entries.length} committed artifacts, ${formatBytes(total)} in ${root}/artifacts`)
    }).pipe(Effect.provide(storageLayerFor(null)), reportFailure)
).pipe(Command.withDescription("List committed artifacts with their node names and sizes"))

const gc = Command.make(
  "gc",
  {
    recipes: Argument.String("recipe").pipe(
      Argument.withDescription("Recipes whose plans to keep; without any, every plan recorded under <store>/runs/ is kept"),
      Argument.variadic()
    ),
    profile: Flag.String("profile").pipe(Flag.withDescription("Profile used to compile the recipes"), Flag.optional),
    store: storeFlag,
    delete: Flag.Boolean("delete").pipe(Flag.withDescription("Remove the artifacts; without it, only list them"), Flag.withDefault(false))
  },
  (input) =>
    Effect.gen(function* () {
      const root = resolveStoreRoot(input.store)
      const storage = yield* Storage
      const keep = new Set<string>()
      if (input.recipes.length > 0) {
        for (const recipe of input.recipes) {
          const plan = yield* compileRecipe(recipe, { profile: Option.getOrUndefined(input.profile) })
          for (const node of plan.nodes) keep.add(node.id)
        }
      } else {
        const objects = yield* storage.list(joinUri(root, "runs"))
        for (const object of objects.filter((o) => o.uri.endsWith("/plan.json"))) {
          const plan = yield* readJson<ExecutablePlan>(object.uri)
          for (const node of plan.nodes) keep.add(node.id)
        }
      }
      const objects = yield* storage.list(joinUri(root, "artifacts"))
      const sizes = new Map<string, number>()
      for (const object of objects) {
        const nodeId = object.uri.slice(joinUri(root, "artifacts").length + 1).split("/")[0]!
        sizes.set(nodeId, (sizes.get(nodeId) ?? 0) + object.size)
      }
      // Temporary files of interrupted local writes (listings hide them; S3 writes leave
      // none). Only a run writing to this store right now still needs them, so do not
      // run gc --delete during a run.
      const temporary = root.startsWith("s3://") ? [] : temporaryFiles(joinUri(root, "artifacts"))
      for (const file of temporary) {
        if (input.delete) rmSync(file, { force: true })
        yield* Console.log(`${input.delete ? "removed" : "would remove"} temporary file ${file}`)
      }
      const unreferenced = [...sizes.keys()].filter((id) => !keep.has(id)).sort()
      const bytes = unreferenced.reduce((sum, id) => sum + sizes.get(id)!, 0)
      for (const id of unreferenced) {
        if (input.delete) yield* storage.removePrefix(joinUri(root, "artifacts", id))
        yield* Console.log(`${input.delete ? "removed" : "would remove"} ${id} (${formatBytes(sizes.get(id)!)})`)
      }
      yield* Console.log(
        `${unreferenced.length} of ${sizes.size} artifacts are unreferenced, ${formatBytes(bytes)}` +
          (input.delete ? " removed" : "; rerun with --delete to remove them")
      )
    }).pipe(Effect.provide(storageLayerFor(null)), reportFailure)
).pipe(Command.withDescription("Remove artifacts that no plan references (a dry run unless --delete)"))

const report = Command.make(
  "report",
  {
    runA: Argument.String("run-a").pipe(Argument.withDescription("First run id")),
    runB: Argument.String("run-b").pipe(Argument.withDescription("Second run id")),
    store: storeFlag,
    node: Flag.String("node").pipe(Flag.withDescription("QDC node to compare, such as qdc:traces (default: the first in both runs)"), Flag.optional),
    out: Flag.String("out").pipe(Flag.withDescription("Write the HTML report here (default <store>/runs/<run-b>/report-vs-<run-a>.html)"), Flag.optional)
  },
  (input) =>
    Effect.gen(function* () {
      const root = resolveStoreRoot(input.store)
      const summaryOf = (runId: string) =>
        readJson<RunSummary>(
          joinUri(root, "runs", runId, "summary.json"),
          `no finished run ${runId} under ${root}/runs; list runs with mixwright ls --runs --store ${input.store}`
        )
      const a = yield* summaryOf(input.runA)
      const b = yield* summaryOf(input.runB)
      const requested = Option.getOrUndefined(input.node)
      const inBoth = (name: string) => a.qdc.some((q) => q.name === name) && b.qdc.some((q) => q.name === name)
      const pick = (summary: RunSummary) => {
        if (requested !== undefined) return summary.qdc.find((q) => q.name === requested)
        return summary.qdc.find((q) => inBoth(q.name))
      }
      const qa = pick(a)
      const qb = pick(b)
      if (qa === undefined || qb === undefined) {
        const names = [...new Set([...a.qdc, ...b.qdc].map((q) => q.name))]
        return yield* Effect.fail(new Error(`no QDC node${requested === undefined ? "" : ` ${requested}`} in both runs; their QDC nodes: ${names.join(", ") || "none"}`))
      }
      const rendered = renderComparisonReport(
        { ...(qa.report as unknown as QdcReport), label: `${input.runA} (${qa.name})` },
        { ...(qb.report as unknown as QdcReport), label: `${input.runB} (${qb.name})` }
      )
      const storage = yield* Storage
      const htmlUri = Option.getOrElse(input.out, () => joinUri(root, "runs", input.runB, `report-vs-${input.runA}.html`))
      const jsonUri = htmlUri.replace(/\.html?$/, "") + ".json"
      yield* storage.write(htmlUri, new TextEncoder().encode(rendered.html))
      yield* storage.write(jsonUri, new TextEncoder().encode(JSON.stringify(rendered.json, null, 2) + "\n"))
      yield* Console.log(`wrote ${htmlUri}\nwrote ${jsonUri}`)
    }).pipe(Effect.provide(storageLayerFor(null)), reportFailure)
).pipe(Command.withDescription("Compare the QDC makeup of two runs side by side: an HTML report with charts, plus JSON"))

export const storeCommands = [task, status, ls, gc, report] as const
