export * from "./compare.ts"
export * from "./svg.ts"
