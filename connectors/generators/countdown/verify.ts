/**
 * Verifier for Countdown answers.
 *
 * An answer is an infix expression over integers with `+ - * /` (also `x`, `×`, `÷`) and
 * parentheses, optionally followed by `= target`. It is correct when it uses exactly the
 * problem's numbers as a multiset and evaluates to the target. Arithmetic is exact
 * (rationals). In strict mode, the default, every intermediate result must also be a
 * positive integer, which is the rule the search generator follows.
 */

/** A Countdown problem: reach `target` from `numbers`, each used exactly once. */
export interface CountdownProblem {
  readonly numbers: ReadonlyArray<number>
  readonly target: number
}

export interface VerifyResult {
  readonly ok: boolean
  /** Why the answer failed, or `"correct"`. */
  readonly reason: string
  /** Exact value of the expression when it parsed, as `numerator/denominator` or an integer. */
  readonly value?: string
}

export interface VerifyOptions {
  /** Require every intermediate result to be a positive integer (default true). */
  readonly strict?: boolean
}

interface Fraction {
  readonly n: bigint
  readonly d: bigint
}

const gcd = (a: bigint, b: bigint): bigint => {
  let x = a < 0n ? -a : a
  let y = b < 0n ? -b : b
  while (y !== 0n) [x, y] = [y, x % y]
  return x
}

const fraction = (n: bigint, d: bigint): Fraction => {
  if (d < 0n) [n, d] = [-n, -d]
  const g = gcd(n, d)
  return g === 0n ? { n, d } : { n: n / g, d: d / g }
}

const formatFraction = (f: Fraction): string => (f.d === 1n ? `${f.n}` : `${f.n}/${f.d}`)

type Token = { readonly kind: "num"; readonly value: bigint } | { readonly kind: "op"; readonly value: string }

class ParseFailure extends Error {}

const tokenize = (text: string): Array<Token> => {
  const tokens: Array<Token> = []
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (c === " " || c === "\t" || c === "\n") {
      i++
    } else if (c >= "0" && c <= "9") {
      let j = i
      while (j < text.length && text[j] >= "0" && text[j] <= "9") j++
      tokens.push({ kind: "num", value: BigInt(text.slice(i, j)) })
      i = j
    } else if ("+-*/()".includes(c)) {
      tokens.push({ kind: "op", value: c })
      i++
    } else if (c === "x" || c === "×" || c === "X") {
      tokens.push({ kind: "op", value: "*" })
      i++
    } else if (c === "÷") {
      tokens.push({ kind: "op", value: "/" })
      i++
    } else {
      throw new ParseFailure(`unexpected character '${c}' at offset ${i}`)
    }
  }
  return tokens
}

interface EvalState {
  readonly tokens: ReadonlyArray<Token>
  pos: number
  readonly used: Array<number>
  readonly strict: boolean
  violation: string | undefined
}

const checkIntermediate = (state: EvalState, value: Fraction, text: string): void => {
  if (state.strict && state.violation === undefined && (value.d !== 1n || value.n <= 0n)) {
    state.violation = `intermediate result ${text} = ${formatFraction(value)} is not a positive integer`
  }
}

const parsePrimary = (state: EvalState): Fraction => {
  const token = state.tokens[state.pos]
  if (token === undefined) throw new ParseFailure("expression ends early")
  if (token.kind === "num") {
    state.pos++
    state.used.push(Number(token.value))
    return fraction(token.value, 1n)
  }
  if (token.value === "(") {
    state.pos++
    const inner = parseSum(state)
    const close = state.tokens[state.pos]
    if (close === undefined || close.value !== ")") throw new ParseFailure("missing ')'")
    state.pos++
    return inner
  }
  throw new ParseFailure(`unexpected '${token.value}'`)
}

const parseProduct = (state: EvalState): Fraction => {
  let left = parsePrimary(state)
  for (;;) {
    const token = state.tokens[state.pos]
    if (token === undefined || token.kind !== "op" || (token.value !== "*" && token.value !== "/")) return left
    state.pos++
    const right = parsePrimary(state)
    const text = `${formatFraction(left)}${token.value}${formatFraction(right)}`
    if (token.value === "*") {
      left = fraction(left.n * right.n, left.d * right.d)
    } else {
      if (right.n === 0n) throw new ParseFailure("division by zero")
      left = fraction(left.n * right.d, left.d * right.n)
    }
    checkIntermediate(state, left, text)
  }
}

const parseSum = (state: EvalState): Fraction => {
  let left = parseProduct(state)
  for (;;) {
    const token = state.tokens[state.pos]
    if (token === undefined || token.kind !== "op" || (token.value !== "+" && token.value !== "-")) return left
    state.pos++
    const right = parseProduct(state)
    const text = `${formatFraction(left)}${token.value}${formatFraction(right)}`
    left = token.value === "+"
      ? fraction(left.n * right.d + right.n * left.d, left.d * right.d)
      : fraction(left.n * right.d - right.n * left.d, left.d * right.d)
    checkIntermediate(state, left, text)
  }
}

const sameMultiset = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean => {
  if (a.length !== b.length) return false
  const x = [...a].sort((p, q) => p - q)
  const y = [...b].sort((p, q) => p - q)
  return x.every((v, i) => v === y[i])
}

/**
 * Checks an answer expression against a problem.
 *
 * Accepts `(25-5)+4`, `(25-5)+4 = 24` and a leading `Answer:`; a trailing `= N` must
 * equal the target.
 */
export const verifyCountdown = (
  problem: CountdownProblem,
  answer: string,
  options: VerifyOptions = {}
): VerifyResult => {
  let text = answer.trim().replace(/^answer\s*:\s*/i, "")
  if (text.length === 0) return { ok: false, reason: "empty answer" }

  const eq = text.split("=")
  if (eq.length > 2) return { ok: false, reason: "more than one '=' in the answer" }
  if (eq.length === 2) {
    const claimed = eq[1].trim()
    if (!/^\d+$/.test(claimed) || Number(claimed) !== problem.target) {
      return { ok: false, reason: `answer claims '= ${claimed}' but the target is ${problem.target}` }
    }
    text = eq[0]
  }

  let tokens: Array<Token>
  try {
    tokens = tokenize(text)
  } catch (error) {
    return { ok: false, reason: `cannot parse the answer: ${(error as Error).message}` }
  }
  const state: EvalState = { tokens, pos: 0, used: [], strict: options.strict ?? true, violation: undefined }
  let value: Fraction
  try {
    value = parseSum(state)
    if (state.pos !== tokens.length) throw new ParseFailure(`unexpected '${tokens[state.pos].value}' after the expression`)
  } catch (error) {
    return { ok: false, reason: `cannot parse the answer: ${(error as Error).message}` }
  }

  const shown = formatFraction(value)
  if (!sameMultiset(state.used, problem.numbers)) {
    return {
      ok: false,
      reason: `answer uses [${state.used.join(", ")}] but the problem gives [${problem.numbers.join(", ")}]; each number must be used exactly once`,
      value: shown
    }
  }
  if (value.d !== 1n || value.n !== BigInt(problem.target)) {
    return { ok: false, reason: `answer evaluates to ${shown}, not the target ${problem.target}`, value: shown }
  }
  if (state.violation !== undefined) return { ok: false, reason: state.violation, value: shown }
  return { ok: true, reason: "correct", value: shown }
}
