/**
 * Starts an s3rver (an S3 protocol server that stores objects on disk) on a random
 * loopback port, for tests and benchmarks that need a real S3 endpoint.
 *
 * ```ts
 * const s3 = await startS3({ buckets: ["data"] })
 * const storage = makeS3Storage(s3.options)
 * // ... use s3://data/...
 * await s3.stop()
 * ```
 *
 * s3rver runs in a child process started with `--openssl-legacy-provider`: s3rver 3.7
 * encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node 17 and
 * later) only offers through the legacy provider, so without it every truncated listing
 * fails with HTTP 500. A separate process also keeps the server off the event loop of
 * the client under test. The child exits when its parent's stdin pipe closes, so a
 * crashed test run leaves no server behind.
 *
 * `startS3` sets `AWS_EC2_METADATA_DISABLED=true`, so no SDK client in the test
 * process requests credentials from the instance metadata service.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs/promises"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** The fixed key pair s3rver accepts (its built-in dummy account). */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const

export interface StartS3Options {
  /** Buckets to create before the server accepts requests. Default `["test"]`. */
  readonly buckets?: ReadonlyArray<string>
  /** Directory in which the server's temporary directory is created. Default `os.tmpdir()`. */
  readonly parentDirectory?: string
}

export interface RunningS3 {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string
  /** The first bucket in `buckets`. */
  readonly bucket: string
  /** Directory where s3rver keeps objects; removed by `stop`. */
  readonly directory: string
  /** Environment variables that point the AWS SDK at this server. */
  readonly env: Readonly<Record<string, string>>
  /** Options for `makeS3Storage` (and `S3Client`) that reach this server. */
  readonly options: {
    readonly endpoint: string
    readonly region: string
    readonly forcePathStyle: true
    readonly credentials: typeof S3RVER_CREDENTIALS
  }
  /** Creates another bucket on the running server. */
  readonly createBucket: (name: string) => Promise<void>
  /** Stops the server and removes its directory. */
  readonly stop: () => Promise<void>
}

const THIS_FILE = fileURLToPath(import.meta.url)

const waitForPort = (child: ChildProcess): Promise<number> =>
  new Promise((resolve, reject) => {
    let stdout = ""
    let stderr = ""
    const onExit = (code: number | null) =>
      reject(new Error(`s3rver exited with code ${code} before it listened: ${stderr.trim() || stdout.trim()}`))
    child.stderr?.on("data", (data: Buffer) => {
      stderr += data.toString()
    })
    child.stdout?.on("data", (data: Buffer) => {
      stdout += data.toString()
      const line = /^listening (\d+)$/m.exec(stdout)
      if (line) {
        child.off("exit", onExit)
        resolve(Number(line[1]))
      }
    })
    child.once("exit", onExit)
  })

/** Starts s3rver on 127.0.0.1 with a fresh temporary directory and the given buckets. */
export const startS3 = async (options: StartS3Options = {}): Promise<RunningS3> => {
  process.env.AWS_EC2_METADATA_DISABLED = "true"
  const buckets = options.buckets && options.buckets.length > 0 ? options.buckets : ["test"]
  const directory = await fs.mkdtemp(path.join(options.parentDirectory ?? os.tmpdir(), "mixwright-s3rver-"))
  for (const bucket of buckets) await fs.mkdir(path.join(directory, bucket))

  const child = spawn(process.execPath, ["--openssl-legacy-provider", THIS_FILE, "--serve", directory], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" }
  })
  let port: number
  try {
    port = await waitForPort(child)
  } catch (error) {
    child.kill("SIGKILL")
    await fs.rm(directory, { recursive: true, force: true })
    throw error
  }

  const endpoint = `http://127.0.0.1:${port}`
  let stopped = false
  return {
    endpoint,
    bucket: buckets[0],
    directory,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      AWS_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true"
    },
    options: { endpoint, region: "us-east-1", forcePathStyle: true, credentials: S3RVER_CREDENTIALS },
    // s3rver's filesystem store treats each directory under its root as a bucket.
    createBucket: async (name) => {
      await fs.mkdir(path.join(directory, name), { recursive: true })
    },
    stop: async () => {
      if (stopped) return
      stopped = true
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
        child.stdin?.end()
        child.kill("SIGTERM")
        await exited
      }
      await fs.rm(directory, { recursive: true, force: true })
    }
  }
}

/** The part of s3rver 3.7's API used here; the package ships no type declarations. */
interface S3rverServer {
  run(): Promise<{ port: number }>
  close(): Promise<void>
}
type S3rverConstructor = new (options: Record<string, unknown>) => S3rverServer

/** Child-process entry: serves `directory` on a random loopback port and prints the port. */
const serve = async (directory: string): Promise<void> => {
  const S3rver = createRequire(import.meta.url)("s3rver") as S3rverConstructor
  const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory })
  const { port } = await server.run()
  process.stdout.write(`listening ${port}\n`)
  const shutdown = () => {
    server.close().finally(() => process.exit(0))
  }
  process.stdin.on("end", shutdown)
  process.stdin.resume()
  process.on("SIGTERM", shutdown)
}

if (process.argv[1] === THIS_FILE && process.argv[2] === "--serve") {
  await serve(process.argv[3])
}
