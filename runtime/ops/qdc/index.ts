export * from "./metrics.ts"
export * from "./minhash.ts"
export * from "./select.ts"
export * from "./text.ts"
