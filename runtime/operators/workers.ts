/**
 * A pool of worker threads for CPU-heavy operator work (tokenization), so shards of
 * one or several nodes encode text on several cores at once.
 *
 * `runPlan` creates the pool when `RunOptions.workers` is above zero and provides it
 * through the `CpuWorkers` reference. Operators fall back to the main thread when it
 * is absent, which is the default and always the case in `runShard` called directly.
 */
import { Worker } from "node:worker_threads"
import { Context, Effect, type Scope } from "effect"

export interface TokenizeRequest {
  readonly tokenizer: string
  readonly appendEos: boolean
  readonly texts: ReadonlyArray<string>
}

export interface WorkerPool {
  readonly size: number
  /** Encodes the texts on the next free worker; rejects with the worker's error message. */
  readonly tokenize: (request: TokenizeRequest) => Promise<Array<Uint32Array>>
  readonly close: () => Promise<void>
}

/** The pool operators use, or `undefined` to run on the main thread. */
export const CpuWorkers = Context.Reference<WorkerPool | undefined>("mixwright/runtime/operators/CpuWorkers", {
  defaultValue: () => undefined
})

interface Pending {
  readonly resolve: (tokens: Array<Uint32Array>) => void
  readonly reject: (error: Error) => void
}

interface Task {
  readonly request: TokenizeRequest
  readonly pending: Pending
}

/** Starts `size` workers that load the tokenizer on first use. */
export const makeWorkerPool = (size: number): WorkerPool => {
  const queue: Array<Task> = []
  const idle: Array<Worker> = []
  const running = new Map<Worker, Pending>()
  let nextId = 0
  let closed = false
  /** Set when a worker crashed; the pool then rejects every request with it. */
  let failure: Error | undefined

  const dispatch = (): void => {
    while (idle.length > 0 && queue.length > 0) {
      const worker = idle.pop()!
      const task = queue.shift()!
      running.set(worker, task.pending)
      worker.postMessage({ id: nextId++, ...task.request })
    }
  }

  const workers = Array.from({ length: size }, () => {
    const worker = new Worker(new URL("./tokenize-worker.ts", import.meta.url))
    worker.on("message", (message: { tokens?: Array<Uint32Array>; error?: string }) => {
      const pending = running.get(worker)
      running.delete(worker)
      idle.push(worker)
      if (message.error !== undefined) pending?.reject(new Error(message.error))
      else pending?.resolve(message.tokens ?? [])
      dispatch()
    })
    worker.on("error", (error) => {
      failure = new Error(`a tokenize worker thread crashed: ${error.message}`)
      running.get(worker)?.reject(failure)
      running.delete(worker)
      for (const task of queue.splice(0)) task.pending.reject(failure)
    })
    idle.push(worker)
    return worker
  })

  return {
    size,
    tokenize: (request) =>
      new Promise((resolve, reject) => {
        if (closed || failure !== undefined) {
          reject(failure ?? new Error("the worker pool is closed"))
          return
        }
        queue.push({ request, pending: { resolve, reject } })
        dispatch()
      }),
    close: async () => {
      closed = true
      for (const task of queue.splice(0)) task.pending.reject(new Error("the worker pool was closed"))
      await Promise.all(workers.map((worker) => worker.terminate()))
    }
  }
}

/** A pool that lives as long as the surrounding scope. */
export const scopedWorkerPool = (size: number): Effect.Effect<WorkerPool, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => makeWorkerPool(size)),
    (pool) => Effect.promise(() => pool.close())
  )
