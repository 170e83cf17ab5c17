import { describe, expect, it } from "vitest"
import { reasonForSdkError, redact, s3Error } from "../../connectors/storage/s3-client.ts"

describe("S3 error mapping", () => {
  const table: ReadonlyArray<readonly [error: object, reason: string]> = [
    [{ name: "NoSuchKey", $metadata: { httpStatusCode: 404 } }, "NotFound"],
    [{ name: "NotFound", $metadata: { httpStatusCode: 404 } }, "NotFound"],
    [{ name: "NoSuchBucket", $metadata: { httpStatusCode: 404 } }, "NotFound"],
    [{ name: "PreconditionFailed", $metadata: { httpStatusCode: 412 } }, "AlreadyExists"],
    [{ name: "AccessDenied", $metadata: { httpStatusCode: 403 } }, "AccessDenied"],
    [{ name: "Forbidden", $metadata: { httpStatusCode: 403 } }, "AccessDenied"],
    [{ name: "CredentialsProviderError", message: "Could not load credentials from any providers" }, "AccessDenied"],
    [{ name: "SlowDown", $metadata: { httpStatusCode: 503 } }, "Throttled"],
    [{ name: "TooManyRequests", $metadata: { httpStatusCode: 429 } }, "Throttled"],
    [{ name: "TimeoutError", code: "ETIMEDOUT" }, "Timeout"],
    [{ name: "TimeoutError", code: "ECONNRESET" }, "Unavailable"],
    [{ name: "Error", code: "ECONNREFUSED" }, "Unavailable"],
    [{ name: "InternalError", $metadata: { httpStatusCode: 500 } }, "Unavailable"],
    [{ name: "InvalidRange", $metadata: { httpStatusCode: 416 } }, "InvalidArgument"],
    [{ name: "Error", message: "Region is missing" }, "InvalidArgument"],
    [{ name: "Weird", $metadata: { httpStatusCode: 418 } }, "Unknown"]
  ]
  for (const [error, reason] of table) {
    it(`maps ${(error as { name: string }).name} ${JSON.stringify((error as { code?: string }).code ?? "")} to ${reason}`, () => {
      expect(reasonForSdkError(error)).toBe(reason)
    })
  }

  it("names the bucket for NoSuchBucket", () => {
    const error = s3Error("read", "s3://gone/key", "gone", { name: "NoSuchBucket", message: "The specified bucket does not exist", $metadata: { httpStatusCode: 404 } })
    expect(error.reason).toBe("NotFound")
    expect(error.message).toBe(
      `StorageError: Storage.read (s3://gone/key): bucket "gone" does not exist; create it or fix the bucket name in the URI; ` +
        "NoSuchBucket: The specified bucket does not exist: HTTP 404"
    )
  })

  it("says how to fix missing credentials and region", () => {
    expect(s3Error("list", "s3://b/", "b", { name: "CredentialsProviderError", message: "Could not load credentials" }).message)
      .toContain("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    expect(s3Error("list", "s3://b/", "b", { name: "Error", message: "Region is missing" }).message).toContain("set region")
  })

  it("redacts key ids and signed URL parameters", () => {
    const text = "GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAABCDEFGHIJKLMNOP%2F2026&X-Amz-Signature=0123456789abcdef0123 from ASIAABCDEFGHIJKLMNOP"
    const out = redact(text)
    expect(out).not.toContain("AKIAABCDEFGHIJKLMNOP")
    expect(out).not.toContain("ASIAABCDEFGHIJKLMNOP")
    expect(out).not.toContain("0123456789abcdef0123")
    expect(out).toContain("https://b.s3.amazonaws.com/k")
  })
})
