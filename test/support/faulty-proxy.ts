/**
 * A loopback HTTP proxy that forwards to an S3 endpoint and injects faults into a
 * configurable share of requests: dropped connections, HTTP 500, HTTP 503 SlowDown,
 * delays, and response bodies cut off midway. Choices come from a seeded generator,
 * so a run is repeatable when requests arrive in the same order.
 *
 * The proxy reads each request body completely before it decides, so a faulted
 * request never reaches the server and a forwarded one arrives whole. The Host
 * header is forwarded unchanged because it is part of the SigV4 signature.
 *
 * With `enforceIfNoneMatch`, the proxy also gives a server that ignores
 * `If-None-Match: *` on PUT (such as s3rver 3.7) the semantics of AWS S3: it responds
 * with 412 PreconditionFailed when the key exists. It checks with an unsigned HEAD, which
 * s3rver accepts, and holds a per-key lock from the check until the PUT completes.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"

export interface FaultShares {
  /** Share of requests whose client connection is destroyed without a response. */
  readonly drop?: number
  /** Share that gets an HTTP 500 InternalError response. */
  readonly error500?: number
  /** Share that gets an HTTP 503 SlowDown response (S3 throttling). */
  readonly slowDown?: number
  /** Share that gets an HTTP 429 Too Many Requests response. */
  readonly tooManyRequests?: number
  /**
   * Share that gets the HTTP 403 SignatureDoesNotMatch response AWS S3 sends for a wrong
   * secret. Like AWS, its body echoes the access key id and the canonical request,
   * which contains the request's headers, session token included.
   */
  readonly signatureMismatch?: number
  /** Share forwarded after `delayMs`. */
  readonly delay?: number
  /** Delay for the `delay` share, in milliseconds. Default 50. */
  readonly delayMs?: number
  /** Share whose response body is cut off after half its bytes (GET requests with a body only). */
  readonly truncate?: number
  /** Share forwarded to the server whose response is then dropped, so the server applied the request but the client never learns it. */
  readonly dropResponse?: number
  /** Limits faults to matching requests; the others are always forwarded. */
  readonly match?: (request: { readonly method: string; readonly url: string }) => boolean
}

export interface FaultStats {
  requests: number
  forwarded: number
  dropped: number
  error500: number
  slowDown: number
  tooManyRequests: number
  signatureMismatch: number
  delayed: number
  truncated: number
  droppedResponses: number
  /** Requests the proxy rejected with 412 under `enforceIfNoneMatch` or `enforceIfMatch`. */
  preconditionFailed: number
}

export interface ProxyOptions {
  /** `http://host:port` of the S3 server to forward to. */
  readonly target: string
  readonly faults?: FaultShares
  /** Seed for the fault choices. Default 1. */
  readonly seed?: number
  /** Enforces `If-None-Match: *` on PUT in the proxy; see the file comment. */
  readonly enforceIfNoneMatch?: boolean
  /** Answers a GET whose `If-Match` differs from the object's current ETag with 412, as S3 does; s3rver 3.7 ignores the header. */
  readonly enforceIfMatch?: boolean
}

export interface FaultyProxy {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string
  readonly stats: FaultStats
  /** Replaces the fault shares for later requests. */
  setFaults(faults: FaultShares): void
  /** Stops the proxy and closes open connections. */
  stop(): Promise<void>
}

/** Mulberry32: a small seeded generator of floats in [0, 1). */
const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const s3ErrorBody = (code: string, message: string, extra = ""): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>` +
  `${extra}<RequestId>faulty-proxy</RequestId></Error>`

const escapeXml = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

/** Builds the extra elements of S3's SignatureDoesNotMatch body from the request. */
const signatureMismatchDetails = (request: http.IncomingMessage): string => {
  const authorization = String(request.headers.authorization ?? "")
  const keyId = /Credential=([^/]+)/.exec(authorization)?.[1] ?? ""
  const headerLines = Object.entries(request.headers).map(([name, value]) => `${name}:${String(value)}`).join("\n")
  const canonical = `${request.method}\n${request.url}\n\n${headerLines}`
  return `<AWSAccessKeyId>${escapeXml(keyId)}</AWSAccessKeyId><StringToSign>${escapeXml(authorization)}</StringToSign>` +
    `<CanonicalRequest>${escapeXml(canonical)}</CanonicalRequest>`
}

type Fault =
  | "drop"
  | "error500"
  | "slowDown"
  | "tooManyRequests"
  | "signatureMismatch"
  | "delay"
  | "truncate"
  | "dropResponse"
  | "none"

const ORDER: ReadonlyArray<Exclude<Fault, "none">> = [
  "drop",
  "error500",
  "slowDown",
  "tooManyRequests",
  "signatureMismatch",
  "delay",
  "truncate",
  "dropResponse"
]

/** Starts the proxy on a random loopback port, forwarding to `target`. */
export const startFaultyProxy = async (options: ProxyOptions): Promise<FaultyProxy> => {
  const target = new URL(options.target)
  const random = seededRandom(options.seed ?? 1)
  let faults: FaultShares = options.faults ?? {}
  const stats: FaultStats = { requests: 0, forwarded: 0, dropped: 0, error500: 0, slowDown: 0, tooManyRequests: 0, signatureMismatch: 0, delayed: 0, truncated: 0, droppedResponses: 0, preconditionFailed: 0 }
  const agent = new http.Agent({ keepAlive: true })

  const choose = (method: string, url: string): Fault => {
    if (faults.match && !faults.match({ method, url })) return "none"
    let roll = random()
    for (const fault of ORDER) {
      const share = faults[fault] ?? 0
      if (roll < share) return fault
      roll -= share
    }
    return "none"
  }

  const forward = (
    request: http.IncomingMessage,
    body: Buffer,
    response: http.ServerResponse,
    fault: Fault
  ): void => {
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
        agent
      },
      (upstreamResponse) => {
        if (fault === "dropResponse") {
          stats.droppedResponses++
          upstreamResponse.resume()
          upstreamResponse.on("end", () => request.socket.destroy())
          return
        }
        const length = Number(upstreamResponse.headers["content-length"] ?? 0)
        if (fault === "truncate" && request.method === "GET" && length > 1) {
          stats.truncated++
          response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers)
          let sent = 0
          const limit = Math.floor(length / 2)
          upstreamResponse.on("data", (chunk: Buffer) => {
            if (sent >= limit) return
            const part = chunk.subarray(0, limit - sent)
            sent += part.byteLength
            response.write(part)
            if (sent >= limit) {
              upstreamResponse.destroy()
              request.socket.destroy()
            }
          })
          return
        }
        stats.forwarded++
        response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers)
        upstreamResponse.pipe(response)
      }
    )
    upstream.on("error", () => request.socket.destroy())
    upstream.end(body)
  }

  /** Tail of the promise chain for each key, so conditional PUTs to one key run one at a time. */
  const keyLocks = new Map<string, Promise<void>>()

  /** Sends an unsigned HEAD for `path` and returns the object's ETag, or `undefined` when it does not exist. */
  const headEtag = (path: string): Promise<string | undefined> =>
    new Promise((resolve, reject) => {
      const head = http.request({ host: target.hostname, port: target.port, method: "HEAD", path, agent }, (reply) => {
        reply.resume()
        resolve(reply.statusCode === 200 ? String(reply.headers.etag ?? "") : undefined)
      })
      head.on("error", reject)
      head.end()
    })

  const objectExists = async (path: string): Promise<boolean> => (await headEtag(path)) !== undefined

  const conditionalPut = async (request: http.IncomingMessage, body: Buffer, response: http.ServerResponse) => {
    const path = (request.url ?? "/").split("?")[0]
    const previous = keyLocks.get(path) ?? Promise.resolve()
    let release!: () => void
    const current = new Promise<void>((resolve) => {
      release = resolve
    })
    const tail = previous.then(() => current)
    keyLocks.set(path, tail)
    await previous
    try {
      if (await objectExists(path)) {
        stats.preconditionFailed++
        response.writeHead(412, { "content-type": "application/xml" })
        response.end(s3ErrorBody("PreconditionFailed", "At least one of the pre-conditions you specified did not hold"))
        return
      }
      await new Promise<void>((resolve) => {
        response.on("close", () => resolve())
        forward(request, body, response, "none")
      })
    } catch {
      request.socket.destroy()
    } finally {
      release()
      if (keyLocks.get(path) === tail) keyLocks.delete(path)
    }
  }

  const server = http.createServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", async () => {
      stats.requests++
      const body = Buffer.concat(chunks)
      const ifMatch = request.headers["if-match"]
      if (options.enforceIfMatch === true && request.method === "GET" && typeof ifMatch === "string") {
        const etag = await headEtag((request.url ?? "/").split("?")[0]).catch(() => undefined)
        if (etag !== ifMatch) {
          stats.preconditionFailed++
          response.writeHead(412, { "content-type": "application/xml" })
          response.end(s3ErrorBody("PreconditionFailed", "At least one of the pre-conditions you specified did not hold"))
          return
        }
      }
      const fault = choose(request.method ?? "GET", request.url ?? "/")
      const isConditionalPut = options.enforceIfNoneMatch === true && request.method === "PUT" &&
        request.headers["if-none-match"] === "*" && !(request.url ?? "").includes("uploadId=")
      if (fault === "none" && isConditionalPut) {
        void conditionalPut(request, body, response)
        return
      }
      switch (fault) {
        case "drop":
          stats.dropped++
          request.socket.destroy()
          return
        case "error500":
          stats.error500++
          response.writeHead(500, { "content-type": "application/xml" })
          response.end(s3ErrorBody("InternalError", "We encountered an internal error. Please try again."))
          return
        case "slowDown":
          stats.slowDown++
          response.writeHead(503, { "content-type": "application/xml" })
          response.end(s3ErrorBody("SlowDown", "Please reduce your request rate."))
          return
        case "tooManyRequests":
          stats.tooManyRequests++
          response.writeHead(429, { "content-type": "application/xml" })
          response.end(s3ErrorBody("TooManyRequests", "Too many requests."))
          return
        case "signatureMismatch":
          stats.signatureMismatch++
          response.writeHead(403, { "content-type": "application/xml" })
          response.end(
            s3ErrorBody(
              "SignatureDoesNotMatch",
              "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
              signatureMismatchDetails(request)
            )
          )
          return
        case "delay":
          stats.delayed++
          setTimeout(() => forward(request, body, response, fault), faults.delayMs ?? 50)
          return
        default:
          forward(request, body, response, fault)
      }
    })
  })

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    setFaults: (next) => {
      faults = next
    },
    stop: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      agent.destroy()
    }
  }
}
