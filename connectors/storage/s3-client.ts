/**
 * S3 client setup for the storage service: endpoint and addressing options, the
 * retry strategy (exponential backoff with full jitter and a shared retry budget),
 * request timeouts, and the mapping from SDK errors to `StorageError` with secrets
 * removed.
 */
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3"
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from "@smithy/types"
import { StorageError, type StorageErrorReason } from "./Storage.ts"

/** Settings for the S3 implementation; every field is optional. */
export interface S3StorageOptions {
  /**
   * Endpoint URL for S3-compatible stores, e.g. `http://127.0.0.1:9000`. Defaults to
   * `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL`, then the AWS endpoint for the region.
   */
  readonly endpoint?: string
  /** Region; defaults to the SDK chain (`AWS_REGION`, the shared config file), or `us-east-1` with a custom endpoint. */
  readonly region?: string
  /** Path-style addressing (`endpoint/bucket/key`); defaults to true when an endpoint is set. */
  readonly forcePathStyle?: boolean
  /** Static credentials; the default is the SDK chain (environment, shared files, SSO, container or instance roles). */
  readonly credentials?: S3ClientConfig["credentials"]
  /** Max attempts per request, the first included. Default 5. */
  readonly maxAttempts?: number
  /** Base of the exponential backoff, in milliseconds. Default 100. */
  readonly retryBaseDelayMs?: number
  /** Max backoff between attempts, in milliseconds. Default 5000. */
  readonly retryMaxDelayMs?: number
  /**
   * Retry budget shared by all requests of one client, in tokens. A retry costs 5
   * tokens (10 after a timeout) and a success returns 1, so a store that fails every
   * request stops being retried after 100 retries instead of multiplying the load.
   * Default 500, as in the AWS SDK's standard retry mode.
   */
  readonly retryBudget?: number
  /** Milliseconds a request may wait for response data before it is aborted and retried. Default 60000. */
  readonly requestTimeoutMs?: number
  /** Milliseconds to establish a TCP connection. Default 5000. */
  readonly connectionTimeoutMs?: number
  /** Objects larger than this many bytes are written with a multipart upload. Default 8 MiB. */
  readonly multipartThreshold?: number
  /** Multipart upload part size in bytes; S3's minimum is 5 MiB. Default 8 MiB. */
  readonly partSize?: number
  /** Parts uploaded in parallel by one multipart upload. Default 4. */
  readonly uploadConcurrency?: number
  /**
   * Whether `PutObject` honours `If-None-Match: *`. `"auto"` (the default) probes each
   * bucket once, `"supported"` trusts the store, and `"emulated"` always uses HEAD then
   * PUT, which cannot guarantee that only one writer succeeds.
   */
  readonly conditionalWrites?: "auto" | "supported" | "emulated"
  /**
   * Checksums the SDK adds to requests. Defaults to the SDK default for AWS and to
   * `"WHEN_REQUIRED"` with a custom endpoint, because many S3-compatible stores reject
   * the newer CRC checksum headers.
   */
  readonly requestChecksumCalculation?: "WHEN_SUPPORTED" | "WHEN_REQUIRED"
  /** Receives retries and warnings; messages never contain credentials. */
  readonly onEvent?: (event: S3StorageEvent) => void
  /** A client to use as is; the endpoint, credential, retry and timeout options above are then ignored. */
  readonly client?: S3Client
}

export type S3StorageEvent =
  | {
    readonly _tag: "Retry"
    /** Number of the attempt that failed, starting at 1. */
    readonly attempt: number
    readonly delayMs: number
    readonly errorType: RetryErrorInfo["errorType"]
    readonly error: string
  }
  | { readonly _tag: "RetryBudgetExhausted"; readonly error: string }
  | { readonly _tag: "ConditionalWritesEmulated"; readonly bucket: string; readonly message: string }
  /** A failed multipart upload could not be aborted; its parts stay stored (and billed) until a lifecycle rule removes them. */
  | { readonly _tag: "AbortMultipartUploadFailed"; readonly uri: string; readonly error: string }

export const DEFAULT_PART_SIZE = 8 * 1024 * 1024

const envEndpoint = (): string | undefined =>
  process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined

/** Resolves the endpoint from the options, then the standard environment variables. */
export const resolveEndpoint = (options: S3StorageOptions): string | undefined => options.endpoint ?? envEndpoint()

interface BackoffToken extends RetryToken {
  readonly cost: number
}

const makeToken = (count: number, delay: number, cost: number): BackoffToken => ({
  cost,
  getRetryCount: () => count,
  getRetryDelay: () => delay
})

/**
 * Retry strategy for the SDK's retry middleware: retries throttling (429, 503
 * SlowDown) and transient errors (500, 502, 503, 504, connection resets, timeouts)
 * with exponential backoff and full jitter, up to `maxAttempts`, while the shared
 * budget lasts. Client errors such as 403 or 404 are never retried.
 */
export class BackoffRetryStrategy implements RetryStrategyV2 {
  readonly maxAttempts: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
  readonly initialBudget: number
  private budget: number
  private readonly onEvent: ((event: S3StorageEvent) => void) | undefined
  /** Total retries made, for tests and benchmarks. */
  retries = 0

  constructor(options: {
    maxAttempts: number
    baseDelayMs: number
    maxDelayMs: number
    budget: number
    onEvent?: (event: S3StorageEvent) => void
  }) {
    this.maxAttempts = options.maxAttempts
    this.baseDelayMs = options.baseDelayMs
    this.maxDelayMs = options.maxDelayMs
    this.initialBudget = options.budget
    this.budget = options.budget
    this.onEvent = options.onEvent
  }

  get remainingBudget(): number {
    return this.budget
  }

  acquireInitialRetryToken(): Promise<RetryToken> {
    return Promise.resolve(makeToken(0, 0, 0))
  }

  refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const retryable = info.errorType === "THROTTLING" || info.errorType === "TRANSIENT"
    const attempt = token.getRetryCount() + 1
    if (!retryable || attempt >= this.maxAttempts) {
      return Promise.reject(new Error("retry not allowed"))
    }
    const cost = isTimeout(info.error) ? 10 : 5
    if (this.budget < cost) {
      this.onEvent?.({ _tag: "RetryBudgetExhausted", error: describeSdkError(info.error) })
      return Promise.reject(new Error("retry budget exhausted"))
    }
    this.budget -= cost
    this.retries++
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1))
    let delay = Math.random() * ceiling
    if (info.retryAfterHint instanceof Date) {
      delay = Math.max(delay, Math.min(info.retryAfterHint.getTime() - Date.now(), this.maxDelayMs))
    }
    delay = Math.round(delay)
    this.onEvent?.({ _tag: "Retry", attempt, delayMs: delay, errorType: info.errorType, error: describeSdkError(info.error) })
    return Promise.resolve(makeToken(attempt, delay, cost))
  }

  recordSuccess(token: RetryToken): void {
    const cost = (token as BackoffToken).cost ?? 0
    this.budget = Math.min(this.initialBudget, this.budget + (cost > 0 ? cost : 1))
  }
}

/** Builds an S3 client from the options; `AWS_EC2_METADATA_DISABLED` is left to the caller's environment. */
export const makeS3Client = (options: S3StorageOptions, retryStrategy: BackoffRetryStrategy): S3Client => {
  const endpoint = resolveEndpoint(options)
  const config: S3ClientConfig = {
    maxAttempts: retryStrategy.maxAttempts,
    retryStrategy,
    requestHandler: {
      requestTimeout: options.requestTimeoutMs ?? 60_000,
      connectionTimeout: options.connectionTimeoutMs ?? 5_000,
      // Without this, @smithy/node-http-handler only logs a warning when the timeout passes.
      throwOnRequestTimeout: true
    }
  }
  if (endpoint !== undefined) {
    config.endpoint = endpoint
    config.forcePathStyle = options.forcePathStyle ?? true
    config.requestChecksumCalculation = options.requestChecksumCalculation ?? "WHEN_REQUIRED"
    config.responseChecksumValidation = "WHEN_REQUIRED"
    config.region = options.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || "us-east-1")
  } else {
    if (options.forcePathStyle !== undefined) config.forcePathStyle = options.forcePathStyle
    if (options.requestChecksumCalculation !== undefined) {
      config.requestChecksumCalculation = options.requestChecksumCalculation
    }
    if (options.region !== undefined) config.region = options.region
  }
  if (options.credentials !== undefined) config.credentials = options.credentials
  return new S3Client(config)
}

// Errors and redaction.

interface SdkErrorShape {
  readonly name?: string
  readonly code?: string
  readonly message?: string
  readonly $metadata?: { readonly httpStatusCode?: number; readonly attempts?: number; readonly requestId?: string }
  readonly cause?: unknown
}

const asShape = (error: unknown): SdkErrorShape => (typeof error === "object" && error !== null ? error : { message: String(error) })

const isTimeout = (error: unknown): boolean => {
  const shape = asShape(error)
  return shape.name === "TimeoutError" || shape.name === "RequestTimeout" || shape.code === "ETIMEDOUT" ||
    shape.name === "RequestTimeoutException"
}

const SECRET_PATTERNS: ReadonlyArray<RegExp> = [
  // Presigned URL query parameters (SigV4 and SigV2).
  /(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s"'<>]+/gi,
  /((?:AWSAccessKeyId|Signature|x-amz-security-token)=)[^&\s"'<>]+/gi,
  // Authorization headers.
  /(Credential=)[^,\s"'<>]+/gi,
  /(Signature=)[0-9a-f]{16,}/gi,
  // AWS access key ids (long-term AKIA, temporary ASIA).
  /()\b(?:AKIA|ASIA|AIDA|AROA)[0-9A-Z]{12,}\b/g
]

/** Secret values known to this process; redaction removes them wherever they appear. */
const knownSecrets = new Set<string>()

/** Adds secret values (keys, tokens) that `redact` must remove from any text. */
export const registerSecrets = (...values: ReadonlyArray<string | undefined>): void => {
  for (const value of values) if (value && value.length >= 4) knownSecrets.add(value)
}

/** Removes credentials, signatures and session tokens from a text. */
export const redact = (text: string): string => {
  let out = text
  for (const secret of knownSecrets) out = out.split(secret).join("[redacted]")
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, "$1[redacted]")
  return out
}

/** Formats an SDK error as one line with its name, message and HTTP status, secrets removed. */
export const describeSdkError = (error: unknown): string => {
  const shape = asShape(error)
  const name = shape.name ?? "Error"
  const status = shape.$metadata?.httpStatusCode
  const parts = [`${name}${shape.code && shape.code !== name ? ` (${shape.code})` : ""}`]
  if (shape.message && shape.message !== name && shape.message !== "UnknownError") parts.push(shape.message)
  if (status !== undefined) parts.push(`HTTP ${status}`)
  return redact(parts.join(": "))
}

/**
 * Copies the safe parts of an SDK error into a plain `Error`. SDK errors keep the
 * parsed XML error body and the raw response as properties, and S3's
 * SignatureDoesNotMatch body includes the access key id, so the raw error is never
 * stored as a cause.
 */
export const sanitizedCause = (error: unknown): Error => {
  const shape = asShape(error)
  const safe = new Error(describeSdkError(error))
  safe.name = shape.name ?? "Error"
  const details = safe as Error & { code?: string; httpStatusCode?: number; requestId?: string; attempts?: number }
  if (shape.code) details.code = shape.code
  if (shape.$metadata?.httpStatusCode !== undefined) details.httpStatusCode = shape.$metadata.httpStatusCode
  if (shape.$metadata?.requestId) details.requestId = shape.$metadata.requestId
  if (shape.$metadata?.attempts !== undefined) details.attempts = shape.$metadata.attempts
  return safe
}

const NOT_FOUND = new Set(["NoSuchKey", "NotFound", "NoSuchUpload", "NoSuchVersion"])
const ACCESS_DENIED = new Set([
  "AccessDenied",
  "AllAccessDisabled",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "CredentialsProviderError",
  "AccountProblem",
  "InvalidObjectState"
])
const THROTTLED = new Set(["SlowDown", "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"])
const TIMEOUT = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"])
const CONNECTION_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"])
const INVALID = new Set(["InvalidRange", "InvalidBucketName", "KeyTooLongError", "InvalidArgument", "InvalidRequest", "EntityTooLarge", "EntityTooSmall", "MalformedXML"])

/** Chooses the `StorageError` reason for an SDK error. */
export const reasonForSdkError = (error: unknown): StorageErrorReason => {
  const shape = asShape(error)
  const name = shape.name ?? ""
  const status = shape.$metadata?.httpStatusCode
  if (name === "NoSuchBucket" || NOT_FOUND.has(name) || status === 404) return "NotFound"
  if (name === "PreconditionFailed" || status === 412) return "AlreadyExists"
  if (ACCESS_DENIED.has(name) || status === 403 || status === 401) return "AccessDenied"
  if (THROTTLED.has(name) || status === 429) return "Throttled"
  if (shape.code === "ETIMEDOUT") return "Timeout"
  // The SDK names a reset connection TimeoutError with code ECONNRESET, so the code decides.
  if (CONNECTION_CODES.has(shape.code ?? "")) return "Unavailable"
  if (TIMEOUT.has(name)) return "Timeout"
  if (status !== undefined && status >= 500) return "Unavailable"
  if (INVALID.has(name) || status === 400 || status === 416 || status === 411) return "InvalidArgument"
  if (/region is missing/i.test(shape.message ?? "")) return "InvalidArgument"
  return "Unknown"
}

/** Advice appended to the error description for reasons a user can fix. */
const adviceFor = (error: unknown, reason: StorageErrorReason, bucket: string): string => {
  const shape = asShape(error)
  if (shape.name === "NoSuchBucket") {
    return `bucket "${bucket}" does not exist; create it or fix the bucket name in the URI`
  }
  if (/region is missing/i.test(shape.message ?? "")) {
    return "no AWS region is configured; set region in the S3 options, AWS_REGION, or the shared config file"
  }
  if (shape.name === "CredentialsProviderError") {
    return "no AWS credentials were found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure a profile or role"
  }
  if (reason === "AccessDenied") return "access denied; check the credentials and the bucket policy"
  return ""
}

/** Wraps any failure from the SDK as a `StorageError`, with no secrets in the message or cause. */
export const s3Error = (method: string, uri: string, bucket: string, error: unknown): StorageError => {
  if (error instanceof StorageError) return error
  const reason = reasonForSdkError(error)
  const attempts = asShape(error).$metadata?.attempts
  const advice = adviceFor(error, reason, bucket)
  const pieces = [advice, describeSdkError(error)].filter((piece) => piece.length > 0)
  if (attempts !== undefined && attempts > 1) pieces.push(`failed after ${attempts} attempts`)
  return new StorageError({ reason, method, uri, description: pieces.join("; "), cause: sanitizedCause(error) })
}
