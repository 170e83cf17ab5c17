/**
 * Planning time and memory for a generated recipe with 10,000 sources.
 *
 * Each source has a two-filter, one-dedup pipeline and is tokenized for one mix, so
 * the plan has 5 nodes per source plus the mix and its export: 50,002 nodes.
 *
 *   npx node bench/plan.ts [--sources 10000]
 */
import { Effect } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as os from "node:os"
import * as path from "node:path"
import { buildPlan } from "../compiler/plan.ts"
import { loadRecipe } from "../compiler/recipe/load.ts"

const argument = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}
const sourceCount = argument("sources", 10_000)

const sources: Record<string, unknown> = {}
const components: Array<unknown> = []
for (let i = 0; i < sourceCount; i++) {
  const name = `source_${String(i).padStart(5, "0")}`
  sources[name] = {
    uri: `s3://corpus/${name}/*.parquet`,
    size: { tokens: 1_000_000 + i * 37 },
    category: ["Web", "Code", "Books", "Math"][i % 4],
    transforms: "clean"
  }
  components.push(i % 3 === 0 ? { source: name, epochs: 1 + (i % 4) / 2 } : { source: name, weight: (1 + (i % 7)) / 10 })
}
const recipe = {
  name: "generated",
  sources,
  transforms: {
    clean: [
      { filter: { rules: [{ rule: "gopher_quality" }] } },
      { filter: { rules: [{ rule: "c4" }] } },
      { dedup: { method: "exact" } }
    ]
  },
  mixes: { main: { components, totalTokens: "20B", tokenizer: "cl100k_base", export: "megatron" } }
}

const file = process.env.BENCH_FILE ?? path.join(mkdtempSync(path.join(tmpdir(), "mixwright-bench-")), "generated.json")
writeFileSync(file, JSON.stringify(recipe))

let peakRss = process.memoryUsage().rss
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5)
const baselineRss = process.memoryUsage().rss
const start = performance.now()
const plan = await Effect.runPromise(loadRecipe(file).pipe(Effect.flatMap((loaded) => buildPlan(loaded))))
const seconds = (performance.now() - start) / 1000
peakRss = Math.max(peakRss, process.memoryUsage().rss)
clearInterval(sampler)

const result = {
  sources: sourceCount,
  nodes: plan.nodes.length,
  seconds: Number(seconds.toFixed(3)),
  peakRssMb: Math.round(peakRss / 2 ** 20),
  rssGrowthMb: Math.round((peakRss - baselineRss) / 2 ** 20),
  machine: `${os.cpus()[0]?.model ?? "unknown cpu"}, ${os.cpus().length} cores, Node ${process.versions.node}`
}
console.log(JSON.stringify(result, null, 2))
