/**
 * The intermediate representation the compiler lowers a recipe into.
 *
 * A node is one unit of work with content-derived identity: its id hashes the kind,
 * the canonical params, the ids of its inputs and the operator version (see
 * `hash.ts`). The runtime executes nodes; it never reads the recipe again.
 */

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | ReadonlyArray<JsonValue>
  | { readonly [key: string]: JsonValue }

/**
 * Node kinds, in pipeline order.
 *
 * - `read`: reads one source's files into rows (one shard per file).
 * - `generate`: runs a synthetic data generator (program or LLM endpoint).
 * - `filter`: drops rows by quality, length, language or QDC rules.
 * - `dedup`: removes exact or near duplicates (MinHash LSH).
 * - `tokenize`: encodes a text field with a named tokenizer.
 * - `mix`: samples components to token targets, shuffles and packs sequences.
 * - `export`: writes a mix in a trainer's format (Megatron indexed dataset, Parquet).
 * - `qdc`: measures quality, diversity and complexity of a dataset.
 * - `stage`: a training stage; lowered so that plans and configs can name it.
 */
export type NodeKind = "read" | "generate" | "filter" | "dedup" | "tokenize" | "mix" | "export" | "qdc" | "stage"

export interface IrNode {
  /** Hex content hash of kind, params, inputs and version (64 chars); plans print the first 12. */
  readonly id: string
  readonly kind: NodeKind
  /** Human name, unique within a plan, such as `read:refinedweb` or `mix:pretrain`. */
  readonly name: string
  /** Canonical parameters; everything the operator needs and nothing cosmetic. */
  readonly params: { readonly [key: string]: JsonValue }
  /** Ids of input nodes, in the order the operator consumes them. */
  readonly inputs: ReadonlyArray<string>
  /** Operator version; bumping it invalidates every node of the kind. */
  readonly version: string
}
