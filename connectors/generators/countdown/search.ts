/**
 * BFS, DFS and best-first search over Countdown states, linearized as a text trace.
 *
 * A state is the multiset of numbers still available, kept sorted in descending order.
 * A move takes two numbers a >= b and replaces them with a+b, a-b (a > b), a*b or a/b
 * (when b divides a), so every intermediate result is a positive integer. The goal is a
 * state holding exactly one number, equal to the target: every given number is used once.
 *
 * The trace format is documented in docs/generators.md. Line shapes:
 *   Current state: [25, 5, 4], target 24.            expanding a state (root)
 *   Current state: [20, 4], target 24, after 25-5=20. expanding a later state
 *   Try 20+4=24 -> [24]                              a move and the state it produces
 *   Try 4+3=7 -> [25, 7] (seen before, skip)         the state was already produced
 *   Try 20*4=80 -> [80] (not the target)             a final number that misses the target
 *   Dead end at [20, 4].                             no move from a state reached the goal
 *   Backtrack to [25, 5, 4].                         search resumes from a state it did not just produce
 *   Goal reached: 25-5=20, 20+4=24.                  the moves from the root to the goal
 *   Answer: (25-5)+4
 *   Node budget of 1000 exhausted: no solution found.
 *   Search space exhausted: no solution exists.
 */
import type { CountdownProblem } from "./verify.ts"

export const SearchAlgorithms = ["bfs", "dfs", "best-first"] as const
export type SearchAlgorithm = (typeof SearchAlgorithms)[number]

export const HeuristicNames = ["distance", "sum-distance", "factor-distance"] as const
export type HeuristicName = (typeof HeuristicNames)[number]

export interface SearchOptions {
  readonly search: SearchAlgorithm
  /** Used by best-first only; lower values are expanded first. Default `distance`. */
  readonly heuristic?: HeuristicName
  /** Maximum number of expanded states before the search gives up. */
  readonly maxNodes: number
}

export interface SearchResult {
  readonly trace: string
  /** Answer expression, or `""` when no solution was found. */
  readonly answer: string
  readonly solved: boolean
  /** States expanded (the `Current state` lines). */
  readonly nodesExpanded: number
  /** Moves from the root to the goal when solved, else the deepest expanded state's depth. */
  readonly depth: number
  /** Number of `Backtrack to` lines. */
  readonly backtracks: number
  /** Why the search stopped. */
  readonly outcome: "solved" | "budget" | "exhausted"
}

interface SearchNode {
  readonly id: number
  readonly parent: number
  readonly values: ReadonlyArray<number>
  readonly exprs: ReadonlyArray<string>
  readonly steps: ReadonlyArray<string>
}

interface Move {
  readonly step: string
  readonly child: SearchNode
}

const divisorsOf = (n: number): Array<number> => {
  const out: Array<number> = []
  for (let d = 1; d * d <= n; d++) {
    if (n % d === 0) {
      out.push(d)
      if (d * d !== n) out.push(n / d)
    }
  }
  return out
}

/** Builds the named heuristic for one target. Each returns a non-negative score, 0 at the goal. */
export const makeHeuristic = (name: HeuristicName, target: number): (values: ReadonlyArray<number>) => number => {
  switch (name) {
    case "distance":
      // Distance from the closest available number to the target.
      return (values) => Math.min(...values.map((v) => Math.abs(target - v)))
    case "sum-distance":
      // Distance between the sum of all numbers and the target.
      return (values) => Math.abs(target - values.reduce((a, b) => a + b, 0))
    case "factor-distance": {
      // Distance from the closest number to the closest divisor of the target: a number near
      // a divisor can be scaled by multiplication.
      const divisors = target > 0 ? divisorsOf(target) : [0]
      return (values) => Math.min(...values.map((v) => Math.min(...divisors.map((d) => Math.abs(v - d)))))
    }
  }
}

const show = (values: ReadonlyArray<number>): string => `[${values.join(", ")}]`
const stateKey = (values: ReadonlyArray<number>): string => values.join(",")
const stripOuter = (expr: string): string => (expr.startsWith("(") && expr.endsWith(")") && balancedInside(expr) ? expr.slice(1, -1) : expr)

const balancedInside = (expr: string): boolean => {
  let depth = 0
  for (let i = 1; i < expr.length - 1; i++) {
    if (expr[i] === "(") depth++
    else if (expr[i] === ")") depth--
    if (depth < 0) return false
  }
  return depth === 0
}

/** Lists the moves from a node in a fixed order: pairs (i < j) left to right, then + - * /. */
const expand = (node: SearchNode, nextId: () => number): Array<Move> => {
  const moves: Array<Move> = []
  const { values, exprs } = node
  // Equal numbers give identical moves, so each (a, b) value pair is tried once.
  const triedPairs = new Set<string>()
  for (let i = 0; i < values.length; i++) {
    for (let j = i + 1; j < values.length; j++) {
      const a = values[i]
      const b = values[j]
      const pairKey = `${a},${b}`
      if (triedPairs.has(pairKey)) continue
      triedPairs.add(pairKey)
      const results: Array<readonly [string, number]> = [["+", a + b]]
      if (a > b) results.push(["-", a - b])
      results.push(["*", a * b])
      if (b > 0 && a % b === 0) results.push(["/", a / b])
      for (const [op, value] of results) {
        const rest: Array<[number, string]> = []
        for (let k = 0; k < values.length; k++) if (k !== i && k !== j) rest.push([values[k], exprs[k]])
        rest.push([value, `(${exprs[i]}${op}${exprs[j]})`])
        rest.sort((p, q) => q[0] - p[0])
        const step = `${a}${op}${b}=${value}`
        moves.push({
          step,
          child: {
            id: nextId(),
            parent: node.id,
            values: rest.map((r) => r[0]),
            exprs: rest.map((r) => r[1]),
            steps: [...node.steps, step]
          }
        })
      }
    }
  }
  return moves
}

/** A binary min-heap on (priority, insertion order), so ties expand first-in first-out. */
class MinHeap<A> {
  private readonly items: Array<{ readonly key: number; readonly seq: number; readonly value: A }> = []
  private seq = 0
  get size(): number {
    return this.items.length
  }
  push(key: number, value: A): void {
    const items = this.items
    items.push({ key, seq: this.seq++, value })
    let i = items.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(i, p)) break
      ;[items[i], items[p]] = [items[p], items[i]]
      i = p
    }
  }
  pop(): A | undefined {
    const items = this.items
    if (items.length === 0) return undefined
    const top = items[0]
    const last = items.pop()!
    if (items.length > 0) {
      items[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < items.length && this.less(l, m)) m = l
        if (r < items.length && this.less(r, m)) m = r
        if (m === i) break
        ;[items[i], items[m]] = [items[m], items[i]]
        i = m
      }
    }
    return top.value
  }
  private less(i: number, j: number): boolean {
    const a = this.items[i]
    const b = this.items[j]
    return a.key < b.key || (a.key === b.key && a.seq < b.seq)
  }
}

/** Runs one search on a problem and returns its linearized trace and statistics. */
export const searchCountdown = (problem: CountdownProblem, options: SearchOptions): SearchResult => {
  const { target } = problem
  const lines: Array<string> = []
  let idCounter = 0
  const nextId = () => ++idCounter
  const initialValues = [...problem.numbers].sort((a, b) => b - a)
  const root: SearchNode = { id: 0, parent: -1, values: initialValues, exprs: initialValues.map(String), steps: [] }
  const heuristic = options.search === "best-first" ? makeHeuristic(options.heuristic ?? "distance", target) : undefined

  let nodesExpanded = 0
  let backtracks = 0
  let maxDepth = 0
  const visited = new Set<string>([stateKey(root.values)])

  const currentLine = (node: SearchNode): string =>
    node.steps.length === 0
      ? `Current state: ${show(node.values)}, target ${target}.`
      : `Current state: ${show(node.values)}, target ${target}, after ${node.steps.join(", ")}.`

  const finish = (goal: SearchNode | undefined, outcome: SearchResult["outcome"]): SearchResult => {
    let answer = ""
    if (goal !== undefined) {
      answer = stripOuter(goal.exprs[0])
      lines.push(goal.steps.length === 0 ? "Goal reached: the only number is the target." : `Goal reached: ${goal.steps.join(", ")}.`)
      lines.push(`Answer: ${answer}`)
    } else if (outcome === "budget") {
      lines.push(`Node budget of ${options.maxNodes} exhausted: no solution found.`)
    } else {
      lines.push("Search space exhausted: no solution exists.")
    }
    return {
      trace: lines.join("\n"),
      answer,
      solved: goal !== undefined,
      nodesExpanded,
      depth: goal !== undefined ? goal.steps.length : maxDepth,
      backtracks,
      outcome
    }
  }

  const isGoal = (node: SearchNode): boolean => node.values.length === 1 && node.values[0] === target
  if (isGoal(root)) return finish(root, "solved")

  /** Writes the Try line for a move; returns what the search should do with the child. */
  const tryMove = (move: Move): "goal" | "leaf" | "seen" | "open" => {
    const { child, step } = move
    const head = `Try ${step} -> ${show(child.values)}`
    if (child.values.length === 1) {
      if (isGoal(child)) {
        lines.push(head)
        return "goal"
      }
      lines.push(`${head} (not the target)`)
      return "leaf"
    }
    const key = stateKey(child.values)
    if (visited.has(key)) {
      lines.push(`${head} (seen before, skip)`)
      return "seen"
    }
    visited.add(key)
    lines.push(heuristic === undefined ? head : `${head} h=${heuristic(child.values)}`)
    return "open"
  }

  if (options.search === "dfs") {
    // Depth-first: descend into each open child as soon as it is produced.
    let goal: SearchNode | undefined
    let budgetHit = false
    const visit = (node: SearchNode): boolean => {
      if (nodesExpanded >= options.maxNodes) {
        budgetHit = true
        return true
      }
      nodesExpanded++
      maxDepth = Math.max(maxDepth, node.steps.length)
      lines.push(currentLine(node))
      const moves = expand(node, nextId)
      for (let m = 0; m < moves.length; m++) {
        const outcome = tryMove(moves[m])
        if (outcome === "goal") {
          goal = moves[m].child
          return true
        }
        if (outcome !== "open") continue
        if (visit(moves[m].child)) return true
        if (m < moves.length - 1) {
          backtracks++
          lines.push(`Backtrack to ${show(node.values)}.`)
        }
      }
      lines.push(`Dead end at ${show(node.values)}.`)
      return false
    }
    visit(root)
    return finish(goal, goal !== undefined ? "solved" : budgetHit ? "budget" : "exhausted")
  }

  // Breadth-first uses a FIFO queue; best-first a min-heap on the heuristic.
  const heap = new MinHeap<SearchNode>()
  const queue: Array<SearchNode> = []
  let head = 0
  const push = (node: SearchNode) => (heuristic === undefined ? queue.push(node) : heap.push(heuristic(node.values), node))
  const pop = (): SearchNode | undefined => (heuristic === undefined ? queue[head++] : heap.pop())
  const frontierSize = () => (heuristic === undefined ? queue.length - head : heap.size)

  push(root)
  let lastExpanded = -1
  while (frontierSize() > 0) {
    if (nodesExpanded >= options.maxNodes) return finish(undefined, "budget")
    const node = pop()!
    if (lastExpanded !== -1 && node.parent !== lastExpanded) {
      backtracks++
      lines.push(`Backtrack to ${show(node.values)}.`)
    }
    lastExpanded = node.id
    nodesExpanded++
    maxDepth = Math.max(maxDepth, node.steps.length)
    lines.push(currentLine(node))
    let opened = 0
    for (const move of expand(node, nextId)) {
      const outcome = tryMove(move)
      if (outcome === "goal") return finish(move.child, "solved")
      if (outcome === "open") {
        opened++
        push(move.child)
      }
    }
    if (opened === 0) lines.push(`Dead end at ${show(node.values)}.`)
  }
  return finish(undefined, "exhausted")
}

/**
 * Lists every target reachable from `numbers` using all of them, under the positive-integer
 * rule. Cost grows fast with the count of numbers; intended for five numbers or fewer.
 */
export const reachableTargets = (numbers: ReadonlyArray<number>): Set<number> => {
  const memo = new Map<string, Set<number>>()
  const walk = (values: ReadonlyArray<number>): Set<number> => {
    const key = stateKey(values)
    const cached = memo.get(key)
    if (cached !== undefined) return cached
    const out = new Set<number>()
    if (values.length === 1) out.add(values[0])
    for (let i = 0; i < values.length; i++) {
      for (let j = i + 1; j < values.length; j++) {
        const a = values[i]
        const b = values[j]
        const results = [a + b, a * b]
        if (a > b) results.push(a - b)
        if (b > 0 && a % b === 0) results.push(a / b)
        const rest: Array<number> = []
        for (let k = 0; k < values.length; k++) if (k !== i && k !== j) rest.push(values[k])
        for (const r of results) {
          for (const t of walk([...rest, r].sort((p, q) => q - p))) out.add(t)
        }
      }
    }
    memo.set(key, out)
    return out
  }
  return walk([...numbers].sort((a, b) => b - a))
}
