export * from "./generate.ts"
export * from "./problems.ts"
export * from "./search.ts"
export * from "./verify.ts"
