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
import { mixOperator } from "./mix.ts"
import { readOperator } from "./read.ts"
import { tokenizeOperator } from "./tokenize.ts"
import type { Operator } from "./types.ts"

/** An operator for kinds this runtime does not execute yet; every call fails with `Unsupported`. */
const unsupported = (kind: NodeKind, hint: string): Operator => {
  const fail = (node: IrNode) =>
    Effect.fail(new RunError({ reason: "Unsupported", node: node.name, description: `${kind} nodes are not executed by this runtime yet; ${hint}` }))
  return {
    shardCount: (context) => fail(context.node),
    runShard: (context) => fail(context.node)
  }
}

/** `stage` nodes are training jobs; the executor reports them as `external` and never calls this. */
const stageOperator: Operator = {
  shardCount: () => Effect.succeed(0),
  runShard: (context) =>
    Effect.fail(new RunError({ reason: "Unsupported", node: context.node.name, description: "stage nodes are run by a trainer, not by the data runtime" }))
}

export const OPERATORS: Record<NodeKind, Operator> = {
  read: readOperator,
  // TODO: wrap connectors/generators once its entry point is settled.
  generate: unsupported("generate", "remove the generator from the recipe or run it separately"),
  filter: filterOperator,
  dedup: dedupOperator,
  tokenize: tokenizeOperator,
  mix: mixOperator,
  export: exportOperator,
  // TODO: wrap runtime/ops/qdc once it exists.
  qdc: unsupported("qdc", "remove the qdc step from the recipe"),
  stage: stageOperator
}

export const operatorFor = (node: IrNode): Operator => OPERATORS[node.kind]
