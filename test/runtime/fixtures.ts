/**
 * Hand-made plans for runtime tests, built the way the compiler builds them: node ids
 * are content hashes, so changing one node's params changes its id and its
 * descendants' ids.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import type { IrNode, JsonValue, NodeKind } from "../../compiler/ir.ts"
import { nodeId } from "../../compiler/hash.ts"
import { StorageLive } from "../../connectors/storage/layer.ts"
import { TEMP_PREFIX } from "../../connectors/storage/local.ts"
import type { Storage } from "../../connectors/storage/Storage.ts"
import type { ExecutablePlan } from "../../runtime/executor/types.ts"
import { SHARED_DATA } from "../support/data.ts"

export const DATA = SHARED_DATA
export const WEBTEXT = path.join(DATA, "webtext")
export const C4_DEMO = path.join(WEBTEXT, "hiyouga__LLaMA-Factory/data/c4_demo.jsonl")
export const MIXTURE_DIR = path.join(WEBTEXT, "modelscope__data-juicer/demos/data_mixture/data")
export const SAMPLE_PARQUET = path.join(DATA, "parquet/modelscope__data-juicer/tests/core/data/test_data/parquet/sample.parquet")

/** Whether the shared real-data folder exists; tests that need it skip otherwise. */
export const hasData = fs.existsSync(C4_DEMO) && fs.existsSync(MIXTURE_DIR) && fs.existsSync(SAMPLE_PARQUET)

export class PlanBuilder {
  readonly nodes: Array<IrNode> = []

  add(kind: NodeKind, name: string, params: { readonly [key: string]: JsonValue }, inputs: ReadonlyArray<string> = []): string {
    const version = "1"
    const id = nodeId({ kind, params, inputs, version })
    this.nodes.push({ id, kind, name, params, inputs, version })
    return id
  }

  plan(): ExecutablePlan {
    return { nodes: [...this.nodes] }
  }
}

export const readParams = (source: string, uris: ReadonlyArray<string>, options: { format?: string; onError?: "fail" | "skip"; fields?: Record<string, string> } = {}) => ({
  source,
  uris: [...uris],
  format: options.format ?? "jsonl",
  fields: options.fields ?? { text: "text" },
  onError: options.onError ?? "fail",
  maxRecordBytes: 1 << 20
})

export interface PipelineOptions {
  /** Gopher quality `minWords` of the web source's filter. */
  readonly minWords?: number
  readonly seed?: number
  readonly totalTokens?: number
}

/**
 * read (c4 demo, 300 docs) -> filter -> dedup -> tokenize, read (RedPajama samples,
 * 5 files) -> dedup -> tokenize, then mix 30/70 and a Megatron export of both.
 */
export const pipelinePlan = (options: PipelineOptions = {}): ExecutablePlan => {
  const plan = new PlanBuilder()
  const web = plan.add("read", "read:web", readParams("web", [C4_DEMO]))
  const filtered = plan.add("filter", "filter:web", {
    field: "text",
    rules: [{ rule: "gopher_quality", minWords: options.minWords ?? 50 }, { rule: "gopher_repetition" }]
  }, [web])
  const webDedup = plan.add("dedup", "dedup:web", { method: "exact", field: "text", ngram: 5, bands: 14, rows: 8, threshold: 0.8, seed: 0 }, [filtered])
  const webTokens = plan.add("tokenize", "tokenize:web", { tokenizer: "cl100k_base", field: "text", appendEos: true }, [webDedup])

  const mixture = plan.add("read", "read:mixture", readParams("mixture", [path.join(MIXTURE_DIR, "*.jsonl")]))
  const mixtureDedup = plan.add("dedup", "dedup:mixture", { method: "exact", field: "text", ngram: 5, bands: 14, rows: 8, threshold: 0.8, seed: 0 }, [mixture])
  const mixtureTokens = plan.add("tokenize", "tokenize:mixture", { tokenizer: "cl100k_base", field: "text", appendEos: true }, [mixtureDedup])

  const total = options.totalTokens ?? 120_000
  const webTarget = Math.round(total * 0.3)
  plan.add("mix", "mix:pretrain", {
    seed: options.seed ?? 1234,
    sequenceLength: 1024,
    packing: "concat",
    totalTokens: total,
    components: [
      { name: "web", category: "web", weight: 0.3, tokens: webTarget },
      { name: "mixture", category: "web", weight: 0.7, tokens: total - webTarget }
    ]
  }, [webTokens, mixtureTokens])
  plan.add("export", "export:pretrain", {
    format: "megatron",
    dtype: "uint32",
    components: [{ name: "web", weight: 0.3 }, { name: "mixture", weight: 0.7 }]
  }, [webTokens, mixtureTokens])
  return plan.plan()
}

export const runLocal = <A, E>(effect: Effect.Effect<A, E, Storage>): Promise<A> => Effect.runPromise(Effect.provide(effect, StorageLive))

/**
 * Hashes every file under `dir` (recursively) into relative path -> sha256. JSON
 * records are skipped because they hold timings, and so are the storage layer's
 * temporary files, which a killed process leaves behind and listings never show.
 */
export const dataFileHashes = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {}
  const walk = (current: string): void => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.name.startsWith(TEMP_PREFIX)) continue
      else if (!entry.name.endsWith(".json") || entry.name === "blend.json") {
        out[path.relative(dir, full)] = createHash("sha256").update(fs.readFileSync(full)).digest("hex")
      }
    }
  }
  if (fs.existsSync(dir)) walk(dir)
  return out
}

export const tempRoot = (label: string): string => fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? "/tmp"), `mixwright-${label}-`))
