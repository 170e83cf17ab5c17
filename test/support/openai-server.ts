/**
 * A small OpenAI-compatible server for tests, listening on 127.0.0.1 on a free port.
 *
 * It serves `POST /v1/chat/completions` and `POST /v1/completions`. Each request takes the
 * next scripted action from the queue (`enqueue`). With an empty queue it returns a normal completion.
 * Normal answers are deterministic: a prompt that contains a Countdown problem
 * ("Use the numbers [...] ... reach T") gets a correct solution when the request's seed is
 * even and a wrong one when it is odd; other prompts are echoed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { searchCountdown } from "../../connectors/generators/countdown/search.ts"

export type ServerAction =
  | { readonly kind: "ok"; readonly completion?: string; readonly delayMs?: number }
  | { readonly kind: "status"; readonly status: number; readonly headers?: Record<string, string>; readonly body?: string }
  | { readonly kind: "malformed" }

export interface RecordedRequest {
  readonly path: string
  readonly headers: IncomingMessage["headers"]
  readonly body: Record<string, unknown>
  readonly receivedAt: number
}

export interface OpenAiTestServer {
  /** Base URL, e.g. `http://127.0.0.1:43123`. */
  readonly url: string
  readonly requests: Array<RecordedRequest>
  readonly enqueue: (...actions: ReadonlyArray<ServerAction>) => void
  /** Largest number of completion requests open at the same time since the last reset. */
  readonly maxInFlight: () => number
  readonly resetMaxInFlight: () => void
  readonly close: () => Promise<void>
}

const COUNTDOWN = /Use the numbers \[([\d, ]+)\] and the operations \+ - \* \/ to reach (\d+)/

/** Computes the deterministic completion for a prompt and seed. */
export const fakeCompletion = (prompt: string, seed: number): string => {
  const match = COUNTDOWN.exec(prompt)
  if (match === null) return `Echo: ${prompt}`
  const numbers = match[1].split(",").map((s) => Number(s.trim()))
  const target = Number(match[2])
  if (seed % 2 === 0) {
    const result = searchCountdown({ numbers, target }, { search: "best-first", maxNodes: 5000 })
    if (result.solved) return `Let me search.\nAnswer: ${result.answer}`
  }
  return `I guess.\nAnswer: ${numbers.join("+")}`
}

const promptOf = (path: string, body: Record<string, unknown>): string => {
  if (path.endsWith("/chat/completions")) {
    const messages = body.messages as Array<{ role: string; content: string }>
    return messages.filter((m) => m.role === "user").map((m) => m.content).join("\n")
  }
  return String(body.prompt)
}

const sendJson = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { "content-type": "application/json" })
  res.end(JSON.stringify(value))
}

export const startOpenAiServer = async (): Promise<OpenAiTestServer> => {
  const requests: Array<RecordedRequest> = []
  const queue: Array<ServerAction> = []
  const timers = new Set<NodeJS.Timeout>()
  let inFlight = 0
  let maxInFlight = 0

  const server = createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      const path = req.url ?? ""
      let body: Record<string, unknown>
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"))
      } catch {
        return sendJson(res, 400, { error: { message: "request body is not JSON" } })
      }
      requests.push({ path, headers: req.headers, body, receivedAt: Date.now() })
      if (req.method !== "POST" || !(path === "/v1/chat/completions" || path === "/v1/completions")) {
        return sendJson(res, 404, { error: { message: `no route ${req.method} ${path}` } })
      }
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      res.on("close", () => inFlight--)
      const action = queue.shift() ?? { kind: "ok" }
      if (action.kind === "status") {
        res.writeHead(action.status, { "content-type": "application/json", ...action.headers })
        res.end(action.body ?? JSON.stringify({ error: { message: `scripted status ${action.status}` } }))
        return
      }
      if (action.kind === "malformed") {
        res.writeHead(200, { "content-type": "application/json" })
        res.end('{"choices": [ {"message": ')
        return
      }
      const completion = action.completion ?? fakeCompletion(promptOf(path, body), Number(body.seed ?? 0))
      const choice = path === "/v1/chat/completions"
        ? { index: 0, message: { role: "assistant", content: completion }, finish_reason: "stop" }
        : { index: 0, text: completion, finish_reason: "stop" }
      const respond = () => {
        if (!res.destroyed) sendJson(res, 200, { id: `cmpl-${requests.length}`, object: "chat.completion", model: body.model, choices: [choice] })
      }
      if (action.delayMs === undefined) return respond()
      const timer = setTimeout(() => {
        timers.delete(timer)
        respond()
      }, action.delayMs)
      timers.add(timer)
    })
  })

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...actions) => void queue.push(...actions),
    maxInFlight: () => maxInFlight,
    resetMaxInFlight: () => {
      maxInFlight = inFlight
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
