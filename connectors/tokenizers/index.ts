export * from "./arcade100k.ts"
export * from "./tokenizeBatch.ts"
export * from "./Tokenizer.ts"
