/**
 * The operator of each node kind. The table is typed by `NodeKind`, so adding a kind
 * to the IR without an operator fails the type check.
 */
import { Effect } from "effect"
import type { IrNode, NodeKind } from "../../compiler/ir.ts"
import { RunError } from "../executor/errors.ts"
import { dedupOperator } from "./dedup.ts"
import { exportOperator } from "./export.ts"
import { filterOperator } from "./filter.ts"
import { generateOperator } from "./generate.ts"
import { mixOperator } from "./mix.ts"
import { qdcOperator } from "./qdc.ts"
import { readOperator } from "./read.ts"
import { tokenizeOperator } from "./tokenize.ts"
import type { Operator } from "./types.ts"

/** `stage` nodes are training jobs; the executor reports them as `external` and never calls this. */
const stageOperator: Operator = {
  shardCount: () => Effect.succeed(0),
  runShard: (context) =>
    Effect.fail(new RunError({ reason: "Unsupported", node: context.node.name, description: "stage nodes are run by a trainer, not by the data runtime" }))
}

export const OPERATORS: Record<NodeKind, Operator> = {
  read: readOperator,
  generate: generateOperator,
  filter: filterOperator,
  dedup: dedupOperator,
  tokenize: tokenizeOperator,
  mix: mixOperator,
  export: exportOperator,
  qdc: qdcOperator,
  stage: stageOperator
}

export const operatorFor = (node: IrNode): Operator => OPERATORS[node.kind]
