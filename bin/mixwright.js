#!/usr/bin/env node
// Starts the TypeScript CLI on Node >= 22. When the node on PATH is older, it re-runs
// the CLI with the Node 24 runtime from the project's `node` devDependency.
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const entry = join(root, "cli", "entry.ts")
const major = Number(process.versions.node.split(".")[0])

if (major >= 22) {
  await import(entry)
} else {
  const bundled = join(root, "node_modules", "node", "bin", "node")
  if (!existsSync(bundled)) {
    console.error(`mixwright needs Node.js >= 22 (found ${process.versions.node}); run npm install in ${root} or upgrade Node.js`)
    process.exit(1)
  }
  const result = spawnSync(bundled, [entry, ...process.argv.slice(2)], { stdio: "inherit" })
  process.exit(result.status ?? 1)
}
