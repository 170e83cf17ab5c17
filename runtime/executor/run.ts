/**
 * `runPlan`: runs every node of an executable plan whose artifact is not committed.
 *
 * Each node waits for its inputs, then runs its pending shards on the backend and
 * commits its manifest. Nodes whose manifest exists are `cached`; `stage` nodes are
 * `external`. A failed node fails its descendants, while independent branches keep
 * running; the summary lists every node either way. Interruption (an aborted
 * `signal` or fiber interruption) stops shards in flight: files they wrote have no
 * commit record, so a later run recomputes exactly those shards.
 */
import { randomBytes } from "node:crypto"
import { availableParallelism } from "node:os"
import { Deferred, Effect, Exit } from "effect"
import type { IrNode } from "../../compiler/ir.ts"
import { joinUri, Storage } from "../../connectors/storage/Storage.ts"
import { OPERATORS } from "../operators/index.ts"
import { CpuWorkers, scopedWorkerPool } from "../operators/workers.ts"
import { artifactFileUris, readManifest, removeArtifact } from "../store/store.ts"
import { type Backend, makeLocalBackend } from "./backend.ts"
import { RunError } from "./errors.ts"
import { commitNode, planShards } from "./shard.ts"
import {
  type ExecutablePlan,
  type Manifest,
  type MixSummary,
  type NodeSummary,
  type RunEvent,
  type RunOptions,
  RUNTIME_VERSION,
  type RunSummary
} from "./types.ts"

/** Checks ids are unique and every input names an earlier node. */
export const validatePlan = (plan: ExecutablePlan): Effect.Effect<void, RunError> =>
  Effect.gen(function*() {
    const seen = new Set<string>()
    const names = new Set<string>()
    for (const node of plan.nodes) {
      if (seen.has(node.id)) {
        return yield* new RunError({ reason: "InvalidPlan", node: node.name, description: `duplicate node id ${node.id}` })
      }
      if (!Object.hasOwn(OPERATORS, node.kind)) {
        return yield* new RunError({
          reason: "InvalidPlan",
          node: node.name,
          description: `unknown node kind ${JSON.stringify(node.kind)}; expected one of ${Object.keys(OPERATORS).join(", ")}`
        })
      }
      if (names.has(node.name)) {
        return yield* new RunError({ reason: "InvalidPlan", node: node.name, description: "duplicate node name; names must be unique within a plan" })
      }
      for (const input of node.inputs) {
        if (!seen.has(input)) {
          return yield* new RunError({
            reason: "InvalidPlan",
            node: node.name,
            description: `input ${input} is not an earlier node of the plan; nodes must be in topological order`
          })
        }
      }
      seen.add(node.id)
      names.add(node.name)
    }
  })

/** Minimum time between two row-driven `node-progress` events of one node. */
const PROGRESS_INTERVAL_MS = 1000

const defaultRunId = (): string => `${new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "")}-${randomBytes(3).toString("hex")}`

const encodeJson = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n")

interface NodeOutcome {
  readonly summary: NodeSummary
  readonly manifest: Manifest | undefined
}

const summaryOf = (node: IrNode, status: NodeSummary["status"], seconds: number, manifest?: Manifest, error?: string): NodeSummary => ({
  id: node.id,
  name: node.name,
  kind: node.kind,
  status,
  rowsIn: manifest?.rowsIn ?? 0,
  rowsOut: manifest?.rows ?? 0,
  tokensIn: manifest?.tokensIn ?? 0,
  tokensOut: manifest?.tokens ?? 0,
  bytesOut: manifest?.bytes ?? 0,
  seconds,
  drops: manifest?.drops ?? {},
  skips: manifest?.skips ?? {},
  ...(error === undefined ? {} : { error })
})

const mixSummaryOf = (manifest: Manifest): MixSummary | undefined => {
  const mix = manifest.extra.mix
  if (mix === null || typeof mix !== "object" || Array.isArray(mix)) return undefined
  const record = mix as unknown as Omit<MixSummary, "nodeId" | "name">
  return { nodeId: manifest.nodeId, name: manifest.name, ...record }
}

const abortEffect = (signal: AbortSignal | undefined): Effect.Effect<never, RunError> =>
  signal === undefined
    ? Effect.never
    : Effect.callback<never, RunError>((resume) => {
      const onAbort = () => resume(Effect.fail(new RunError({ reason: "Interrupted", description: "the run was aborted; committed shards and nodes are kept" })))
      if (signal.aborted) onAbort()
      else signal.addEventListener("abort", onAbort, { once: true })
      return Effect.sync(() => signal.removeEventListener("abort", onAbort))
    })

/**
 * Runs the plan and returns its summary (also written to
 * `<root>/runs/<run-id>/summary.json`, next to `plan.json`).
 *
 * Fails only when the run cannot proceed at all (invalid plan, store unavailable,
 * interruption). A node that fails makes the summary's `status` `failed`.
 */
export const runPlan = (
  plan: ExecutablePlan,
  options: RunOptions,
  backend?: Backend
): Effect.Effect<RunSummary, RunError, Storage> =>
  Effect.gen(function*() {
    yield* validatePlan(plan)
    const storage = yield* Storage
    const root = options.root
    const runId = options.runId ?? defaultRunId()
    const runUri = joinUri(root, "runs", runId)
    const emit = (event: RunEvent): void => options.onEvent?.(event)
    const executor = backend ?? makeLocalBackend(options.concurrency ?? availableParallelism())
    const startedAt = new Date()
    const started = performance.now()

    const storeFailed = (description: string) => (cause: { readonly description: string; readonly uri: string }) =>
      new RunError({ reason: "Storage", uri: cause.uri, description: `${description}: ${cause.description}`, cause })

    yield* storage.write(joinUri(runUri, "plan.json"), encodeJson(plan)).pipe(Effect.mapError(storeFailed("writing plan.json failed")))

    for (const target of options.force ?? []) {
      const node = plan.nodes.find((candidate) => candidate.id === target || candidate.name === target)
      if (node === undefined) {
        return yield* new RunError({ reason: "InvalidPlan", node: target, description: "--force names no node of the plan; use a node id or name" })
      }
      yield* removeArtifact(root, node.id)
    }

    emit({ type: "run-started", runId, root, nodes: plan.nodes.length, at: startedAt.toISOString() })

    const memo = new Map<string, unknown>()
    const done = new Map<string, Deferred.Deferred<NodeOutcome>>()
    for (const node of plan.nodes) done.set(node.id, yield* Deferred.make<NodeOutcome>())

    const runNode = (node: IrNode): Effect.Effect<NodeOutcome, RunError, Storage> =>
      Effect.gen(function*() {
        const inputs: Array<NodeOutcome> = []
        for (const input of node.inputs) inputs.push(yield* Deferred.await(done.get(input)!))
        const nodeStarted = performance.now()
        const seconds = () => (performance.now() - nodeStarted) / 1000
        const failedInput = inputs.find((input) => input.summary.status === "failed")
        if (failedInput !== undefined) {
          return { summary: summaryOf(node, "failed", 0, undefined, `input ${failedInput.summary.name} failed`), manifest: undefined }
        }
        if (node.kind === "stage") {
          emit({ type: "node-finished", nodeId: node.id, name: node.name, status: "external", rowsOut: 0, tokensOut: 0, seconds: 0 })
          return { summary: summaryOf(node, "external", 0), manifest: undefined }
        }
        const cached = yield* readManifest(root, node.id)
        if (cached !== undefined) {
          emit({ type: "node-finished", nodeId: node.id, name: node.name, status: "cached", rowsOut: cached.rows, tokensOut: cached.tokens, seconds: seconds() })
          return { summary: summaryOf(node, "cached", seconds(), cached), manifest: cached }
        }

        const exit = yield* Effect.exit(Effect.gen(function*() {
          const shardPlan = yield* planShards(plan, node.id, { root, memo })
          const committed = new Set(shardPlan.committed)
          const pending = Array.from({ length: shardPlan.shards }, (_, shard) => shard).filter((shard) => !committed.has(shard))
          emit({ type: "node-started", nodeId: node.id, name: node.name, kind: node.kind, shards: shardPlan.shards, resumedShards: committed.size })
          let shardsDone = committed.size
          let rowsOut = 0
          let bytesOut = 0
          let lastEmit = performance.now()
          const emitProgress = () => {
            lastEmit = performance.now()
            const elapsed = Math.max(seconds(), 1e-6)
            const ranNow = shardsDone - committed.size
            emit({
              type: "node-progress",
              nodeId: node.id,
              name: node.name,
              shardsDone,
              shards: shardPlan.shards,
              rowsOut,
              bytesOut,
              rowsPerSecond: rowsOut / elapsed,
              megabytesPerSecond: bytesOut / 1e6 / elapsed,
              etaSeconds: ranNow === 0 ? undefined : (elapsed / ranNow) * (shardPlan.shards - shardsDone)
            })
          }
          yield* executor.runShards({
            plan,
            root,
            nodeId: node.id,
            memo,
            shards: pending,
            onShardCommitted: (record) => {
              shardsDone++
              bytesOut += record.stats.bytesOut
              emitProgress()
            },
            // Rows count as they are encoded, so long single-shard nodes report progress too.
            onRows: (rows) => {
              rowsOut += rows
              if (performance.now() - lastEmit >= PROGRESS_INTERVAL_MS) emitProgress()
            }
          })
          return yield* commitNode(plan, node.id, { root, memo })
        }))
        if (Exit.isSuccess(exit)) {
          const manifest = exit.value
          emit({ type: "node-finished", nodeId: node.id, name: node.name, status: "computed", rowsOut: manifest.rows, tokensOut: manifest.tokens, seconds: seconds() })
          return { summary: summaryOf(node, "computed", seconds(), manifest), manifest }
        }
        // Failures and defects (an operator that threw) fail the node; interruption stops the run.
        const reason = exit.cause.reasons.find((candidate) => candidate._tag === "Fail" || candidate._tag === "Die")
        if (reason === undefined) return yield* Effect.failCause(exit.cause)
        const message = reason._tag === "Fail"
          ? reason.error.message
          : `unexpected defect: ${reason.defect instanceof Error ? reason.defect.stack ?? reason.defect.message : String(reason.defect)}`
        emit({ type: "node-finished", nodeId: node.id, name: node.name, status: "failed", rowsOut: 0, tokensOut: 0, seconds: seconds(), error: message })
        return { summary: summaryOf(node, "failed", seconds(), undefined, message), manifest: undefined }
      }).pipe(Effect.tap((outcome) => Deferred.succeed(done.get(node.id)!, outcome)))

    const runAll = Effect.forEach(plan.nodes, runNode, { concurrency: "unbounded" })
    const workers = options.workers ?? 0
    const withWorkers = workers > 0
      ? Effect.scoped(Effect.flatMap(scopedWorkerPool(workers), (pool) => Effect.provideService(runAll, CpuWorkers, pool)))
      : runAll
    const outcomes = yield* Effect.raceFirst(withWorkers, abortEffect(options.signal))

    const nodes = outcomes.map((outcome) => outcome.summary)
    const mixes: Array<MixSummary> = []
    const qdc: Array<RunSummary["qdc"][number]> = []
    const outputs: Record<string, ReadonlyArray<string>> = {}
    for (const outcome of outcomes) {
      const manifest = outcome.manifest
      if (manifest === undefined) continue
      if (manifest.kind === "mix") {
        const mix = mixSummaryOf(manifest)
        if (mix !== undefined) mixes.push(mix)
      }
      if (manifest.kind === "qdc" && manifest.extra.qdc !== undefined) {
        qdc.push({ nodeId: manifest.nodeId, name: manifest.name, report: manifest.extra.qdc })
      }
      if (manifest.kind === "mix" || manifest.kind === "export" || manifest.kind === "qdc") {
        outputs[manifest.name] = artifactFileUris(root, manifest)
      }
    }
    const count = (status: NodeSummary["status"]) => nodes.filter((node) => node.status === status).length
    const finishedAt = new Date()
    const summary: RunSummary = {
      runId,
      root,
      status: count("failed") > 0 ? "failed" : "succeeded",
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      seconds: (performance.now() - started) / 1000,
      toolVersion: RUNTIME_VERSION,
      nodes,
      mixes,
      qdc,
      outputs,
      totals: {
        computed: count("computed"),
        cached: count("cached"),
        failed: count("failed"),
        external: count("external"),
        rowsOut: nodes.reduce((sum, node) => sum + node.rowsOut, 0),
        tokensOut: nodes.reduce((sum, node) => sum + node.tokensOut, 0),
        bytesOut: nodes.reduce((sum, node) => sum + node.bytesOut, 0)
      }
    }
    yield* storage.write(joinUri(runUri, "summary.json"), encodeJson(summary)).pipe(Effect.mapError(storeFailed("writing summary.json failed")))
    emit({ type: "run-finished", runId, status: summary.status, seconds: summary.seconds })
    return summary
  })
